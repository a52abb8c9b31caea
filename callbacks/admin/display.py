"""The staff triage screens: the queue of requests, one request's page with its workflow, and the outbox.

The admin only displays and collects: every change to a request goes through `callbacks.workflow`, which
records it in the request's history. The change form itself has no editable fields.
"""

import phonenumbers
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

from callbacks.models import CallbackRequest, Notification, Priority
from callbacks.notifications.optouts import text_opted_out
from callbacks.notifications.routing import notification_goes_to_patient, phone_takes_texts
from callbacks.rules.requests import status_awaits_response
from callbacks.rules.screening import request_screened
from clinic.hours import clinic_zone

PRIORITY_BADGES = {
    Priority.EMERGENCY: "triage-badge--emergency",
    Priority.URGENT: "triage-badge--urgent",
    Priority.REVIEW: "triage-badge--review",
    Priority.ROUTINE: "triage-badge--routine",
}
# In the queue, next to the priority: triage found a red flag in the patient's words or contradicting answers.
POSSIBLE_RED_FLAG_MARKER = format_html(
    '<span class="triage-badge triage-badge--possible" title="{}">{}</span>',
    "The patient's own words or marks point at a red flag: check with them",
    "Possible red flag",
)
# Next to the priority of a request whose safety questions were never answered (`callbacks.rules.screening`): its
# "Routine" is a default, not a triage result.
NOT_SCREENED_BADGE = format_html(
    '<span class="triage-badge triage-badge--unscreened" title="{}">{}</span>',
    "The safety questions were not asked: ask them before or at the visit",
    "Not screened",
)
NEW_TEXT_MARKER = format_html(
    '<span class="triage-badge triage-badge--text" title="{}">{}</span>',
    "The patient has sent a text nobody has read yet: open the request",
    "New text",
)
ADMIN_CSS = "callbacks/admin/triage.css"


def priority_badge_html(priority: int):
    return format_html('<span class="triage-badge {}">{}</span>', PRIORITY_BADGES[priority], Priority(priority).label)


def phone_display(e164: str) -> str:
    """+447400123456 as staff read it out: +44 7400 123456."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def screening_badges_html(request_obj: CallbackRequest):
    """The priority, and "Not screened" beside it when the safety questions were never answered."""
    if request_screened(request_obj):
        return priority_badge_html(request_obj.priority)
    return format_html("{} {}", priority_badge_html(request_obj.priority), NOT_SCREENED_BADGE)


def phone_link_html(e164: str):
    """A number staff tap to call (tel:), shown as they read it out."""
    return format_html('<a class="triage-phone" href="tel:{}">{}</a>', e164, phone_display(e164))


def local_moment(value) -> str:
    return date_format(timezone.localtime(value, clinic_zone()), "D j M, H:i") if value else ""


def deadline_html(request_obj: CallbackRequest, now):
    """When the response is due, and how long is left or how late it is; nothing runs once contact is made."""
    deadline = request_obj.deadline
    if deadline is None:
        return format_html('<span class="triage-muted">{}</span>', "No deadline")
    due = format_html('<time datetime="{}">{}</time>', deadline.isoformat(), local_moment(deadline))
    if not status_awaits_response(request_obj.status):
        return format_html('{}<br><span class="triage-muted">{}</span>', due, "Responded")
    if deadline <= now:
        return format_html(
            '{}<br><strong class="triage-overdue">Overdue by {}</strong>', due, timesince(deadline, now, depth=1)
        )
    return format_html('{}<br><span class="triage-due">{} left</span>', due, timeuntil(deadline, now, depth=1))


def request_texts_text(request) -> str:
    """Whether the patient is texted, in words: their choice (recorded like the data consent), a number that
    cannot take texts, or a STOP since."""
    if not request.text_consent_version:
        return "Not chosen"
    if not phone_takes_texts(request.phone):
        return "Chosen, but the number is not a mobile one: none are sent"
    agreed = f"agreed {local_moment(request.text_consent_given_at)} (wording {request.text_consent_version})"
    if text_opted_out(phone=str(request.phone)):
        return f"Stopped: the number replied STOP; only essential texts are sent. Before that: {agreed}"
    return f"Yes, {agreed}"


PATIENT_RECIPIENT = "The patient (address on the request's page)"


def notification_recipient_text(notification: Notification) -> str:
    """Staff addresses as they are; a patient's address only on the request's page, where viewing is logged."""
    if notification_goes_to_patient(notification.kind):
        return PATIENT_RECIPIENT
    return notification.recipient


def notification_error_text(notification: Notification) -> str:
    """The last error, without the patient's address that a mail server's refusal quotes."""
    error = notification.last_error
    if notification_goes_to_patient(notification.kind) and notification.recipient:
        error = error.replace(notification.recipient, "[the patient's address]")
    return error
