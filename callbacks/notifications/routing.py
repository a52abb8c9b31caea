"""Who is told what: the one place that decides the recipients of every notification.

Staff hear of every new request (emergency and urgent ones at the urgent address, and by webhook when one is
set; the rest at the front desk), and again, the same way, when later answers raise its priority; the patient
gets a confirmation when they gave an e-mail address and the clinic sends confirmations; the escalation address
hears of an overdue request; the patient hears of staff decisions on an appointment (and of the clinic cancelling
it) and gets a reminder; the front desk and the patient hear of a patient's cancellation; staff and the patient
hear of a patient's move, and the patient of the front desk's move; the patient gets one message for a whole
course of care's sessions; the urgent address hears of a text to the patient of an emergency or urgent request
that failed, and of a red-flag text from a number no request has; a waitlisted patient is offered a freed
slot; a patient gets each outcome follow-up; a member of staff and the administrators hear of wrong
authenticator codes on that member's account. Nobody else, and no health details to anyone (the templates carry
the reference, priority and a staff link only).

Patients are told on the channels they chose: by e-mail when they gave an address, and by text when they chose
texts on the details page (the default for a mobile number), their number is a mobile one, and it has not opted out
(STOP). An opted-out number still gets the essential texts (`ESSENTIAL_TEXT_KINDS`). On the day of a callback the
patient is told by text when we will call (`call_today_routes`); that one has no e-mail: an inbox is read later.
A patient whose own text raises a red flag is texted back what to do now (`text_advice_recipient`): whether or not
they chose texts or replied STOP, since they have just written to us from that number."""

from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.contrib.auth import get_user_model

from callbacks.models import CallbackRequest, Notification, WaitlistEntry
from callbacks.notifications.optouts import ESSENTIAL_TEXT_KINDS, text_opted_out
from callbacks.rules.requests import priority_is_urgent

Kind = Notification.Kind
Channel = Notification.Channel

# E-mails about an appointment that go to the patient, when they gave an address.
PATIENT_BOOKING_KINDS = frozenset(
    {
        Kind.BOOKING_CONFIRMED,
        Kind.BOOKING_DECLINED,
        Kind.BOOKING_REMINDER,
        Kind.BOOKING_CANCELLED_BY_CLINIC,
        Kind.BOOKING_CANCELLED_BY_PATIENT,
        Kind.BOOKING_MOVED,
        Kind.COURSE_BOOKED,
    }
)

# Every kind whose recipient is the patient: their address is shown to staff only on the request's own page,
# which writes the privacy log, never in the outbox's lists.
# The advice texted back to a patient whose own text raises a red flag, by the tier it calls for.
TEXT_ADVICE_KINDS = frozenset({Kind.TEXT_EMERGENCY_ADVICE, Kind.TEXT_URGENT_ADVICE})

# The answer to a patient's "C" or "X" that could mean more than one appointment: nothing changed, we will call.
TEXT_REPLY_KINDS = frozenset({Kind.TEXT_REPLY_UNCLEAR})

PATIENT_KINDS = (
    PATIENT_BOOKING_KINDS
    | TEXT_ADVICE_KINDS
    | TEXT_REPLY_KINDS
    | {Kind.PATIENT_CONFIRMATION, Kind.FOLLOW_UP, Kind.CALL_TODAY}
)


# The kinds a patient may be sent by text (`callbacks.notifications.texts` writes each).
PATIENT_TEXT_KINDS = (
    PATIENT_BOOKING_KINDS
    | TEXT_ADVICE_KINDS
    | TEXT_REPLY_KINDS
    | {
        Kind.PATIENT_CONFIRMATION,
        Kind.CALL_TODAY,
        Kind.WAITLIST_OFFER,
        Kind.FOLLOW_UP,
    }
)

TEXTABLE_NUMBER_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


@dataclass(frozen=True)
class Route:
    kind: str
    channel: str
    recipient: str


