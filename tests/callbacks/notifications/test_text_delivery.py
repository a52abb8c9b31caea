"""Texts through the outbox: written with what they announce, sent once by the real Twilio SDK against a fake of
Twilio's API on loopback (tests/support/fake_twilio.py), and never twice, whatever the provider or the worker does."""

import datetime as dt
import json
from unittest import mock

import pytest
from django.utils import timezone

from callbacks.models import Notification, Priority, TextOptOut
from callbacks.notifications.delivery import text_send
from callbacks.notifications.emails import notification_email
from callbacks.notifications.optouts import text_opt_out_record, text_opted_out
from callbacks.notifications.outbox import notification_resend
from callbacks.notifications.texts import notification_text
from callbacks.notifications.transports import PermanentSendError, TransientSendError
from callbacks.notifications.transports.sms import FileSmsProvider, memory_outbox, our_message_id
from callbacks.notifications.transports.twilio_sms import TwilioSmsProvider
from callbacks.requests.consent import CURRENT_TEXT_CONSENT_VERSION
from tests.callbacks.booking.test_booking import a_free_slot, book
from tests.factories import CallbackRequestFactory
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

pytestmark = pytest.mark.django_db

MOBILE = "+447400123456"


@pytest.fixture
def twilio(settings):
    with FakeTwilio() as fake:
        settings.SMS_BACKEND = "twilio"
        settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
        settings.TWILIO_FROM_NUMBER = FROM_NUMBER
        settings.TWILIO_API_BASE_URL = fake.url
        settings.SMS_TIMEOUT = 1
        settings.SMS_STATUS_CALLBACK_URL = "https://clinic.example.org/texts/status/"
        settings.CLINIC_TEXT_QUIET_HOURS = ""
        yield fake


def text_row(*, kind=Notification.Kind.PATIENT_CONFIRMATION, priority=Priority.ROUTINE, phone=MOBILE):
    request = CallbackRequestFactory(
        phone=phone,
        priority=priority,
        text_consent_version=CURRENT_TEXT_CONSENT_VERSION,
        text_consent_given_at=timezone.now(),
    )
    return Notification.objects.create(request=request, kind=kind, channel=Notification.Channel.SMS, recipient=phone)


def test_a_text_goes_through_twilios_sdk_with_our_id_in_the_status_callback(twilio):
    row = text_row()
    assert text_send(notification_id=row.pk) == "sent"
    [message] = twilio.messages
    assert message["to"] == MOBILE
    assert message["from"] == FROM_NUMBER
    assert message["body"] == notification_text(row)
    assert row.request.reference in message["body"]
    assert message["_status_callback"] == f"https://clinic.example.org/texts/status/?message={our_message_id(row.pk)}"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.provider_message_id) == ("sent", 1, message["sid"])
    assert row.send_started_at is None and row.sent_at is not None
    # Sent: a second message for the same row (a redelivered task) sends nothing.
    assert text_send(notification_id=row.pk) == "sent"
    assert len(twilio.messages) == 1


def test_the_fake_checks_the_account_like_twilio(twilio, settings):
    settings.TWILIO_AUTH_TOKEN = "wrong"
    row = text_row()
    assert text_send(notification_id=row.pk) == "failed"
    row.refresh_from_db()
    assert "Twilio HTTP 401 error 20003" in row.last_error
    assert twilio.messages == []


def test_a_500_is_retried_and_the_text_goes_once(twilio):
    twilio.state.fail_next = 1
    row = text_row()
    with pytest.raises(TransientSendError):
        text_send(notification_id=row.pk)
    row.refresh_from_db()
    assert row.status == "pending" and "Twilio HTTP 500" in row.last_error
    assert row.send_started_at is not None  # whether Twilio took it is not known: the retry asks first
    assert text_send(notification_id=row.pk) == "sent"
    assert twilio.state.lists == 1  # asked before sending again
    assert len(twilio.messages) == 1
    row.refresh_from_db()
    assert row.provider_message_id == twilio.messages[0]["sid"]


