"""Patients on the staff screens: the request page's patient panel (link, not the same person, unlink), the
patient's page with their requests and appointments, search by name, phone or reference, and the privacy
officer's download and erasure of a patient's whole record."""

import json
import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from callbacks.models import CallbackRequest, Patient, PatientLinkEvent, PrivacyLogEntry
from tests.callbacks.booking.test_booking import a_free_slot, book
from tests.callbacks.patients.test_patients import new_request
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def client_for(group: str, username: str) -> Client:
    user = UserFactory(username=username, first_name=username.title(), last_name="Staff")
    user.groups.add(Group.objects.get(name=group))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def desk():
    return client_for("Triage staff", "fran")


@pytest.fixture
def officer():
    return client_for("Privacy officer", "dana")


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def change_url(request):
    return reverse("admin:callbacks_callbackrequest_change", args=[request.pk])


def patient_action(request, action):
    return reverse("admin:callbacks_callbackrequest_patient", args=[request.pk, action])


def test_the_request_page_offers_a_phone_only_match_and_links_it(desk):
    first = new_request()
    other = new_request(name="J Smith")
    left = other.patient_record_id
    page = text(desk.get(change_url(other)))
    assert f"Same phone number: patient {first.patient_record.number}, Jane Smith. The same person?" in page
    response = desk.post(patient_action(other, "link"), {"patient": first.patient_record_id})
    assert response.status_code == 302 and response["Location"].endswith("#patient")
    page = text(desk.get(change_url(other)))
    assert f"{other.reference} is now linked to patient {first.patient_record.number}" in page
    assert f"Patient {first.patient_record.number}, Jane Smith: 1 other request" in page
    # The request's timeline says who linked it, from which patient to which.
    assert f"Patient: Linked by staff: P-{left:06d} → {first.patient_record.number}" in page
    assert "Same phone number" not in page


def test_not_the_same_person_and_unlink_from_the_request_page(desk):
    first = new_request()
    second = new_request()
    stranger = new_request(name="Tom Smith")
    desk.post(patient_action(stranger, "not_same"), {"patient": first.patient_record_id})
    assert "Same phone number" not in text(desk.get(change_url(stranger)))
    desk.post(patient_action(second, "unlink"))
    second.refresh_from_db()
    assert second.patient_record_id != first.patient_record_id
    assert "is unlinked: it is now patient" in text(desk.get(change_url(second)))
    # Refused, with the reason, and nothing changed: a request alone on its patient has nothing to unlink from.
    before = Patient.objects.count()
    desk.post(patient_action(stranger, "unlink"))
    assert "Nothing was changed" in text(desk.get(change_url(stranger)))
    assert Patient.objects.count() == before


def test_linking_needs_the_permission(officer):
    first, other = new_request(), new_request(name="J Smith")
    assert officer.post(patient_action(other, "link"), {"patient": first.patient_record_id}).status_code == 403
    assert not PatientLinkEvent.objects.filter(action=PatientLinkEvent.Action.LINKED).exists()


def test_the_patient_page_lists_their_requests_and_appointments_and_its_view_is_logged(desk, service, practitioner):
    first = new_request(name="Alex Example", phone="+447400123456")
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    assert appointment.request.patient_record_id == first.patient_record_id
    page = desk.get(reverse("admin:callbacks_patient_change", args=[first.patient_record_id]))
    body = text(page)
    assert f"Patient {first.patient_record.number}: Alex Example" in body
    assert "Requests (2)" in body and first.reference in body and appointment.request.reference in body
    assert "Appointments (1)" in body and "Sam Physio" in body
    listed = PrivacyLogEntry.objects.filter(action=PrivacyLogEntry.Action.LISTED).values_list("reference", flat=True)
    assert {first.reference, appointment.request.reference, first.patient_record.number} <= set(listed)


@pytest.mark.parametrize("term", ["Jane", "07400 123456", "+44 7400 123456", "reference"])
def test_patients_are_found_by_name_phone_typed_any_way_or_reference(desk, term):
    request = new_request()
    new_request(name="Other Person", phone="+447400999888")
    term = request.reference if term == "reference" else term
    found = desk.get(reverse("admin:callbacks_patient_changelist"), {"q": term})
    assert request.patient_record.number in text(found)
    assert "Other Person" not in text(found)


def test_searching_the_queue_by_reference_brings_the_patients_other_requests(desk):
    first = new_request()
    second = new_request(name="jane smith")
    found = text(desk.get(reverse("admin:callbacks_callbackrequest_changelist"), {"q": first.reference}))
    assert first.reference in found and second.reference in found


def test_the_privacy_officer_downloads_a_patients_whole_record(officer):
    first, second = new_request(), new_request()
    request_page = text(officer.get(change_url(first)))
    assert f"This request only. Patient {first.patient_record.number} has 1 other request" in request_page
    url = reverse("admin:callbacks_patient_privacy_export", args=[first.patient_record_id])
    assert f"({first.reference}, {second.reference})" in text(officer.get(url))
    response = officer.post(url)
    assert response["Content-Disposition"] == f'attachment; filename="patient-data-{first.patient_record.number}.json"'
    document = json.loads(response.content)
    assert {r["request"]["reference"] for r in document["requests"]} == {first.reference, second.reference}


def test_the_privacy_officer_erases_a_patients_whole_record_and_the_desk_cannot(officer, desk):
    first, _second = new_request(), new_request()
    url = reverse("admin:callbacks_patient_privacy_erase", args=[first.patient_record_id])
    assert desk.post(url).status_code == 403
    assert "This cannot be undone" in text(officer.get(url))
    response = officer.post(url, follow=True)
    assert f"Patient {first.patient_record.number} and their 2 request(s)" in text(response)
    assert not CallbackRequest.objects.exists() and not Patient.objects.exists()
