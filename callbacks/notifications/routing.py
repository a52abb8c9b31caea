"""Who is told what: the one place that decides the recipients of every notification.

Staff hear of every new request (emergency and urgent ones at the urgent address, and by webhook when one is
set; the rest at the front desk), and again, the same way, when later answers raise its priority; the patient
gets a confirmation when they gave an e-mail address and the clinic sends confirmations; the escalation address
hears of an overdue request; the patient hears of staff decisions on an appointment (and of the clinic cancelling
it) and gets a reminder; the front desk and the patient hear of a patient's cancellation; staff and the patient
hear of a patient's move, and the patient of the front desk's move; the urgent address hears of a text to the
patient of an emergency or urgent request that failed; a waitlisted patient is offered a freed
slot; a patient gets each outcome follow-up; a member of staff and the administrators hear of wrong
authenticator codes on that member's account. Nobody else, and no health details to anyone (the templates carry
the reference, priority and a staff link only)."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model

from callbacks.models import CallbackRequest, Notification, WaitlistEntry
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
    }
)

# Every kind whose recipient is the patient: their address is shown to staff only on the request's own page,
# which writes the privacy log, never in the outbox's lists.
PATIENT_KINDS = PATIENT_BOOKING_KINDS | {Kind.PATIENT_CONFIRMATION, Kind.FOLLOW_UP}


def notification_goes_to_patient(kind: str) -> bool:
    return kind in PATIENT_KINDS


@dataclass(frozen=True)
class Route:
    kind: str
    channel: str
    recipient: str


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


def appointment_moved_routes(request: CallbackRequest, *, by_patient: bool) -> list[Route]:
    """An appointment moved: the patient, whose calendar event is updated, when they gave an address; and when
    the patient moved it themselves, staff by the request's priority (reference and times only)."""
    routes = []
    if by_patient:
        routes.append(Route(Kind.BOOKING_RESCHEDULED, Channel.EMAIL, staff_address_for(request.priority)))
    if request.email:
        routes.append(Route(Kind.BOOKING_MOVED, Channel.EMAIL, request.email))
    return routes


def waitlist_offer_recipient(entry: WaitlistEntry) -> str:
    """A freed slot is offered to the waitlisted patient, who always gave an address."""
    return entry.email


def follow_up_recipient(request: CallbackRequest) -> str:
    """An outcome follow-up goes to the patient's own address; empty when they gave none."""
    return request.email


def text_failed_recipient() -> str:
    """A text to the patient of an emergency or urgent request failed: the urgent address hears of it."""
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
