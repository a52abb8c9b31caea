"""Day first, then the times: the details form lists only the times still open on the chosen day (issue 14,
item 6). Without JavaScript a button asks the server for the day's times; with it, call_times.js reads the
same list from the select's data attribute (walked in tests/browser/test_callback_journey.py)."""

import calendar
import datetime as dt
import json
import re
from unittest import mock

import pytest
from django.utils import timezone

from callbacks.models import CallbackRequest, ClinicClosure
from callbacks.requests.phone import phone_example
from callbacks.web.forms import NO_TIMES_THAT_DAY, SHOW_TIMES, CallbackRequestForm
from clinic.hours import clinic_zone
from tests.callbacks.web.test_forms import form_data
from tests.callbacks.web.test_intake_flow import complete_questionnaire
from tests.support.dates import next_open_day

pytestmark = pytest.mark.django_db
SATURDAY, SUNDAY = 5, 6
WEEKDAY_TIMES = ["08:00", "10:00", "12:00", "14:00", "16:00"]


def times_listed(form) -> list[str]:
    return [value for value, _ in form.fields["preferred_time"].widget.choices if value]


def placeholder(form) -> str:
    return form.fields["preferred_time"].widget.choices[0][1]


def times_by_day(form) -> dict[str, list[str]]:
    offered = json.loads(form.fields["preferred_time"].widget.attrs["data-call-times"])
    return {day: [value for value, _ in starts] for day, starts in offered.items()}


def test_a_saturday_lists_only_its_morning_and_a_weekday_every_block():
    saturday = next_open_day(weekday=SATURDAY)
    form = CallbackRequestForm(form_data(preferred_date=saturday.isoformat(), preferred_time=""))
    assert times_listed(form) == ["08:00", "10:00", "12:00"]
    # Trimmed to the day's hours (09:00-13:00): never a time the hint says the clinic is closed.
    labels = dict(form.fields["preferred_time"].widget.choices)
    assert [labels[start] for start in ["08:00", "10:00", "12:00"]] == [
        "09:00 to 10:00",
        "10:00 to 12:00",
        "12:00 to 13:00",
    ]
    tuesday = next_open_day(weekday=1)
    form = CallbackRequestForm(form_data(preferred_date=tuesday.isoformat(), preferred_time=""))
    assert times_listed(form) == WEEKDAY_TIMES
    assert placeholder(form) == "Choose a time"


@pytest.mark.parametrize("when", ["sunday", "closure", "yesterday", "not a date"])
def test_a_day_without_times_lists_none_and_says_so(when):
    sunday = next_open_day(weekday=SATURDAY) + dt.timedelta(days=1)
    tuesday = next_open_day(weekday=1)
    if when == "closure":
        ClinicClosure.objects.create(first_day=tuesday, last_day=tuesday, reason="Training day")
    day = {
        "sunday": sunday.isoformat(),
        "closure": tuesday.isoformat(),
        "yesterday": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        "not a date": "next tuesday",
    }[when]
    form = CallbackRequestForm(form_data(preferred_date=day, preferred_time=""))
    assert times_listed(form) == []
    assert placeholder(form) == NO_TIMES_THAT_DAY


def test_times_already_gone_today_are_not_listed_and_a_new_form_starts_on_the_first_day_with_a_time_left():
    tuesday = next_open_day(weekday=1)
    afternoon = dt.datetime.combine(tuesday, dt.time(13, 45), tzinfo=clinic_zone())
    with mock.patch("django.utils.timezone.now", return_value=afternoon):
        form = CallbackRequestForm()
        assert form.initial["preferred_date"] == tuesday
        # 12:00-14:00 ends in 15 minutes: too soon to ring (MIN_NOTICE).
        assert times_listed(form) == ["14:00", "16:00"]
        assert times_by_day(form)[tuesday.isoformat()] == ["14:00", "16:00"]
    evening = dt.datetime.combine(tuesday, dt.time(17, 45), tzinfo=clinic_zone())
    with mock.patch("django.utils.timezone.now", return_value=evening):
        form = CallbackRequestForm()
        wednesday = tuesday + dt.timedelta(days=1)
        assert form.initial["preferred_date"] == wednesday
        assert times_listed(form) == WEEKDAY_TIMES
        assert tuesday.isoformat() not in times_by_day(form)