def notification_goes_to_patient(kind: str) -> bool:
    return kind in PATIENT_KINDS


def phone_takes_texts(phone) -> bool:
    """Whether a number (E.164) can receive texts: a mobile one (or one whose plan cannot tell)."""
    try:
        number = phonenumbers.parse(str(phone), None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) in TEXTABLE_NUMBER_TYPES


def text_recipient(*, phone, text_consent_version: str, kind: str) -> str:
    """The number a text of ``kind`` goes to, or "" when none goes: texts switched off, the patient did not choose
    texts, the number is not a mobile one, or it has opted out and the text is not essential."""
    if settings.SMS_BACKEND == "none" or not text_consent_version or kind not in PATIENT_TEXT_KINDS:
        return ""
    if not phone or not phone_takes_texts(phone):
        return ""
    if kind not in ESSENTIAL_TEXT_KINDS and text_opted_out(phone=str(phone)):
        return ""
    return str(phone)


def request_text_recipient(request: CallbackRequest, kind: str) -> str:
    return text_recipient(phone=request.phone, text_consent_version=request.text_consent_version, kind=kind)


def text_may_go_now(notification: Notification) -> str:
    """Checked when the worker takes a text: "" when it may go, else why not (the number opted out after the text
    was written, and it is not essential)."""
    if notification.kind not in ESSENTIAL_TEXT_KINDS and text_opted_out(phone=notification.recipient):
        return "not sent: the number replied STOP"
    return ""


def patient_routes(request: CallbackRequest, kind: str) -> list[Route]:
    """A patient message of ``kind`` about ``request``: by e-mail when they gave an address, and by text when they
    chose texts (``text_recipient``)."""
    routes = []
    if request.email:
        routes.append(Route(kind, Channel.EMAIL, request.email))
    number = request_text_recipient(request, kind)
    if number:
        routes.append(Route(kind, Channel.SMS, number))
    return routes


def call_today_routes(request: CallbackRequest) -> list[Route]:
    """The morning of the day we call: "we will call you between ... from <clinic number>", by text only."""
    number = request_text_recipient(request, Kind.CALL_TODAY)
    return [Route(Kind.CALL_TODAY, Channel.SMS, number)] if number else []


def staff_address_for(priority: int) -> str:
    if priority_is_urgent(priority):
        return settings.CLINIC_URGENT_EMAIL
    return settings.CLINIC_FRONT_DESK_EMAIL


def new_request_routes(request: CallbackRequest) -> list[Route]:
    """Every notification a new request needs, in the order they are written."""
    routes = [Route(Kind.STAFF_NEW_REQUEST, Channel.EMAIL, staff_address_for(request.priority))]
    if priority_is_urgent(request.priority) and settings.CLINIC_URGENT_WEBHOOK_URL:
        routes.append(Route(Kind.STAFF_NEW_REQUEST, Channel.WEBHOOK, settings.CLINIC_URGENT_WEBHOOK_URL))
    if request.email and settings.CLINIC_PATIENT_CONFIRMATION_EMAIL:
        routes.append(Route(Kind.PATIENT_CONFIRMATION, Channel.EMAIL, request.email))
    number = request_text_recipient(request, Kind.PATIENT_CONFIRMATION)
    if number:
        routes.append(Route(Kind.PATIENT_CONFIRMATION, Channel.SMS, number))
    return routes


def priority_raised_routes(request: CallbackRequest) -> list[Route]:
    """Staff hear again when later answers raise a stored request's priority, as for a new request of that
    priority (the patient is shown the advice on the page)."""
    routes = [Route(Kind.STAFF_PRIORITY_RAISED, Channel.EMAIL, staff_address_for(request.priority))]
    if priority_is_urgent(request.priority) and settings.CLINIC_URGENT_WEBHOOK_URL:
        routes.append(Route(Kind.STAFF_PRIORITY_RAISED, Channel.WEBHOOK, settings.CLINIC_URGENT_WEBHOOK_URL))
    return routes


