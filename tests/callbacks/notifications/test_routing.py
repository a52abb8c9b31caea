"""Recipients: every notification's address is decided in callbacks.notifications.routing."""

import pytest

from callbacks.models import Notification, Priority
from callbacks.notifications.routing import booking_email_recipient, new_request_routes, staff_address_for
from tests.factories import CallbackRequestFactory

pytestmark = pytest.mark.django_db
Kind = Notification.Kind


@pytest.fixture(autouse=True)
def addresses(settings):
    settings.CLINIC_URGENT_EMAIL = "urgent@clinic.test"
    settings.CLINIC_FRONT_DESK_EMAIL = "desk@clinic.test"
    settings.CLINIC_URGENT_WEBHOOK_URL = "https://chat.clinic.test/hook"
    settings.CLINIC_PATIENT_CONFIRMATION_EMAIL = True


@pytest.mark.parametrize(
    ("priority", "address"),
    [
        (Priority.EMERGENCY, "urgent@clinic.test"),
        (Priority.URGENT, "urgent@clinic.test"),
        (Priority.REVIEW, "desk@clinic.test"),
        (Priority.ROUTINE, "desk@clinic.test"),
    ],
)
def test_staff_address_follows_the_urgent_priorities(priority, address):
    assert staff_address_for(priority) == address


def test_an_urgent_request_with_an_email_gets_three_routes():
    request = CallbackRequestFactory(priority=Priority.URGENT, email="pat@example.com")
    routes = [(r.kind, r.channel, r.recipient) for r in new_request_routes(request)]
    assert routes == [
        (Kind.STAFF_NEW_REQUEST, "email", "urgent@clinic.test"),
        (Kind.STAFF_NEW_REQUEST, "webhook", "https://chat.clinic.test/hook"),
        (Kind.PATIENT_CONFIRMATION, "email", "pat@example.com"),
    ]


def test_a_routine_request_without_an_email_only_tells_the_front_desk():
    request = CallbackRequestFactory(priority=Priority.ROUTINE, email="")
    assert [(r.kind, r.recipient) for r in new_request_routes(request)] == [
        (Kind.STAFF_NEW_REQUEST, "desk@clinic.test")
    ]


@pytest.mark.parametrize(
    ("kind", "email", "recipient"),
    [
        (Kind.BOOKING_CONFIRMED, "pat@example.com", "pat@example.com"),
        (Kind.BOOKING_DECLINED, "pat@example.com", "pat@example.com"),
        (Kind.BOOKING_REMINDER, "", ""),
        (Kind.BOOKING_CANCELLED, "", "desk@clinic.test"),
    ],
)
def test_appointment_emails(kind, email, recipient):
    assert booking_email_recipient(request=CallbackRequestFactory(email=email), kind=kind) == recipient


def test_a_kind_that_is_not_about_an_appointment_is_refused():
    with pytest.raises(ValueError, match="not an appointment e-mail"):
        booking_email_recipient(request=CallbackRequestFactory(), kind=Kind.ESCALATION)
