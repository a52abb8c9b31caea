"""The admin as the front desk sees it: the home page, what is hidden by permission, the request page of a
booking, the status form, the consent as version and time, and times in the clinic's zone."""

import html as html_lib
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from callbacks.booking.desk import appointment_book_for_caller
from callbacks.models import Appointment, CallbackRequest
from callbacks.requests.consent import consent_text_sha256
from clinic.hours import clinic_zone
from tests.callbacks.booking.test_booking import a_free_slot, book
from tests.factories import CallbackRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

HOME = reverse("admin:index")
CHANGELIST = reverse("admin:callbacks_callbackrequest_changelist")


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def desk_user():
    user = UserFactory(username="fran", first_name="Fran", last_name="Desk")
    user.groups.add(Group.objects.get(name="Triage staff"))
    return user


@pytest.fixture
def desk(desk_user):
    return client_for(desk_user)


def change_url(obj):
    return reverse("admin:callbacks_callbackrequest_change", args=[obj.pk])


# The home page -------------------------------------------------------------------------------------------------


def test_the_desk_home_starts_with_queue_and_diary_and_hides_technical_sections(desk):
    page = desk.get(HOME)
    html = page.content.decode()
    links = re.findall(r'<nav class="triage-desk-links".*?</nav>', html, re.S)[0]
    assert [html_lib.unescape(label) for label in re.findall(r">([^<]+)</a>", links)] == [
        "Callback queue",
        "Today's diary",
        "This week",
        "Book for a caller",
        "Outcome report",
    ]
    for technical in ("Authentication and Authorization", "Axes", "OTP", "Technical settings"):
        assert technical not in html
    # The clinic's own sections, the queue first.
    sections = [app["app_label"] for app in page.context["app_list"]]
    assert sections[0] == "callbacks"
    assert page.context["app_list"][0]["models"][0]["object_name"] == "CallbackRequest"


def test_a_superuser_sees_technical_sections_last_and_apart(admin_client):
    page = admin_client.get(HOME)
    labels = [app["app_label"] for app in page.context["app_list"]]
    technical = {"auth", "axes", "otp_totp"}
    clinic = [label for label in labels if label not in technical]
    assert labels[0] == "callbacks" and "clinic" in clinic
    assert set(labels[len(clinic) :]) == technical  # all technical sections after all of the clinic's
    html = page.content.decode()
    assert html.index("Callback requests") < html.index("Technical settings") < html.index("Authentication")


def test_technical_pages_are_refused_to_the_desk(desk):
    for url in (
        reverse("admin:auth_user_changelist"),
        reverse("admin:axes_accessattempt_changelist"),
        reverse("admin:otp_totp_totpdevice_changelist"),
    ):
        assert desk.get(url).status_code == 403


# The request page -------------------------------------------------------------------------------------------------


def test_a_bookings_request_page_shows_the_appointment_with_confirm_and_decline(desk, service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    page = desk.get(change_url(appointment.request))
    body, html = text(page), page.content.decode()
    local = appointment.starts_at.astimezone(clinic_zone())
    assert "Appointment" in body and "Call between" not in body
    assert 'value="Confirm appointment"' in html and 'value="Decline appointment"' in html
    assert reverse("admin:callbacks_appointment_diary_action", args=[appointment.pk, "confirm"]) in html
    assert "UTC" not in str(appointment) and local.tzname() in str(appointment)
    response = desk.post(
        reverse("admin:callbacks_appointment_diary_action", args=[appointment.pk, "confirm"]),
        {"next": change_url(appointment.request)},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == change_url(appointment.request)
    assert "Confirmed:" in text(response)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED
    assert 'value="Confirm appointment"' not in response.content.decode()


def test_the_appointment_page_title_is_in_clinic_time(admin_client, service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    page = admin_client.get(reverse("admin:callbacks_appointment_change", args=[appointment.pk]))
    title = re.search(r"<title>(.*?)</title>", page.content.decode(), re.S).group(1)
    local = appointment.starts_at.astimezone(clinic_zone())
    assert "UTC" not in title
    assert f"{local:%a %d %b %Y, %H:%M} {local.tzname()}" in title


def test_the_status_form_opens_on_the_current_status(desk):
    contacted = CallbackRequestFactory(status=CallbackRequest.Status.CONTACTED)
    page = desk.get(change_url(contacted))
    html = page.content.decode()
    select = re.search(r'<select name="status-status".*?</select>', html, re.S).group(0)
    assert re.search(r'<option value="contacted" selected>Contacted \(current\)</option>', select)
    assert '<option value="in_progress">In progress</option>' in select


def test_contacted_without_a_reached_call_is_refused_on_the_page(desk):
    request = CallbackRequestFactory()
    response = desk.post(
        reverse("admin:callbacks_callbackrequest_workflow", args=[request.pk, "status"]),
        {"status-status": "contacted"},
    )
    assert response.status_code == 200
    assert "Log a call that reached them" in text(response)
    request.refresh_from_db()
    assert request.status == CallbackRequest.Status.NEW


def test_consent_shows_version_and_time_and_the_hash_only_to_the_privacy_officer(desk, desk_user):
    request = CallbackRequestFactory()
    page = text(desk.get(change_url(request)))
    assert f"Version {request.consent_version}, given" in page
    assert "online, by the patient" in page
    assert consent_text_sha256() not in page
    officer = UserFactory(username="privacy")
    officer.groups.add(Group.objects.get(name="Privacy officer"))
    assert officer.has_perm("callbacks.view_consent_proof")
    assert consent_text_sha256() in text(client_for(officer).get(change_url(request)))
    desk_user.user_permissions.add(Permission.objects.get(codename="view_consent_proof"))
    assert consent_text_sha256() in text(client_for(desk_user).get(change_url(request)))


def test_a_phone_booking_shows_who_took_the_consent_and_the_call(desk, desk_user, service, practitioner):
    slot = a_free_slot(service)
    appointment = appointment_book_for_caller(
        service=service,
        practitioner_id=practitioner.pk,
        starts_at=slot.starts_at,
        name="Chris Caller",
        phone="+447400111222",
        reason="Back went at work.",
        staff=desk_user,
    )
    page = desk.get(change_url(appointment.request))
    assert "by phone, to Fran Desk" in text(page)
    received = page.context["timeline"][-1]
    assert (received.title, received.actor) == ("Booked by phone for the caller (consent given by phone)", "Fran Desk")


def test_the_queue_lists_key_columns_first_for_narrow_screens(desk):
    CallbackRequestFactory()
    html = desk.get(CHANGELIST).content.decode()
    headers = re.findall(r'<th scope="col" class="(?:sortable )?column-(\w+)', html)
    assert headers[:4] == ["reference", "priority_badge", "status", "deadline_left"]