def test_a_text_twilio_took_before_timing_out_is_found_not_sent_again(twilio):
    twilio.state.hang_next = 1
    twilio.state.hang_seconds = 3  # past SMS_TIMEOUT (1 s): the SDK gives up, Twilio has the message
    row = text_row()
    with pytest.raises(TransientSendError, match="ReadTimeout"):
        text_send(notification_id=row.pk)
    assert len(twilio.messages) == 1
    assert text_send(notification_id=row.pk) == "sent"
    assert len(twilio.messages) == 1, "the retry found the text Twilio took and sent nothing"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.provider_message_id) == ("sent", 2, twilio.messages[0]["sid"])


def test_a_worker_killed_mid_send_leaves_a_stamp_and_the_next_one_asks_first(twilio):
    """The first transaction commits the stamp before Twilio is called; a worker killed while Twilio answers
    leaves the row pending and stamped (its second transaction never commits). Simulated here by a send that
    reached Twilio and a row as the dead worker left it."""
    row = text_row()
    stamped = timezone.now() - dt.timedelta(minutes=3)
    Notification.objects.filter(pk=row.pk).update(send_started_at=stamped)
    provider = TwilioSmsProvider.from_settings()
    provider.send(to=MOBILE, body=notification_text(row), our_message_id=our_message_id(row.pk))
    assert text_send(notification_id=row.pk) == "sent"
    assert len(twilio.messages) == 1
    # And when the dead worker had not reached Twilio: asked, not found, sent once.
    other = text_row(kind=Notification.Kind.CALL_TODAY)
    Notification.objects.filter(pk=other.pk).update(send_started_at=stamped)
    assert text_send(notification_id=other.pk) == "sent"
    assert len(twilio.messages) == 2


def test_a_number_twilio_has_unsubscribed_fails_for_good_and_staff_can_resend(twilio):
    twilio.state.unsubscribed.add(MOBILE)
    row = text_row()
    assert text_send(notification_id=row.pk) == "failed"
    row.refresh_from_db()
    assert "error 21610" in row.last_error and row.send_started_at is None
    twilio.state.unsubscribed.clear()
    assert notification_resend(notification=row)
    assert text_send(notification_id=row.pk) == "sent"
    assert len(twilio.messages) == 1


def test_a_stop_after_the_text_was_written_stops_a_non_essential_one(settings):
    settings.CLINIC_TEXT_QUIET_HOURS = ""
    reminder = text_row(kind=Notification.Kind.BOOKING_MOVED)
    essential = text_row(kind=Notification.Kind.PATIENT_CONFIRMATION, phone="+447400999999")
    text_opt_out_record(phone=MOBILE, source=TextOptOut.Source.REPLY)
    text_opt_out_record(phone="+447400999999", source=TextOptOut.Source.REPLY)
    assert text_send(notification_id=reminder.pk) == "failed"
    reminder.refresh_from_db()
    assert reminder.last_error == "not sent: the number replied STOP"
    assert text_send(notification_id=essential.pk) == "sent"
    assert [text["to"] for text in memory_outbox] == ["+447400999999"]


def test_opting_out_twice_keeps_one_record():
    first = text_opt_out_record(phone=MOBILE, source=TextOptOut.Source.REPLY)
    again = text_opt_out_record(phone=MOBILE, source=TextOptOut.Source.PROVIDER)
    assert first.pk == again.pk and TextOptOut.objects.count() == 1
    assert text_opted_out(phone=MOBILE) and not text_opted_out(phone="+447400000001")


