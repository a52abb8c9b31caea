"""After sending: Back, refresh, a re-opened tab or a second send of a journey show what was sent and its
reference, never "start again", and never store a second request (one request per journey, the database
decides)."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from django.db import connection
from django.urls import reverse

from callbacks.booking.services import appointment_book
from callbacks.models import Appointment, CallbackRequest
from callbacks.requests import services
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
from callbacks.web.flow import EXPIRED_MESSAGE
from intake.models import QuestionnaireResponse
from tests.callbacks.booking.test_booking import CONTACT, a_free_slot, answer_all, choose_slot
from tests.callbacks.web.test_forms import form_data
from tests.callbacks.web.test_intake_flow import complete_questionnaire

pytestmark = pytest.mark.django_db

RESTART = "Please start again"


def flow_of(url: str) -> str:
    return re.search(r"/request-a-callback/([^/]+)/", url).group(1)


def send(client, url, data):
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        return client.post(url, data)


def shown(client, response) -> str:
    """The page a response leads to (following its redirects), as the patient sees it."""
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get(response["Location"], follow=True)
    assert page.status_code == 200
    return page.content.decode()


def session_snapshot(client) -> dict:
    return dict(client.session.items())


def session_restore(client, snapshot: dict) -> None:
    """The session as it was before sending: a second tab's or a lost write's view of it."""
    session = client.session
    session.clear()
    session.update(snapshot)
    session.save()


# A callback --------------------------------------------------------------------------------------------------


def test_back_to_a_step_or_the_details_page_after_sending_a_callback_shows_its_reference(client):
    details_url = complete_questionnaire(client)
    flow = flow_of(details_url)
    done = send(client, details_url, form_data())
    assert done["Location"] == reverse("callbacks:done")
    reference = CallbackRequest.objects.get().reference
    first_step = reverse("callbacks:step", kwargs={"flow": flow, "step": "safety"})
    for url in (
        details_url,
        first_step,
        reverse("callbacks:recheck", kwargs={"flow": flow}),
        reverse("callbacks:emergency", kwargs={"flow": flow}),
    ):
        response = client.get(url)
        assert response["Location"] == reverse("callbacks:done"), url
        page = shown(client, response)
        assert reference in page and RESTART not in page, url
        # What happens next: the call in the time chosen, and the rest of the questions to prepare for it.
        assert "We will call you in the time you chose" in page and 'id="prepare-start"' in page
    # Sent again (a second press of "Send", a resubmit after Back): the same request, nothing more stored.
    page = shown(client, send(client, details_url, form_data()))
    assert reference in page and RESTART not in page
    assert CallbackRequest.objects.count() == 1


def test_a_resent_callback_whose_session_forgot_the_sending_stores_no_second_request(client):
    details_url = complete_questionnaire(client)
    before = session_snapshot(client)
    first = shown(client, send(client, details_url, form_data()))
    reference = CallbackRequest.objects.get().reference
    assert reference in first
    # A second tab, or a session write lost to a concurrent one: the journey is unsent as far as it knows.
    session_restore(client, before)
    page = shown(client, send(client, details_url, form_data()))
    assert CallbackRequest.objects.count() == 1
    assert QuestionnaireResponse.objects.count() == 1
    assert reference in page and RESTART not in page


def test_back_on_an_earlier_journey_shows_that_journeys_reference_not_the_last_one(client):
    first_url = complete_questionnaire(client)
    send(client, first_url, form_data())
    first = CallbackRequest.objects.get()
    second_url = complete_questionnaire(client)
    send(client, second_url, form_data(phone="07400 654321"))
    second = CallbackRequest.objects.exclude(pk=first.pk).get()
    page = shown(client, client.get(first_url))
    assert first.reference in page and second.reference not in page


def test_an_unknown_flow_still_asks_to_start_again(client):
    response = client.get(reverse("callbacks:contact", kwargs={"flow": "never-sent"}), follow=True)
    assert EXPIRED_MESSAGE in response.content.decode()


# A booking ---------------------------------------------------------------------------------------------------


def test_back_after_booking_shows_the_booking_and_its_reference_not_the_callback_flow(client, service, practitioner):
    slot = a_free_slot(service)
    details_url = answer_all(client, choose_slot(client, service, slot))
    flow = flow_of(details_url)
    done = send(client, details_url, CONTACT)
    assert done["Location"] == reverse("callbacks:booking_done")
    reference = Appointment.objects.get().request.reference
    for response in (
        client.get(details_url),
        client.get(reverse("callbacks:step", kwargs={"flow": flow, "step": "safety"})),
        client.get(reverse("callbacks:booking_slots", kwargs={"service": service.pk}) + f"?flow={flow}"),
        client.post(reverse("callbacks:booking_change_time", kwargs={"flow": flow}), {"slot": slot.key}),
        send(client, details_url, CONTACT),
    ):
        assert response["Location"] == reverse("callbacks:booking_done")
        page = shown(client, response)
        assert reference in page and slot.local_start.strftime("%H:%M") in page
        assert RESTART not in page and "Request a callback ·" not in page
    assert Appointment.objects.count() == 1 and CallbackRequest.objects.count() == 1


def test_a_resent_booking_whose_session_forgot_the_sending_books_nothing_more(client, service, practitioner):
    slot = a_free_slot(service)
    details_url = answer_all(client, choose_slot(client, service, slot))
    before = session_snapshot(client)
    send(client, details_url, CONTACT)
    reference = Appointment.objects.get().request.reference
    session_restore(client, before)
    response = send(client, details_url, CONTACT)
    # Not "that time was just taken" (by this very booking): the booking made, with its reference.
    assert response["Location"] == reverse("callbacks:booking_done")
    assert reference in shown(client, response)
    assert Appointment.objects.count() == 1 and CallbackRequest.objects.count() == 1


# The services ------------------------------------------------------------------------------------------------


REQUEST = {
    "name": "Alex Example",
    "phone": "+447400123456",
    "reason": "Back spasms.",
    "consent_version": CURRENT_CONSENT_VERSION,
}


def test_the_service_stores_one_request_per_journey_and_returns_the_first():
    first = services.callback_request_create(**REQUEST, idempotency_key="journey-1")
    again = services.callback_request_create(**{**REQUEST, "name": "Someone Else"}, idempotency_key="journey-1")
    other = services.callback_request_create(**REQUEST, idempotency_key="journey-2")
    staff = [services.callback_request_create(**REQUEST) for _ in range(2)]
    assert again.pk == first.pk and again.reference == first.reference and again.name == "Alex Example"
    assert other.pk != first.pk and len({request.pk for request in staff}) == 2
    assert CallbackRequest.objects.count() == 4


# PostgreSQL: sends racing ------------------------------------------------------------------------------------

SENDS = 8


def race(send_once):
    """Run ``send_once`` in SENDS threads released together; each thread has its own database connection."""
    barrier = threading.Barrier(SENDS, timeout=60)

    def one(_):
        try:
            barrier.wait()
            return send_once()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=SENDS) as pool:
        return list(pool.map(one, range(SENDS)))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sends_of_one_journey_at_the_same_instant_store_exactly_one_request():
    results = race(lambda: services.callback_request_create(**REQUEST, idempotency_key="journey-1"))
    assert CallbackRequest.objects.count() == 1
    assert {request.reference for request in results} == {CallbackRequest.objects.get().reference}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bookings_of_one_journey_at_the_same_instant_book_exactly_once(service, practitioner):
    slot = a_free_slot(service)
    results = race(
        lambda: appointment_book(
            service=service,
            practitioner_id=practitioner.pk,
            starts_at=slot.starts_at,
            **REQUEST,
            idempotency_key="journey-1",
        )
    )
    assert Appointment.objects.count() == 1 and CallbackRequest.objects.count() == 1
    assert {appointment.pk for appointment in results} == {Appointment.objects.get().pk}