def test_the_list_for_the_script_leaves_out_closed_days_and_covers_the_horizon(settings):
    tuesday = next_open_day(weekday=1)
    ClinicClosure.objects.create(first_day=tuesday, last_day=tuesday, reason="Training day")
    offered = times_by_day(CallbackRequestForm())
    days = [dt.date.fromisoformat(day) for day in offered]
    assert tuesday not in days
    assert all(day.weekday() != SUNDAY for day in days)
    assert max(days) <= timezone.localdate() + dt.timedelta(days=settings.CLINIC_CALLBACK_DAYS_AHEAD)
    # Two weeks ahead hold a whole Saturday, with its morning times only.
    saturday = next(day for day in days[1:] if day.weekday() == SATURDAY)
    assert offered[saturday.isoformat()] == ["08:00", "10:00", "12:00"]


def test_a_past_day_is_refused_on_the_field_even_before_a_time_is_chosen():
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    form = CallbackRequestForm(form_data(preferred_date=yesterday.isoformat(), preferred_time=""))
    assert not form.is_valid()
    assert form.errors["preferred_date"] == ["That day has passed. Choose today or a later day."]


def test_the_phone_example_appears_once_when_the_number_is_wrong(client):
    contact_url = complete_questionnaire(client)
    page = client.get(contact_url).content.decode()
    example = phone_example()
    assert f"For example {example}." in CallbackRequestForm().fields["phone"].help_text
    assert page.count(example) == 1
    page = client.post(contact_url, form_data(phone="12")).content.decode()
    assert "Enter a phone number we can call, for example" in page
    assert page.count(example) == 2, "once in the error summary, once next to the field, no hint besides"
    assert "For example " + example not in page


def test_show_the_times_lists_the_days_times_keeps_what_was_typed_and_stores_nothing(client):
    contact_url = complete_questionnaire(client)
    saturday = next_open_day(weekday=SATURDAY)
    response = client.post(
        contact_url,
        {**form_data(preferred_date=saturday.isoformat(), preferred_time="", phone=""), SHOW_TIMES: "1"},
        follow=True,
    )
    # Answered with a redirect to the page (no journey page is a form's answer, which Back cannot show again).
    assert response.redirect_chain == [(contact_url, 302)]
    assert response.status_code == 200
    assert not CallbackRequest.objects.exists()
    form = response.context["form"]
    assert times_listed(form) == ["08:00", "10:00", "12:00"]
    # Nothing is judged but the day: the empty phone and time are not errors yet.
    assert dict(form.errors) == {}
    page = response.content.decode()
    assert "There is a problem" not in page
    assert 'value="Alex Example"' in page
    assert "autofocus" in str(form["preferred_time"])
    # Then the patient chooses a time and sends the request.
    sent = client.post(contact_url, form_data(preferred_date=saturday.isoformat(), preferred_time="10:00"))
    assert sent.status_code == 302
    assert CallbackRequest.objects.get().window_start.astimezone(clinic_zone()).time() == dt.time(10, 0)


def test_show_the_times_for_a_closed_day_says_so_on_the_day_field(client):
    contact_url = complete_questionnaire(client)
    sunday = next_open_day(weekday=SATURDAY) + dt.timedelta(days=1)
    response = client.post(contact_url, {**form_data(preferred_date=sunday.isoformat()), SHOW_TIMES: "1"}, follow=True)
    assert response.redirect_chain == [(contact_url, 302)]
    form = response.context["form"]
    assert dict(form.errors) == {"preferred_date": ["The clinic is closed that day. Choose another day."]}
    assert times_listed(form) == []
    assert not CallbackRequest.objects.exists()


