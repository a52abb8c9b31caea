"""The online request capacity page (hours, daily limit, pause), for those with the permission, and today's
online requests by hour against the limit on the admin home."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callbacks.models import ConsentMethod, IntakeCapacity, Priority, RequestDayCount
from clinic.hours import clinic_zone
from tests.factories import CallbackRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:callbacks_intakecapacity_changelist")
ADD = reverse("admin:callbacks_intakecapacity_add")
CHANGE = reverse("admin:callbacks_intakecapacity_change", args=[1])


def staff_client(*groups: str) -> Client:
    user = UserFactory()
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    client = Client()
    client.force_login(user)
    return client


def form(**changes) -> dict:
    return {
        "hours": "mon-fri 08:00-17:00",
        "daily_cap": "40",
        "suspended_from_0": "",
        "suspended_from_1": "",
        "suspended_until_0": "",
        "suspended_until_1": "",
        "suspension_reason": "",
        **changes,
    }


def test_staff_without_the_permission_cannot_see_or_change_capacity():
    client = staff_client("Privacy officer")
    assert client.get(CHANGELIST).status_code == 403
    assert client.post(ADD, form()).status_code == 403
    assert not IntakeCapacity.objects.exists()


def test_the_front_desk_sets_hours_and_a_limit_starting_from_the_environments_values(settings):
    settings.CLINIC_REQUEST_HOURS = "mon-sat 09:00-16:00"
    settings.CLINIC_REQUEST_DAILY_CAP = 25
    client = staff_client("Triage staff")
    page = client.get(ADD).content.decode()
    assert 'value="mon-sat 09:00-16:00"' in page and 'value="25"' in page
    saved = client.post(ADD, form(), follow=True)
    assert saved.redirect_chain[-1][0] == CHANGE
    row = IntakeCapacity.objects.get()
    assert (row.hours, row.daily_cap) == ("mon-fri 08:00-17:00", 40)
    assert "Saved." in saved.content.decode()
    # One row only: "add" leads to it, and it cannot be deleted.
    again = client.post(ADD, form(daily_cap="5"))
    assert again.status_code == 302 and again["Location"] == CHANGE
    assert IntakeCapacity.objects.get().daily_cap == 40
    assert client.get(reverse("admin:callbacks_intakecapacity_delete", args=[1])).status_code == 403


def test_the_front_desk_pauses_online_requests_with_a_reason_and_an_end():
    client = staff_client("Triage staff")
    client.post(ADD, form())
    until = timezone.localtime(timezone.now(), clinic_zone()) + dt.timedelta(days=2)
    saved = client.post(
        CHANGE,
        form(
            suspended_until_0=until.strftime("%Y-%m-%d"),
            suspended_until_1="12:00",
            suspension_reason="Staff training day",
        ),
        follow=True,
    )
    assert "Saved. Paused. " in saved.content.decode()
    row = IntakeCapacity.objects.get()
    assert row.suspension_reason == "Staff training day"
    assert timezone.localtime(row.suspended_until, clinic_zone()).strftime("%Y-%m-%d %H:%M") == (
        until.strftime("%Y-%m-%d") + " 12:00"
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"hours": "mon-fri 9-5"}, "hours", "cannot read &#x27;mon-fri 9-5&#x27;"),
        ({"hours": "mon-fri 17:00-08:00"}, "hours", "closes before it opens"),
        ({"suspended_until_0": "2030-01-01", "suspended_until_1": "12:00"}, "suspension_reason", "Give a short reason"),
        ({"suspension_reason": "Training"}, "suspended_until", "Give the date and time online requests open again"),
        (
            {
                "suspended_from_0": "2030-01-02",
                "suspended_from_1": "09:00",
                "suspended_until_0": "2030-01-01",
                "suspended_until_1": "12:00",
                "suspension_reason": "Training",
            },
            "suspended_until",
            "The pause must end after it starts",
        ),
    ],
)
def test_wrong_settings_are_explained_next_to_the_field_and_nothing_is_saved(changes, field, message):
    client = staff_client("Triage staff")
    page = client.post(ADD, form(**changes))
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(rf'<div class="form-row[^"]*field-{field}[^"]*">.*?{re.escape(message)}', html, re.S), html[:3000]
    assert not IntakeCapacity.objects.exists()


def test_the_admin_home_shows_todays_online_requests_by_hour_against_the_limit():
    IntakeCapacity.objects.create(daily_cap=10)
    zone = clinic_zone()
    now = timezone.localtime(timezone.now(), zone)
    hour = now.replace(minute=0, second=0, microsecond=0)
    RequestDayCount.objects.create(day=now.date(), routine=3)
    for priority in (Priority.ROUTINE, Priority.ROUTINE, Priority.URGENT):
        CallbackRequestFactory(priority=priority, consent_method=ConsentMethod.ONLINE, created_at=hour)
    # Entered by staff from a phone call: not an online request.
    CallbackRequestFactory(consent_method=ConsentMethod.PHONE, consent_recorded_by=UserFactory(), created_at=hour)
    if now.hour > 0:
        CallbackRequestFactory(consent_method=ConsentMethod.ONLINE, created_at=hour - dt.timedelta(hours=1))
    # Yesterday's are not today's.
    CallbackRequestFactory(consent_method=ConsentMethod.ONLINE, created_at=hour - dt.timedelta(days=1))
    html = staff_client("Triage staff").get(reverse("admin:index")).content.decode()
    summary = re.search(r'id="triage-capacity-summary">(.*?)</p>', html, re.S).group(1)
    earlier = 1 if now.hour > 0 else 0
    assert f"{3 + earlier} online requests so far today" in " ".join(summary.split())
    assert "Routine places taken: <strong>3 of 10</strong>" in summary
    assert 'href="/admin/callbacks/intakecapacity/"' in summary
    rows = re.findall(r'<tr><th scope="row">(\d\d):00</th><td>(\d+)</td><td>(\d+)</td><td>.*?(\d+)</td></tr>', html)
    assert rows[-1] == (f"{now.hour:02d}", "3", "2", str(2 + earlier))
    if earlier:
        assert rows[-2] == (f"{now.hour - 1:02d}", "1", "1", "1")