@pytest.mark.parametrize(
    ("local_time", "priority", "held_until"),
    [
        ("21:30", Priority.ROUTINE, "08:00 next day"),
        ("06:15", Priority.ROUTINE, "08:00 same day"),
        ("12:00", Priority.ROUTINE, None),
        ("21:30", Priority.EMERGENCY, None),
        ("21:30", Priority.URGENT, None),
    ],
)
def test_quiet_hours_hold_non_urgent_texts_until_the_morning(settings, local_time, priority, held_until):
    zone = timezone.get_current_timezone()
    day = dt.date(2026, 12, 8)
    now = dt.datetime.combine(day, dt.time.fromisoformat(local_time), tzinfo=zone)
    row = text_row(kind=Notification.Kind.CALL_TODAY, priority=priority)
    with mock.patch("django.utils.timezone.now", return_value=now):
        result = text_send(notification_id=row.pk)
    row.refresh_from_db()
    if held_until is None:
        assert result == "sent" and len(memory_outbox) == 1
        return
    assert result == "held" and memory_outbox == [] and row.status == "pending"
    morning = day + dt.timedelta(days=1) if "next" in held_until else day
    assert timezone.localtime(row.next_attempt_at) == dt.datetime.combine(morning, dt.time(8), tzinfo=zone)


def test_the_file_backend_writes_one_file_per_text_and_finds_it_again(tmp_path, settings):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "texts"
    settings.CLINIC_TEXT_QUIET_HOURS = ""
    row = text_row()
    assert text_send(notification_id=row.pk) == "sent"
    [written] = (tmp_path / "texts").iterdir()
    record = json.loads(written.read_text())
    assert record["to"] == MOBILE and row.request.reference in record["body"]
    provider = FileSmsProvider(tmp_path / "texts")
    found = provider.find_sent(to=MOBILE, body="", our_message_id=our_message_id(row.pk), since=timezone.now())
    assert found == f"file-{our_message_id(row.pk)}"


def test_switched_off_texts_fail_visibly(settings):
    settings.SMS_BACKEND = "none"
    settings.CLINIC_TEXT_QUIET_HOURS = ""
    row = text_row()
    assert text_send(notification_id=row.pk) == "failed"
    row.refresh_from_db()
    assert "switched off" in row.last_error


def test_a_text_queued_under_one_provider_is_sent_by_the_one_configured_when_it_is_taken(twilio, settings):
    settings.SMS_BACKEND = "file"
    row = text_row()  # written while the clinic used files
    settings.SMS_BACKEND = "twilio"  # switched before the worker took it
    assert text_send(notification_id=row.pk) == "sent"
    assert len(twilio.messages) == 1


def test_provider_errors_are_sorted_like_twilios(twilio):
    provider = TwilioSmsProvider.from_settings()
    with pytest.raises(PermanentSendError, match="21211"):
        provider.send(to="07400", body="x", our_message_id="n-1")
    twilio.state.fail_next = 1
    with pytest.raises(TransientSendError, match="500"):
        provider.send(to=MOBILE, body="x", our_message_id="n-2")


def test_the_confirmation_of_a_request_just_sent_at_night_goes_at_once(settings):
    """The patient is awake and waiting for their reference; a reminder written at the same hour waits."""
    zone = timezone.get_current_timezone()
    now = dt.datetime(2026, 12, 8, 23, 0, tzinfo=zone)
    confirmation = text_row()
    reminder = text_row(kind=Notification.Kind.BOOKING_MOVED, phone="+447400999999")
    Notification.objects.filter(pk__in=[confirmation.pk, reminder.pk]).update(created_at=now - dt.timedelta(minutes=1))
    with mock.patch("django.utils.timezone.now", return_value=now):
        assert text_send(notification_id=confirmation.pk) == "sent"
        assert text_send(notification_id=reminder.pk) == "held"
    assert [text["to"] for text in memory_outbox] == [MOBILE]


