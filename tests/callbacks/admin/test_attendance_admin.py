"""Attendance in one click from the diary and from the request's page (issue 26, item 3)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Appointment, CallbackRequest
from clinic.hours import clinic_zone
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db


def diary_url(appointment):
    day = timezone.localtime(appointment.starts_at, clinic_zone()).date()
    return reverse("admin:callbacks_appointment_diary") + f"?view=day&day={day.isoformat()}"


def test_the_diary_marks_a_visit_attended_in_one_click(admin_client, service, practitioner):
    visit = AppointmentFactory(service=service, practitioner=practitioner)
    page = admin_client.get(diary_url(visit)).content.decode()
    ref = visit.request.reference
    for words in ("arrived", "attended", "did not attend", "cancelled late"):
        assert f'aria-label="Mark {ref} {words}"' in page
    url = reverse("admin:callbacks_appointment_attendance", args=[visit.pk, "attended"])
    page = admin_client.post(url, {"next": diary_url(visit)}, follow=True).content.decode()
    assert f"{ref} marked “Attended”." in page
    assert "Attended</strong>" in page  # the mark shows in the diary, with who made it
    visit.refresh_from_db()
    assert visit.attendance == Appointment.Attendance.ATTENDED


def test_tomorrows_visit_offers_no_attended_button(admin_client, service, practitioner):
    later = AppointmentFactory(
        service=service, practitioner=practitioner, starts_at=timezone.now() + dt.timedelta(days=2)
    )
    page = admin_client.get(diary_url(later)).content.decode()
    assert f"Mark {later.request.reference} attended" not in page
    # Posted anyway (an old page): refused with the reason, nothing changed.
    url = reverse("admin:callbacks_appointment_attendance", args=[later.pk, "attended"])
    page = admin_client.post(url, follow=True).content.decode()
    assert "Nothing was changed" in page and "once the appointment has started" in page
    later.refresh_from_db()
    assert later.attendance == ""


def test_did_not_attend_from_the_request_page_says_the_request_is_back_in_the_queue(
    admin_client, service, practitioner
):
    visit = AppointmentFactory(service=service, practitioner=practitioner)
    change_url = reverse("admin:callbacks_callbackrequest_change", args=[visit.request_id])
    page = admin_client.get(change_url).content.decode()
    assert f'aria-label="Mark {visit.request.reference} did not attend"' in page
    url = reverse("admin:callbacks_appointment_attendance", args=[visit.pk, "dna"])
    response = admin_client.post(url, {"next": change_url}, follow=True)
    assert response.redirect_chain[-1][0] == change_url
    assert "back in the queue for a call, with a new deadline" in response.content.decode()
    visit.request.refresh_from_db()
    assert visit.request.status == CallbackRequest.Status.IN_PROGRESS


def test_marking_needs_the_appointment_change_permission(client, service, practitioner):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_appointment"))
    client.force_login(viewer)
    visit = AppointmentFactory(service=service, practitioner=practitioner)
    url = reverse("admin:callbacks_appointment_attendance", args=[visit.pk, "attended"])
    assert client.post(url).status_code == 403
    assert f"Mark {visit.request.reference}" not in client.get(diary_url(visit)).content.decode()


def test_the_appointments_list_shows_and_filters_attendance(admin_client, service, practitioner):
    attended = AppointmentFactory(service=service, practitioner=practitioner, attendance="attended")
    unmarked = AppointmentFactory(
        service=service, practitioner=practitioner, starts_at=timezone.now() - dt.timedelta(days=1)
    )
    page = admin_client.get(reverse("admin:callbacks_appointment_changelist") + "?attendance__exact=attended")
    text = page.content.decode()
    assert attended.request.reference in text and unmarked.request.reference not in text
    assert ">Attended<" in text
