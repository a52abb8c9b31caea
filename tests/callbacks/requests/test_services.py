import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from callbacks.models import CallbackRequest, Notification, Priority
from callbacks.requests import services
from callbacks.requests.consent import CURRENT_CONSENT_VERSION, consent_text_sha256
from clinic.hours import clinic_zone
from tests.factories import CallbackRequestFactory

pytestmark = pytest.mark.django_db


def create(**overrides):
    start = timezone.now() + dt.timedelta(days=1)
    arguments = {
        "name": "Sam Patient",
        "phone": "+447400123456",
        "window_start": start,
        "window_end": start + dt.timedelta(hours=2),
        "reason": "Back spasm",
        "consent_version": CURRENT_CONSENT_VERSION,
    }
    arguments.update(overrides)
    return services.callback_request_create(**arguments)


def test_create_records_consent_version_hash_and_time(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        request = create()
    request.refresh_from_db()
    assert request.consent_version == CURRENT_CONSENT_VERSION
    assert request.consent_text_sha256 == consent_text_sha256()
    assert abs(request.consent_given_at - timezone.now()) < dt.timedelta(seconds=5)
    assert request.status == CallbackRequest.Status.NEW


def test_create_queues_after_commit_only(django_capture_on_commit_callbacks):
    with mock.patch("callbacks.notifications.outbox.notifications_enqueue") as enqueue:
        with django_capture_on_commit_callbacks() as callbacks:
            request = create()
        enqueue.assert_not_called()
        for callback in callbacks:
            callback()
    enqueue.assert_called_once()
    assert enqueue.call_args.args == ([request.notifications.get().pk],)


def test_reference_clash_is_retried():
    taken = CallbackRequestFactory(reference="CB-AAAAA")
    with mock.patch("callbacks.requests.services.reference_generate", side_effect=[taken.reference, "CB-BBBBB"]):
        request = create()
    assert request.reference == "CB-BBBBB"
    assert CallbackRequest.objects.count() == 2


def test_nothing_is_saved_when_the_outbox_write_fails():
    with (
        mock.patch("callbacks.requests.services.notifications_for_new_request", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        create()
    assert CallbackRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("priority", "recipient"),
    [
        (Priority.EMERGENCY, "urgent@clinic.localhost"),
        (Priority.URGENT, "urgent@clinic.localhost"),
        (Priority.REVIEW, "frontdesk@clinic.localhost"),
        (Priority.ROUTINE, "frontdesk@clinic.localhost"),
    ],
)
def test_staff_notification_goes_to_the_address_for_its_priority(priority, recipient):
    request = create(priority=priority)
    staff = request.notifications.get(kind=Notification.Kind.STAFF_NEW_REQUEST, channel=Notification.Channel.EMAIL)
    assert staff.recipient == recipient


def test_urgent_requests_also_go_to_the_webhook_when_set(settings):
    settings.CLINIC_URGENT_WEBHOOK_URL = "https://chat.example/hook"
    urgent = create(priority=Priority.URGENT)
    routine = create(priority=Priority.ROUTINE)
    assert urgent.notifications.filter(channel="webhook", recipient="https://chat.example/hook").exists()
    assert not routine.notifications.filter(channel="webhook").exists()


def test_patient_confirmation_only_with_an_email(settings):
    assert not create().notifications.filter(kind=Notification.Kind.PATIENT_CONFIRMATION).exists()
    with_email = create(email="pat@example.com")
    assert with_email.notifications.filter(kind="patient_confirmation", recipient="pat@example.com").exists()
    settings.CLINIC_PATIENT_CONFIRMATION_EMAIL = False
    assert not create(email="pat@example.com").notifications.filter(kind="patient_confirmation").exists()


@pytest.mark.parametrize(
    ("priority", "deadline"),
    [
        # Urgent and emergency: their own working-time deadline, sooner than the window the patient chose.
        (Priority.EMERGENCY, "2026-12-01 10:15"),
        (Priority.URGENT, "2026-12-01 12:00"),
        # Review and routine: the end of the chosen window (Wednesday 10:00 to 12:00), as the patient was told.
        (Priority.REVIEW, "2026-12-02 12:00"),
        (Priority.ROUTINE, "2026-12-02 12:00"),
    ],
)
def test_each_priority_gets_its_working_time_deadline(priority, deadline):
    tuesday_morning = dt.datetime(2026, 12, 1, 10, 0, tzinfo=clinic_zone())
    with mock.patch("django.utils.timezone.now", return_value=tuesday_morning):
        request = create(priority=priority)
    assert request.deadline == dt.datetime.fromisoformat(deadline).replace(tzinfo=clinic_zone())


def test_a_booking_is_to_be_confirmed_before_the_appointment_starts():
    tuesday_morning = dt.datetime(2026, 12, 1, 10, 0, tzinfo=clinic_zone())
    soon = tuesday_morning + dt.timedelta(hours=3)
    with mock.patch("django.utils.timezone.now", return_value=tuesday_morning):
        request = create(kind="booking", window_start=soon, window_end=soon + dt.timedelta(minutes=45))
    # The routine allowance would run to Wednesday 18:00: the appointment comes first.
    assert request.deadline == soon
