"""The text message a notification row becomes. No health detail in any of them: the clinic's name, the
reference, times, the clinic's number and signed links only (no service name, no advice that would say why). The
one exception answers the patient's own words: a text of theirs that raises a red flag is answered with what to do
now (the clinic's emergency or urgent advice, as the screen shows it), which tells that phone nothing it did not
just send.

Every text stays within two GSM-7 segments (306 characters) with the longest clinic name allowed
(CLINIC_TEXT_NAME, 40 characters) and the longest link: tests/callbacks/notifications/test_texts.py measures each
kind with `callbacks.notifications.segments`. Characters outside GSM-7 would make the whole text UCS-2 (67
characters a segment), so the few that slip in from settings (curly quotes, dashes) are folded to plain ones.
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from callbacks.booking.links import appointment_reschedule_url, waitlist_offer_url
from callbacks.booking.reschedule import appointment_movable
from callbacks.models import (
    Appointment,
    CallbackRequest,
    CourseOfCare,
    FollowUp,
    Notification,
    Priority,
    WaitlistOffer,
)
from callbacks.notifications.segments import text_is_gsm7
from callbacks.requests.followup_links import follow_up_answer_url

Kind = Notification.Kind

_FOLDS = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u00a0": " ",
        "\u2026": "...",
    }
)


def text_fold(text: str) -> str:
    """``text`` with typographic characters made plain, and anything else outside GSM-7 dropped to '?'."""
    folded = text.translate(_FOLDS)
    return "".join(char if text_is_gsm7(char) else "?" for char in folded)


def _when(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%a} {local.day} {local:%b} at {local:%H:%M}"


def _day(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%a} {local.day} {local:%b}"


def _clock(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%H:%M}"


def _appointment(notification: Notification) -> Appointment | None:
    return Appointment.objects.filter(request_id=notification.request_id).first()


def _confirmation(notification: Notification, name: str) -> str:
    request = notification.request
    ref = request.reference
    phone = settings.CLINIC_PHONE
    if request.kind == CallbackRequest.Kind.BOOKING:
        appointment = _appointment(notification)
        if appointment is not None:
            return (
                f"{name}: we have your booking, ref {ref}, for {_when(appointment.starts_at)}. We will text you "
                f"when it is confirmed. Questions: call {phone}."
            )
    if request.priority == Priority.EMERGENCY:
        return f"{name}: we have your request, ref {ref}. We will call you as soon as we can from {phone}."
    if request.deadline is not None and request.deadline < request.window_end:
        return f"{name}: we have your request, ref {ref}. We aim to call you by {_when(request.deadline)} from {phone}."
    return (
        f"{name}: we have your request, ref {ref}. We aim to call you on {_day(request.window_start)} between "
        f"{_clock(request.window_start)} and {_clock(request.window_end)} from {phone}."
    )


def _call_today(notification: Notification, name: str) -> str:
    request = notification.request
    return (
        f"{name}: we will call you today between {_clock(request.window_start)} and {_clock(request.window_end)} "
        f"from {settings.CLINIC_PHONE}. Ref {request.reference}."
    )


def _booking(notification: Notification, name: str) -> str:
    request = notification.request
    ref = request.reference
    phone = settings.CLINIC_PHONE
    appointment = _appointment(notification)
    when = _when(appointment.starts_at)
    change = f" Change it: {appointment_reschedule_url(appointment)}" if appointment_movable(appointment) else ""
    kind = notification.kind
    if kind == Kind.BOOKING_CONFIRMED:
        return f"{name}: your appointment on {when} is confirmed. Ref {ref}.{change}"
    if kind == Kind.BOOKING_REMINDER:
        return f"{name}: reminder: appointment {when}. Ref {ref}. Reply C to confirm, X to cancel.{change}"
    if kind == Kind.BOOKING_MOVED:
        return f"{name}: your appointment is now on {when}. Ref {ref}.{change}"
    if kind == Kind.BOOKING_DECLINED:
        return f"{name}: we cannot keep {when} for you. We will call you from {phone} to find a time. Ref {ref}."
    if kind == Kind.BOOKING_CANCELLED_BY_CLINIC:
        return f"{name}: we have had to cancel your appointment on {when}. We will call you from {phone}. Ref {ref}."
    if kind == Kind.BOOKING_CANCELLED_BY_PATIENT:
        return f"{name}: your appointment on {when} is cancelled, as you asked. Ref {ref}. To book again: {phone}."
    raise ValueError(f"no text for {kind!r}")


def _course(notification: Notification, name: str) -> str:
    course = CourseOfCare.objects.get(first_request_id=notification.request_id)
    sessions = list(course.appointments.order_by("starts_at").values_list("starts_at", flat=True))
    return (
        f"{name}: your {len(sessions)} appointments are booked, {_when(sessions[0])} to {_day(sessions[-1])}. "
        f"Ref {notification.request.reference}. To change one, call {settings.CLINIC_PHONE}."
    )


def _waitlist_offer(notification: Notification, name: str) -> str:
    offer = WaitlistOffer.objects.select_related("entry").get(pk=notification.waitlist_offer_id)
    return (
        f"{name}: a time has come free: {_when(offer.starts_at)}. It goes to the first to take it: "
        f"{waitlist_offer_url(offer)} Ref {offer.entry.reference}."
    )


def _follow_up(notification: Notification, name: str) -> str:
    follow_up = FollowUp.objects.get(pk=notification.follow_up_id)
    return (
        f"{name}: a few short questions on how you are since your visit, for your care team: "
        f"{follow_up_answer_url(follow_up)} Ref {notification.request.reference}."
    )


def _advice(notification: Notification, name: str) -> str:
    if notification.kind == Kind.TEXT_EMERGENCY_ADVICE:
        advice = settings.CLINIC_EMERGENCY_ADVICE.replace("{number}", settings.CLINIC_EMERGENCY_NUMBER)
    else:
        advice = settings.CLINIC_URGENT_ADVICE.replace("{number}", settings.CLINIC_URGENT_ADVICE_NUMBER)
    if not notification.request_id:
        return f"{name}: we have read your text. {advice}"
    return f"{name}: we have read your text. {advice} Ref {notification.request.reference}."


def _reply_unclear(notification: Notification, name: str) -> str:
    return (
        f"{name}: we could not tell which appointment your reply is about, so nothing has changed yet. We will call "
        f"you from {settings.CLINIC_PHONE}. Ref {notification.request.reference}."
    )


_WRITERS = {
    Kind.PATIENT_CONFIRMATION: _confirmation,
    Kind.CALL_TODAY: _call_today,
    Kind.BOOKING_CONFIRMED: _booking,
    Kind.BOOKING_REMINDER: _booking,
    Kind.BOOKING_MOVED: _booking,
    Kind.BOOKING_DECLINED: _booking,
    Kind.BOOKING_CANCELLED_BY_CLINIC: _booking,
    Kind.BOOKING_CANCELLED_BY_PATIENT: _booking,
    Kind.COURSE_BOOKED: _course,
    Kind.WAITLIST_OFFER: _waitlist_offer,
    Kind.FOLLOW_UP: _follow_up,
    Kind.TEXT_EMERGENCY_ADVICE: _advice,
    Kind.TEXT_URGENT_ADVICE: _advice,
    Kind.TEXT_REPLY_UNCLEAR: _reply_unclear,
}
TEXT_KINDS = frozenset(_WRITERS)


def notification_text(notification: Notification) -> str:
    """The body of the text of ``notification`` (a row of channel sms)."""
    return text_fold(_WRITERS[notification.kind](notification, settings.CLINIC_TEXT_NAME))