def test_what_was_typed_before_show_the_times_goes_when_the_request_is_sent(client):
    contact_url = complete_questionnaire(client)
    saturday = next_open_day(weekday=SATURDAY)
    client.post(contact_url, {**form_data(preferred_date=saturday.isoformat(), preferred_time=""), SHOW_TIMES: "1"})
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        client.post(contact_url, form_data(preferred_date=saturday.isoformat(), preferred_time="10:00"))
    assert CallbackRequest.objects.count() == 1
    assert "callbacks_details_drafts" not in client.session or client.session["callbacks_details_drafts"] == {}


def hint_hours(hint: str) -> dict[str, tuple[str, str]]:
    """The hours the hint gives, by day name: "Monday to Friday 08:00 to 18:00, Saturday 09:00 to 13:00"."""
    names = list(calendar.day_name)
    hours = {}
    for first, last, opens, closes in re.findall(r"(\w+)(?: to (\w+))? (\d\d:\d\d) to (\d\d:\d\d)", hint):
        for name in names[names.index(first) : names.index(last or first) + 1]:
            hours[name] = (opens, closes)
    return hours


ODD_HOURS = {0: (dt.time(8), dt.time(18)), 1: (dt.time(8), dt.time(18)), 3: (dt.time(9, 30), dt.time(17, 15))}


@pytest.mark.parametrize("opening_hours", ["configured", "odd"])
@pytest.mark.parametrize("weekday", range(7))
def test_the_hint_and_the_times_offered_agree_on_every_weekday(weekday, opening_hours, settings):
    """The hint's hours for a day are exactly the span of the times offered that day, and the JavaScript list
    says the same as the server's (issue 24, item 9: Saturday offered 08:00 under a 09:00 hint)."""
    if opening_hours == "odd":
        settings.CLINIC_OPENING_HOURS = ODD_HOURS
    day = timezone.localdate() + dt.timedelta(days=1)
    day += dt.timedelta(days=(weekday - day.weekday()) % 7)
    form = CallbackRequestForm(form_data(preferred_date=day.isoformat(), preferred_time=""))
    hours = hint_hours(form.fields["preferred_date"].help_text)
    labels = [label for value, label in form.fields["preferred_time"].widget.choices if value]
    if weekday not in settings.CLINIC_OPENING_HOURS:
        assert day.strftime("%A") not in hours and labels == []
        return
    assert (labels[0].split(" to ")[0], labels[-1].split(" to ")[1]) == hours[day.strftime("%A")]
    scripted = json.loads(form.fields["preferred_time"].widget.attrs["data-call-times"])[day.isoformat()]
    assert [label for _, label in scripted] == labels


def test_the_hint_runs_days_with_the_same_hours_together():
    form = CallbackRequestForm()
    assert form.fields["preferred_date"].help_text == (
        "We call during opening hours (Monday to Friday 08:00 to 18:00, Saturday 09:00 to 13:00)."
    )


def test_show_the_times_keeps_the_safety_questions_the_reason_asked_and_their_answers(client):
    """The kept page is the same page: a reason that asked a safety question again still asks it, with the
    patient's answer and its advice, after "Show the times for this day"."""
    contact_url = complete_questionnaire(client)
    reason = "Back pain and I can't feel my bum"
    first = client.post(contact_url, form_data(reason=reason)).content.decode()
    assert "Before we send your request" in first and 'name="recheck_saddle_numbness"' in first
    saturday = next_open_day(weekday=SATURDAY)
    page = client.post(
        contact_url,
        {
            **form_data(reason=reason, preferred_date=saturday.isoformat(), recheck_saddle_numbness="yes"),
            "rechecks_shown": "saddle_numbness",
            SHOW_TIMES: "1",
        },
        follow=True,
    ).content.decode()
    assert "Before we send your request" in page
    assert re.search(r'name="recheck_saddle_numbness" value="yes"[^>]*checked', page), "the answer is kept"
    assert 'id="emergency-inline"' in page
    assert not CallbackRequest.objects.exists()
