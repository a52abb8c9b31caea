import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from callbacks.web.forms import CallbackRequestForm
from clinic.hours import clinic_zone
from tests.support.dates import next_open_day

SATURDAY, SUNDAY = 5, 6
# The form asks the database whether the clinic is closed on the chosen day (staff closures).
pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "name": "Alex Example",
        "phone": "07400 123456",
        "email": "",
        "preferred_date": next_open_day(weekday=1).isoformat(),
        "preferred_time": "10:00",
        "reason": "Spasms in my lower back since the weekend.",
        "consent": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_valid_form_normalises_phone_and_builds_the_window_in_clinic_time():
    form = CallbackRequestForm(form_data())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == "+447400123456"
    start, end = form.cleaned_data["window_start"], form.cleaned_data["window_end"]
    assert start.tzinfo == clinic_zone()
    assert (start.hour, end.hour) == (10, 12)


def test_international_number_is_kept_in_its_own_country():
    form = CallbackRequestForm(form_data(phone="+1 (415) 555-2671"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == "+14155552671"


@pytest.mark.parametrize("phone", ["12", "not a number", "0770090012345678", "+44 20", "☎☎☎"])
def test_malformed_phone_is_refused_with_an_example(phone):
    form = CallbackRequestForm(form_data(phone=phone))
    assert not form.is_valid()
    assert list(form.errors) == ["phone"]
    assert "Enter a phone number we can call, for example" in form.errors["phone"][0]


def test_day_in_the_past_is_refused():
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    form = CallbackRequestForm(form_data(preferred_date=yesterday.isoformat()))
    assert not form.is_valid()
    assert form.errors["preferred_date"] == ["That day has passed. Choose today or a later day."]


def test_closed_day_is_refused():
    form = CallbackRequestForm(form_data(preferred_date=next_open_day(weekday=SATURDAY).isoformat()))
    assert form.is_valid(), "Saturday morning is open"
    sunday = next_open_day(weekday=SATURDAY) + dt.timedelta(days=1)
    form = CallbackRequestForm(form_data(preferred_date=sunday.isoformat()))
    assert not form.is_valid()
    assert form.errors["preferred_date"][0].startswith("The clinic is closed that day.")


def test_time_outside_the_days_hours_is_refused():
    saturday = next_open_day(weekday=SATURDAY)
    form = CallbackRequestForm(form_data(preferred_date=saturday.isoformat(), preferred_time="16:00"))
    assert not form.is_valid()
    assert form.errors["preferred_time"] == ["The clinic is closed at that time that day. Choose another time."]


def test_saturday_first_block_is_trimmed_to_opening_time():
    saturday = next_open_day(weekday=SATURDAY)
    form = CallbackRequestForm(form_data(preferred_date=saturday.isoformat(), preferred_time="08:00"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["window_start"].time() == dt.time(9, 0)
    assert form.cleaned_data["window_end"].time() == dt.time(10, 0)


def test_window_that_has_passed_today_is_refused():
    tuesday = next_open_day(weekday=1)
    late_afternoon = dt.datetime.combine(tuesday, dt.time(15, 45), tzinfo=clinic_zone())
    with mock.patch("django.utils.timezone.now", return_value=late_afternoon):
        form = CallbackRequestForm(form_data(preferred_date=tuesday.isoformat(), preferred_time="14:00"))
        assert not form.is_valid()
        assert form.errors["preferred_time"] == ["That time has passed or is about to. Choose a later time."]
        form = CallbackRequestForm(form_data(preferred_date=tuesday.isoformat(), preferred_time="16:00"))
        assert form.is_valid(), form.errors


def test_too_far_ahead_is_refused(settings):
    far = timezone.localdate() + dt.timedelta(days=settings.CLINIC_CALLBACK_DAYS_AHEAD + 7)
    form = CallbackRequestForm(form_data(preferred_date=far.isoformat()))
    assert not form.is_valid()
    assert "days ahead" in form.errors["preferred_date"][0]


def test_unticked_consent_is_refused():
    form = CallbackRequestForm(form_data(consent=None))
    assert not form.is_valid()
    assert form.errors["consent"] == ["We can only take your request if you agree to this."]


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "x" * 121), ("reason", "y" * 2001), ("email", "a" * 250 + "@example.com"), ("phone", "1" * 31)],
)
def test_oversized_fields_are_refused(field, value):
    form = CallbackRequestForm(form_data(**{field: value}))
    assert not form.is_valid()
    assert field in form.errors


@pytest.mark.parametrize("field", ["name", "phone", "preferred_date", "preferred_time"])
def test_each_required_field_says_what_is_missing(field):
    form = CallbackRequestForm(form_data(**{field: ""}))
    assert not form.is_valid()
    assert list(form.errors) == [field]
    assert form.errors[field][0] != "This field is required."


def test_whitespace_only_name_is_refused_and_reason_is_optional():
    form = CallbackRequestForm(form_data(name="   ", reason=" \n "))
    assert not form.is_valid()
    assert set(form.errors) == {"name"}
    # The questionnaire after the request asks about the back pain; a blank or invisible reason is just blank.
    for reason in ("", " \n ", "\u200b\u200d"):
        form = CallbackRequestForm(form_data(reason=reason))
        assert form.is_valid(), form.errors
        assert form.cleaned_data["reason"] == ""
    assert not CallbackRequestForm(form_data(reason="")).fields["reason"].required


def test_time_choice_not_offered_is_refused():
    form = CallbackRequestForm(form_data(preferred_time="03:00"))
    assert not form.is_valid()
    assert form.errors["preferred_time"] == ["Choose one of the times listed."]
