"""A patient's text to the clinic, read into the same services the signed links call.

Guarantees:
- a text is stored once, whatever the provider's retries: its id at the provider is unique, and the row is
  written first in the transaction that acts on it, so a retry arriving at the same instant waits for it and
  then finds it (and does nothing more);
- "C"/"YES" confirms and "X"/"CANCEL" cancels the number's appointment through the booking services the
  patient's links use (`appointment_patient_confirm`, `appointment_cancel`), decided under the appointment's row
  lock, so a reply and a link at the same instant end one way; it acts only on the appointment the number's
  reminder text asked about (or its only appointment, when no reminder was texted), and a reply that could mean
  another changes nothing and waits for staff (`phone_reply_appointment`);
- "STOP" (and the other opt-out words, `callbacks.rules.replies`) stops every non-essential text to the number at
  once, "START" lets them go again;
- anything else is kept for staff: on the number's request (its timeline, and the queue's "new text" until
  someone opens it) or, from a number no request has, in the list of texts from patients; and it is read for red
  flags like any text the patient writes (`callbacks.requests.texts`), even on a request with no questionnaire
  answers; a red flag from a number no request has alerts the urgent address at once.
Logs name the text's id, never its body or number.
"""

import datetime as dt
import logging
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from callbacks.booking.services import appointment_cancel, appointment_patient_confirm
from callbacks.models import Appointment, CallbackRequest, InboundText, Notification, TextOptOut
from callbacks.notifications.optouts import text_opt_out_record, text_opt_out_remove
from callbacks.notifications.text_answers import notification_for_text_reply_unclear
from callbacks.requests.texts import callback_request_text_screen, unknown_number_text_screen
from callbacks.rules.replies import ReplyIntent, reply_intent
from callbacks.rules.requests import priority_is_urgent

logger = logging.getLogger(__name__)

# How far back a reminder text counts as what a "C" or "X" answers (reminders go the day before).
REMINDER_REPLY_DAYS = 3
# Only a number in E.164 can be stopped (the opt-out list's form); anything else is kept for staff.
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

Outcome = InboundText.Outcome


def phone_reply_appointment(*, phone: str, now: dt.datetime) -> tuple[Appointment | None, bool]:
    """The appointment a "C" or "X" from ``phone`` is about, and whether the reply was unclear.

    A reply answers the reminder text ("Reply C to confirm, X to cancel"): when the number was texted reminders in
    the last REMINDER_REPLY_DAYS, the reply is about the one appointment those reminders asked about that is
    still to come, holds its time and was reminded at that time. Two such (two patients sharing a phone), or none
    left (the reminded time has begun, was cancelled or moved: a late "X" must not cancel the next session), make
    it unclear. With no reminder text, it is about the number's only appointment to come; several (a course of
    care booked at the desk) make it unclear. An unclear reply changes nothing and waits for staff: confirming or
    cancelling the wrong appointment is worse than asking."""
    upcoming = Appointment.objects.holding().filter(request__phone=phone, starts_at__gt=now).select_related("request")
    reminder_texts = Notification.objects.filter(
        request__phone=phone,
        kind=Notification.Kind.BOOKING_REMINDER,
        channel=Notification.Channel.SMS,
        status=Notification.Status.SENT,
        sent_at__gte=now - dt.timedelta(days=REMINDER_REPLY_DAYS),
    )
    reminded = reminder_texts.exists()
    if reminded:
        upcoming = upcoming.filter(request__in=reminder_texts.values("request"), reminder_sent_at__isnull=False)
    found = list(upcoming[:2])
    if len(found) == 1:
        return found[0], False
    # Two or more could be meant; none left of what a reminder asked about is unclear too.
    return None, len(found) > 1 or reminded


def phone_live_request(*, phone: str) -> CallbackRequest | None:
    """The request a text from ``phone`` belongs to: its newest open request, else its newest request."""
    requests = CallbackRequest.objects.filter(phone=phone).order_by("-created_at")
    return requests.open().first() or requests.first()


