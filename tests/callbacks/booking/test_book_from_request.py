"""Booking from a request's page: the appointment joins that request (no second request), whose kind, time,
deadline and status follow; and "Book for a caller" warns before booking a phone number the clinic knows."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callbacks.booking.attendance import appointment_attendance_mark
from callbacks.booking.from_request import RequestNotBookable, appointment_book_for_request
from callbacks.booking.slots import SlotTaken
from callbacks.models import Appointment, CallbackRequest, FollowUp, Priority, RequestEvent
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
from callbacks.requests.services import callback_request_create
from intake.selectors import BACK_PAIN, definition_current
from intake.services import QuestionnaireAnswers
from tests.callbacks.booking.test_booking import a_free_slot, book
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BOOK = reverse("admin:callbacks_appointment_book")


def callback(name="Jane Smith", phone="+447400123456", questionnaire=None) -> CallbackRequest:
    start = timezone.now() + dt.timedelta(days=5)
    return callback_request_create(
        name=name,
        phone=phone,
        email="jane@example.test",
        window_start=start,
        window_end=start + dt.timedelta(hours=2),
        reason="Back pain after lifting.",
        consent_version=CURRENT_CONSENT_VERSION,
        questionnaire=questionnaire,
    )


@pytest.fixture
def desk_user():
    user = UserFactory(username="fran", first_name="Fran", last_name="Desk")
    user.groups.add(Group.objects.get(name="Triage staff"))
    return user


@pytest.fixture
def desk(desk_user):
    client = Client()
    client.force_login(desk_user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_a_request_booked_from_its_page_holds_the_appointment_itself(service, practitioner):
    staff = UserFactory()
    request = callback()
    slot = a_free_slot(service)
    appointment = appointment_book_for_request(
        request=request,
        service=service,
        practitioner_id=practitioner.pk,
        starts_at=slot.starts_at,
        staff=staff,
        confirm=True,
    )
    request.refresh_from_db()
    assert appointment.request_id == request.pk
    assert CallbackRequest.objects.count() == 1
    assert request.kind == CallbackRequest.Kind.BOOKING
    assert (request.window_start, request.window_end) == (slot.starts_at, slot.ends_at)
    assert appointment.status == Appointment.Status.CONFIRMED
    assert request.status == CallbackRequest.Status.BOOKED
    # Once the patient has been seen: one set of follow-ups, for the one request.
    appointment_attendance_mark(
        appointment=appointment, attendance="attended", user=staff, now=slot.starts_at + dt.timedelta(minutes=5)
    )
    assert (
        FollowUp.objects.filter(request__patient_record=request.patient_record).values("request").distinct().count()
        == 1
    )
    fields = set(RequestEvent.objects.filter(request=request, action="edited").values_list("field", flat=True))
    assert {"appointment", "kind"} <= fields


def test_an_unconfirmed_booking_moves_the_deadline_to_the_appointment_at_the_latest(service, practitioner):
    request = callback()
    request.deadline = timezone.now() + dt.timedelta(days=30)
    request.save(update_fields=["deadline"])
    slot = a_free_slot(service)
    appointment_book_for_request(
        request=request,
        service=service,
        practitioner_id=practitioner.pk,
        starts_at=slot.starts_at,
        staff=UserFactory(),
    )
    request.refresh_from_db()
    assert request.deadline == slot.starts_at
    assert request.status == CallbackRequest.Status.NEW
    assert RequestEvent.objects.filter(request=request, field="deadline").exists()


def test_safety_answers_asked_on_the_phone_join_a_request_without_answers_and_can_raise_it(service, practitioner):
    request = callback()
    slot = a_free_slot(service)
    answers = QuestionnaireAnswers(
        definition=definition_current(BACK_PAIN), answers={"saddle_numbness": True}, complete=False
    )
    appointment = appointment_book_for_request(
        request=request,
        service=service,
        practitioner_id=practitioner.pk,
        starts_at=slot.starts_at,
        staff=UserFactory(),
        questionnaire=answers,
        confirm=True,
    )
    request.refresh_from_db()
    assert request.questionnaire_response is not None
    assert request.priority == Priority.EMERGENCY
    # Flagged: left requested for a clinician to read first.
    assert appointment.status == Appointment.Status.REQUESTED
    # As when staff ask the questions on the request's page: the history says so, and staff are told again.
    fields = set(RequestEvent.objects.filter(request=request).values_list("field", flat=True))
    assert {"screening", "priority"} <= fields
    assert request.notifications.filter(kind="staff_raised").exists()


def test_a_held_slot_or_a_request_with_an_appointment_books_nothing(service, practitioner):
    request = callback()
    slot = a_free_slot(service)
    book(service, practitioner, slot.starts_at)
    with pytest.raises(SlotTaken):
        appointment_book_for_request(
            request=request,
            service=service,
            practitioner_id=practitioner.pk,
            starts_at=slot.starts_at,
            staff=UserFactory(),
        )
    request.refresh_from_db()
    assert request.kind == CallbackRequest.Kind.CALLBACK
    booked = book(service, practitioner, a_free_slot(service, days_ahead=3).starts_at)
    with pytest.raises(RequestNotBookable):
        appointment_book_for_request(
            request=booked.request,
            service=service,
            practitioner_id=practitioner.pk,
            starts_at=a_free_slot(service, days_ahead=4).starts_at,
            staff=UserFactory(),
        )
    assert Appointment.objects.count() == 2


# The admin pages -------------------------------------------------------------------------------------------


def test_the_request_page_offers_book_an_appointment_prefilled_from_the_request(desk, service, practitioner):
    request = callback()
    page = desk.get(reverse("admin:callbacks_callbackrequest_change", args=[request.pk]))
    assert f"{BOOK}?request={request.pk}" in page.content.decode()
    slot = a_free_slot(service)
    url = f"{BOOK}?service={service.pk}&practitioner=&day={slot.local_start.date().isoformat()}&request={request.pk}"
    form_page = desk.get(url)
    body = form_page.content.decode()
    assert 'value="Jane Smith"' in body and "jane@example.test" in body and "Back pain after lifting." in body
    assert "the appointment joins that request" in text(form_page)
    # No consent tick needed: the request holds its consent. What is posted for the details is ignored.
    response = desk.post(url, {"slot": slot.key, "name": "Someone Else", "confirm_now": "on"})
    assert response.status_code == 302, text(response)
    assert response["Location"] == reverse("admin:callbacks_callbackrequest_change", args=[request.pk])
    request.refresh_from_db()
    assert request.appointment.status == Appointment.Status.CONFIRMED
    assert request.name == "Jane Smith"
    assert CallbackRequest.objects.count() == 1


def test_a_request_with_answers_shows_them_and_does_not_ask_again(desk, service, practitioner):
    answers = QuestionnaireAnswers(
        definition=definition_current(BACK_PAIN), answers={"saddle_numbness": False}, complete=False
    )
    request = callback(questionnaire=answers)
    slot = a_free_slot(service)
    url = f"{BOOK}?service={service.pk}&practitioner=&day={slot.local_start.date().isoformat()}&request={request.pk}"
    body = desk.get(url).content.decode()
    assert "(answered with the request)" in body
    assert re.search(r'name="q_saddle_numbness" value="no"[^>]*checked', body) or re.search(
        r'value="no"[^>]*name="q_saddle_numbness"[^>]*checked', body
    )


def test_book_for_a_caller_warns_about_a_known_phone_and_books_nothing_until_told(desk, service, practitioner):
    known = callback(phone="+447400111222")
    slot = a_free_slot(service)
    url = f"{BOOK}?service={service.pk}&practitioner=&day={slot.local_start.date().isoformat()}"
    data = {
        "slot": slot.key,
        "name": "Jane Smith",
        "phone": "07400 111222",
        "reason": "Back again.",
        "consent": "on",
        "confirm_now": "on",
    }
    warned = desk.post(url, data)
    assert warned.status_code == 200
    assert "This phone number is a patient we know: nothing is booked yet" in text(warned)
    assert f"Book for {known.reference}" in text(warned)
    assert f'&amp;request={known.pk}"' in warned.content.decode()
    assert CallbackRequest.objects.count() == 1 and not Appointment.objects.exists()
    booked = desk.post(url, {**data, "book_anyway": "1"})
    assert booked.status_code == 302
    new = CallbackRequest.objects.exclude(pk=known.pk).get()
    # Same phone and name: the new request joins the same patient (the matching rule).
    assert new.patient_record_id == known.patient_record_id


def test_book_for_a_caller_with_an_unknown_phone_books_at_once(desk, service, practitioner):
    slot = a_free_slot(service)
    url = f"{BOOK}?service={service.pk}&practitioner=&day={slot.local_start.date().isoformat()}"
    response = desk.post(
        url, {"slot": slot.key, "name": "New Caller", "phone": "07400 333444", "reason": "Sore.", "consent": "on"}
    )
    assert response.status_code == 302
    assert Appointment.objects.count() == 1


def test_a_request_whose_appointment_was_cancelled_books_a_new_request_for_the_same_patient(
    desk, service, practitioner
):
    first = book(service, practitioner, a_free_slot(service).starts_at)
    Appointment.objects.filter(pk=first.pk).update(status=Appointment.Status.CANCELLED)
    request = first.request
    page = desk.get(reverse("admin:callbacks_callbackrequest_change", args=[request.pk]))
    assert "A new request for the same patient, with these details." in text(page)
    slot = a_free_slot(service, days_ahead=3)
    url = f"{BOOK}?service={service.pk}&practitioner=&day={slot.local_start.date().isoformat()}&request={request.pk}"
    assert "is closed or already had an appointment" in text(desk.get(url))
    # A new request: the consent is asked again, by phone; the details come prefilled.
    refused = desk.post(url, {"slot": slot.key, "name": "Alex Example", "phone": "+447400123456", "reason": "Again."})
    assert "Book only once the caller has agreed" in text(refused)
    response = desk.post(
        url,
        {"slot": slot.key, "name": "Alex Example", "phone": "+447400123456", "reason": "Again.", "consent": "on"},
    )
    assert response.status_code == 302
    new = CallbackRequest.objects.exclude(pk=request.pk).get()
    assert new.appointment.starts_at == slot.starts_at
    assert new.patient_record_id == request.patient_record_id


def test_a_new_request_booked_from_a_closed_one_keeps_its_safety_answers_and_priority(desk, service, practitioner):
    answers = QuestionnaireAnswers(
        definition=definition_current(BACK_PAIN), answers={"saddle_numbness": True}, complete=False
    )
    request = callback(questionnaire=answers)
    assert request.priority == Priority.EMERGENCY
    CallbackRequest.objects.filter(pk=request.pk).update(status=CallbackRequest.Status.CLOSED)
    slot = a_free_slot(service)
    url = f"{BOOK}?service={service.pk}&practitioner=&day={slot.local_start.date().isoformat()}&request={request.pk}"
    response = desk.post(
        url, {"slot": slot.key, "name": "Jane Smith", "phone": "+447400123456", "reason": "Again.", "consent": "on"}
    )
    assert response.status_code == 302
    new = CallbackRequest.objects.exclude(pk=request.pk).get()
    # Triaged on the answers it came with: not a routine, unscreened booking.
    assert new.questionnaire_response_id is not None
    assert new.priority == Priority.EMERGENCY
