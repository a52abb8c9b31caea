"""A patient whose own text raises a red flag is texted back, at once, what to do now.

The screen tells a patient who answers a red-flag question to get emergency care; a patient who writes the same
thing in a text must not hear nothing until staff read it. The answer goes to the number the text came from,
whatever the patient chose about texts (and after STOP), in the urgent lane, at any hour, once per text.
"""

import datetime as dt

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from callbacks.models import Notification, Priority
from callbacks.notifications.delivery import notification_send
from callbacks.notifications.lanes import URGENT, lane_filter
from callbacks.notifications.optouts import text_opt_out_record
from callbacks.notifications.quiet_hours import text_held_until
from callbacks.notifications.segments import text_segments
from callbacks.notifications.texts import notification_text
from callbacks.notifications.transports.sms import memory_outbox
from tests.callbacks.notifications.test_replies import routine_request, text
from tests.callbacks.notifications.test_texts import LONGEST_NAME
from tests.factories import CallbackRequestFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
PHONE = "+447400123456"
EMERGENCY_WORDS = "I've lost control of my bladder since this morning"
URGENT_WORDS = "I've had a fever and the shivers for two days"


def advice_rows():
    return list(Notification.objects.filter(kind__in=(Kind.TEXT_EMERGENCY_ADVICE, Kind.TEXT_URGENT_ADVICE)))


def test_an_emergency_text_is_answered_with_the_emergency_advice(django_capture_on_commit_callbacks):
    request = routine_request()
    with django_capture_on_commit_callbacks(execute=False):
        received = text(EMERGENCY_WORDS)
    [row] = advice_rows()
    assert (row.kind, row.channel, row.recipient) == (Kind.TEXT_EMERGENCY_ADVICE, "sms", PHONE)
    assert (row.request, row.inbound_text) == (request, received)
    assert Notification.objects.filter(lane_filter(URGENT), pk=row.pk).exists()
    assert notification_send(notification_id=row.pk) == "sent"
    [sent] = memory_outbox
    assert sent["to"] == PHONE
    body = sent["body"]
    assert f"Call {settings.CLINIC_EMERGENCY_NUMBER} now" in body and "Do not wait for our call" in body
    assert request.reference in body
    # It answers the patient's words without repeating them.
    assert "bladder" not in body.lower()


def test_an_urgent_text_is_answered_with_the_urgent_advice():
    request = routine_request()
    text(URGENT_WORDS)
    request.refresh_from_db()
    assert request.priority == Priority.URGENT
    [row] = advice_rows()
    assert row.kind == Kind.TEXT_URGENT_ADVICE
    body = notification_text(row)
    assert settings.CLINIC_URGENT_ADVICE.replace("{number}", settings.CLINIC_URGENT_ADVICE_NUMBER) in body
    assert settings.CLINIC_EMERGENCY_NUMBER not in body.replace(settings.CLINIC_URGENT_ADVICE_NUMBER, "")


def test_a_plain_text_is_not_answered():
    routine_request()
    text("Can you call after 3pm?")
    assert advice_rows() == []


def test_a_text_from_a_number_no_request_has_is_answered_too():
    received = text(EMERGENCY_WORDS, phone="+447400555444")
    [row] = advice_rows()
    assert (row.recipient, row.request, row.inbound_text) == ("+447400555444", None, received)
    body = notification_text(row)
    assert f"Call {settings.CLINIC_EMERGENCY_NUMBER} now" in body and "Ref" not in body
    assert notification_send(notification_id=row.pk) == "sent"
    assert [sent["to"] for sent in memory_outbox] == ["+447400555444"]
    # Staff are still told, as before.
    assert Notification.objects.filter(kind=Kind.TEXT_RED_FLAG, inbound_text=received).count() == 1


def test_the_answer_goes_to_a_patient_who_chose_no_texts_and_to_a_number_that_replied_stop():
    CallbackRequestFactory(phone=PHONE, text_consent_version="", priority=Priority.ROUTINE)
    text_opt_out_record(phone=PHONE, source="reply")
    text(EMERGENCY_WORDS)
    [row] = advice_rows()
    assert notification_send(notification_id=row.pk) == "sent"
    assert [sent["to"] for sent in memory_outbox] == [PHONE]


def test_the_answer_never_waits_for_quiet_hours(settings):
    settings.CLINIC_TEXT_QUIET_HOURS = "00:00-23:59"
    routine_request()
    text(URGENT_WORDS)
    [row] = advice_rows()
    assert text_held_until(row, now=row.created_at + dt.timedelta(hours=3)) is None


def test_each_red_flag_text_is_answered_once(django_capture_on_commit_callbacks):
    routine_request()
    first = text(EMERGENCY_WORDS, sid="SM" + "a" * 32)
    text(EMERGENCY_WORDS, sid="SM" + "a" * 32)  # the provider posts the same text again
    assert len(advice_rows()) == 1
    # A second red-flag text is a new message: it is answered again.
    text("my legs are numb and weak, both of them")
    assert len(advice_rows()) == 2
    # The database holds it to one per text, whatever writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            inbound_text=first, kind=Kind.TEXT_EMERGENCY_ADVICE, channel="sms", recipient=PHONE, request=None
        )


def test_no_answer_when_texts_are_off_or_the_number_takes_no_texts(settings):
    settings.SMS_BACKEND = "none"
    routine_request()
    text(EMERGENCY_WORDS)
    assert advice_rows() == []
    settings.SMS_BACKEND = "memory"
    text(EMERGENCY_WORDS, phone="+442079460000")  # a landline
    assert advice_rows() == []


@pytest.mark.parametrize("kind", [Kind.TEXT_EMERGENCY_ADVICE, Kind.TEXT_URGENT_ADVICE])
def test_the_answer_fits_two_gsm7_segments_with_the_longest_clinic_name(settings, kind):
    settings.CLINIC_TEXT_NAME = LONGEST_NAME
    request = CallbackRequestFactory(phone=PHONE)
    row = Notification.objects.create(request=request, kind=kind, channel="sms", recipient=PHONE)
    segments = text_segments(notification_text(row))
    assert segments.encoding == "GSM-7" and segments.count <= 2, notification_text(row)


def test_a_failed_answer_to_an_emergency_patient_tells_staff():
    from callbacks.notifications.receipts import text_receipt_record

    request = routine_request()
    text(EMERGENCY_WORDS)
    [row] = advice_rows()
    notification_send(notification_id=row.pk)
    row.refresh_from_db()
    text_receipt_record(provider_message_id=row.provider_message_id, status="undelivered", error_code="30003")
    request.refresh_from_db()
    assert request.priority == Priority.EMERGENCY
    assert Notification.objects.filter(request=request, kind=Kind.TEXT_FAILED).count() == 1