def inbound_text_receive(*, provider_sid: str, from_phone: str, body: str) -> InboundText:
    """Store the text ``provider_sid`` from ``from_phone`` once and do what it asks (see the module's guarantees).
    A text stored before is returned as it is, nothing done again."""
    earlier = InboundText.objects.filter(provider_sid=provider_sid).first()
    if earlier is not None:
        return earlier
    try:
        with transaction.atomic():
            text = _inbound_text_act(provider_sid=provider_sid, from_phone=from_phone, body=body)
    except IntegrityError:
        # The provider's retry of the same text, stored by a request that committed first.
        text = InboundText.objects.filter(provider_sid=provider_sid).first()
        if text is None:
            raise
        return text
    logger.info("text %s received: %s, %s", text.pk, text.intent, text.outcome)
    return text


def _inbound_text_act(*, provider_sid: str, from_phone: str, body: str) -> InboundText:
    now = timezone.now()
    intent = ReplyIntent(reply_intent(body))
    text = InboundText.objects.create(
        provider_sid=provider_sid,
        from_phone=from_phone,
        body=body,
        received_at=now,
        request=phone_live_request(phone=from_phone),
        intent=intent,
        outcome=Outcome.FOR_STAFF,
    )
    if intent in (ReplyIntent.CONFIRM, ReplyIntent.CANCEL):
        appointment, unclear = phone_reply_appointment(phone=from_phone, now=now)
        done = False
        if appointment is not None:
            text.request = appointment.request
            if intent == ReplyIntent.CONFIRM:
                done = appointment_patient_confirm(appointment=appointment, now=now)
            else:
                done = appointment_cancel(appointment=appointment, now=now)
        # A reply that changed nothing (no appointment, cancelled by a link a moment before) waits for staff.
        text.outcome = {ReplyIntent.CONFIRM: Outcome.CONFIRMED, ReplyIntent.CANCEL: Outcome.CANCELLED}[intent]
        if not done:
            text.outcome = Outcome.UNCLEAR if unclear else Outcome.NO_APPOINTMENT
            if unclear and text.request is not None:
                # They believe they have cancelled (or confirmed): tell them nothing changed and that we will call.
                notification_for_text_reply_unclear(inbound_text_id=text.pk, request=text.request)
    elif intent == ReplyIntent.STOP and E164.match(from_phone):
        text_opt_out_record(phone=from_phone, source=TextOptOut.Source.REPLY)
        text.outcome = Outcome.STOPPED
    elif intent == ReplyIntent.START and E164.match(from_phone):
        text_opt_out_remove(phone=from_phone)
        text.outcome = Outcome.STARTED
    else:
        text.raised_priority = _text_screen(text)
    if text.outcome in (Outcome.CONFIRMED, Outcome.CANCELLED, Outcome.STOPPED, Outcome.STARTED):
        text.seen_at = now  # done as asked: nothing for staff to read (it stays in the request's timeline)
    text.save(update_fields=["request", "outcome", "raised_priority", "seen_at"])
    return text


def _text_screen(text: InboundText) -> bool:
    """Read the text for red flags; whether it raised the request to urgent or emergency. Should screening fail, the
    text is still kept for staff (unread, so the queue shows it) rather than lost to a provider's endless retries."""
    try:
        with transaction.atomic():
            if text.request_id is None:
                # No request to raise: a red flag alerts staff at once, and the text waits in the list of texts
                # from patients (unread).
                unknown_number_text_screen(text_id=text.pk, body=text.body)
                return False
            found = callback_request_text_screen(request_id=text.request_id, text_id=text.pk, body=text.body)
    except Exception as exc:  # noqa: BLE001 - the patient's text must be kept whatever the screen does
        logger.error("text %s: red-flag screening failed (%s); kept for staff to read", text.pk, type(exc).__name__)
        return False
    return found is not None and priority_is_urgent(found)


@transaction.atomic
def inbound_texts_mark_seen(*, request: CallbackRequest, user) -> int:
    """Staff have opened the request: its texts no longer wait as "new". Returns how many were new."""
    return InboundText.objects.filter(request=request, seen_at__isnull=True).update(
        seen_at=timezone.now(), seen_by=user
    )