def booking_email_recipient(*, request: CallbackRequest, kind: str) -> str:
    """Who gets the e-mail of ``kind`` about the request's appointment; empty when nobody does."""
    if kind == Kind.BOOKING_CANCELLED:
        return settings.CLINIC_FRONT_DESK_EMAIL
    if kind in PATIENT_BOOKING_KINDS:
        return request.email
    raise ValueError(f"{kind!r} is not an appointment e-mail")


def booking_routes(*, request: CallbackRequest, kind: str) -> list[Route]:
    """Every message of ``kind`` about the request's appointment: the front desk's e-mail, or the patient's e-mail
    and text."""
    if kind == Kind.BOOKING_CANCELLED:
        return [Route(kind, Channel.EMAIL, settings.CLINIC_FRONT_DESK_EMAIL)]
    if kind in PATIENT_BOOKING_KINDS:
        return patient_routes(request, kind)
    raise ValueError(f"{kind!r} is not an appointment message")


def appointment_moved_routes(request: CallbackRequest, *, by_patient: bool) -> list[Route]:
    """An appointment moved: the patient, whose calendar event is updated, when they gave an address; and when
    the patient moved it themselves, staff by the request's priority (reference and times only)."""
    routes = []
    if by_patient:
        routes.append(Route(Kind.BOOKING_RESCHEDULED, Channel.EMAIL, staff_address_for(request.priority)))
    return routes + patient_routes(request, Kind.BOOKING_MOVED)


def waitlist_offer_recipient(entry: WaitlistEntry) -> str:
    """A freed slot is offered to the waitlisted patient, who always gave an address."""
    return entry.email


def waitlist_offer_routes(entry: WaitlistEntry) -> list[Route]:
    """A freed slot is offered by e-mail (a waitlisted patient always gave an address), and by text when they
    chose texts: the first to take it books it, so the text often wins."""
    routes = [Route(Kind.WAITLIST_OFFER, Channel.EMAIL, entry.email)]
    number = text_recipient(
        phone=entry.phone, text_consent_version=entry.text_consent_version, kind=Kind.WAITLIST_OFFER
    )
    if number:
        routes.append(Route(Kind.WAITLIST_OFFER, Channel.SMS, number))
    return routes


def follow_up_routes(request: CallbackRequest) -> list[Route]:
    """An outcome follow-up: to the patient's address and, when they chose texts, their mobile."""
    return patient_routes(request, Kind.FOLLOW_UP)


def text_failed_recipient() -> str:
    """A text to the patient of an emergency or urgent request failed: the urgent address hears of it."""
    return settings.CLINIC_URGENT_EMAIL


def text_advice_recipient(phone: str) -> str:
    """The number the advice for a red-flag text goes back to (the number it came from), or "" when texts are
    switched off or the number cannot take texts. Consent to texts and STOP are not asked: the patient has just
    texted us from it, and what to do now is the answer to that text."""
    if settings.SMS_BACKEND == "none" or not phone or not phone_takes_texts(phone):
        return ""
    return str(phone)


def text_red_flag_recipient() -> str:
    """A text from a number no request has raised a red flag: the urgent address hears of it at once."""
    return settings.CLINIC_URGENT_EMAIL


def escalation_recipient() -> str:
    return settings.CLINIC_ESCALATION_EMAIL


def staff_sign_in_alert_recipients(user) -> list[str]:
    """Wrong authenticator codes on ``user``'s account: the account's owner and every active administrator
    (superuser), each address once, those without an address left out."""
    administrators = (
        get_user_model()
        .objects.filter(is_active=True, is_superuser=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    recipients = [user.email] if user.email else []
    for address in administrators:
        if address.lower() not in {recipient.lower() for recipient in recipients}:
            recipients.append(address)
    return recipients