@pytest.mark.parametrize(
    "kind",
    [
        Notification.Kind.BOOKING_CONFIRMED,
        Notification.Kind.BOOKING_MOVED,
        Notification.Kind.BOOKING_DECLINED,
        Notification.Kind.BOOKING_REMINDER,
        Notification.Kind.BOOKING_CANCELLED_BY_CLINIC,
        Notification.Kind.CALL_TODAY,
    ],
)
@pytest.mark.parametrize("priority", [Priority.EMERGENCY, Priority.URGENT, Priority.REVIEW, Priority.ROUTINE])
def test_at_22_00_only_routine_texts_of_routine_requests_wait(settings, monkeypatch, kind, priority):
    """A text to the patient of an emergency or urgent request goes at once whatever it is about, and so does the
    clinic cancelling an appointment (essential); the rest wait for 08:00."""
    settings.CLINIC_TEXT_QUIET_HOURS = "20:00-08:00"
    monkeypatch.setattr("callbacks.notifications.delivery.notification_text", lambda notification: "text")
    zone = timezone.get_current_timezone()
    now = dt.datetime(2026, 12, 8, 22, 0, tzinfo=zone)
    row = text_row(kind=kind, priority=priority)
    with mock.patch("django.utils.timezone.now", return_value=now):
        result = text_send(notification_id=row.pk)
    goes = priority in (Priority.EMERGENCY, Priority.URGENT) or kind == Notification.Kind.BOOKING_CANCELLED_BY_CLINIC
    assert result == ("sent" if goes else "held")
    assert len(memory_outbox) == (1 if goes else 0)


@pytest.mark.parametrize("kind", [Notification.Kind.BOOKING_CONFIRMED, Notification.Kind.BOOKING_REMINDER])
def test_a_text_with_signed_links_twilio_took_before_timing_out_is_found_not_sent_again(
    twilio, service, practitioner, kind
):
    """Its links are signed with the time: rendered again a second later they differ. The retry sends, and looks
    for, the words stored with the first attempt's stamp, so it finds the text Twilio took."""
    appointment = book(service, practitioner, a_free_slot(service).starts_at, phone=MOBILE)
    row = Notification.objects.create(
        request=appointment.request, kind=kind, channel=Notification.Channel.SMS, recipient=MOBILE
    )
    twilio.state.hang_next = 1
    twilio.state.hang_seconds = 3
    with pytest.raises(TransientSendError, match="ReadTimeout"):
        text_send(notification_id=row.pk)
    [taken] = twilio.messages
    assert "http" in taken["body"]  # the change or cancel link
    row.refresh_from_db()
    assert row.text_body == taken["body"]
    later = mock.Mock(time=lambda: dt.datetime.now().timestamp() + 90)
    with mock.patch("django.core.signing.time", later):
        assert notification_text(row) != taken["body"], "rendered again, the links would differ"
        assert text_send(notification_id=row.pk) == "sent"
    assert len(twilio.messages) == 1, "the retry found the text Twilio took and sent nothing"
    row.refresh_from_db()
    assert (row.status, row.provider_message_id) == ("sent", taken["sid"])


@pytest.mark.parametrize(
    ("priority", "alerted"),
    [(Priority.EMERGENCY, True), (Priority.URGENT, True), (Priority.REVIEW, False), (Priority.ROUTINE, False)],
)
def test_a_text_twilio_refuses_on_the_send_call_alerts_staff_for_an_urgent_patient_once(
    twilio, settings, priority, alerted
):
    """Twilio refuses a number that replied STOP (21610) when it is asked to send, so no receipt ever comes: staff
    hear of it as of a failed receipt, once for the message."""
    twilio.state.unsubscribed.add(MOBILE)
    row = text_row(kind=Notification.Kind.CALL_TODAY, priority=priority)
    assert text_send(notification_id=row.pk) == "failed"
    alerts = Notification.objects.filter(kind=Notification.Kind.TEXT_FAILED, failed_text=row)
    assert alerts.count() == (1 if alerted else 0)
    if alerted:
        [alert] = alerts
        assert (alert.recipient, alert.channel, alert.request) == (
            settings.CLINIC_URGENT_EMAIL,
            Notification.Channel.EMAIL,
            row.request,
        )
        # Resent by staff and refused again: the message has its alert already.
        assert notification_resend(notification=row)
        assert text_send(notification_id=row.pk) == "failed"
        assert alerts.count() == 1
        # The e-mail says why, without a health detail.
        message = notification_email(alert)
        assert "21610" in message.body and row.request.reference in message.subject
