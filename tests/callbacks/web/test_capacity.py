"""Online requests closed, paused or full, as a patient meets them: told before typing, still asked the safety
questions and given their advice, an urgent or emergency request still taken, a routine one told when to come
back, the clinic's number and where else to go; a patient already typing keeps their place for the grace."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from callbacks.models import CallbackRequest, IntakeCapacity, Priority, RequestDayCount
from callbacks.web.capacity import SESSION_HELD_KEY
from clinic.hours import clinic_zone
from tests.callbacks.web.test_forms import form_data
from tests.callbacks.web.test_intake_flow import complete_questionnaire, post_step
from tests.support.questionnaire import NO_RED_FLAGS, SCREENING_STEPS

pytestmark = pytest.mark.django_db

PAUSE_REASON = "Our team is at a training day."


def pause(days=2) -> dt.datetime:
    until = (timezone.now() + dt.timedelta(days=days)).replace(second=0, microsecond=0)
    IntakeCapacity.objects.update_or_create(
        pk=1, defaults={"suspended_until": until, "suspension_reason": PAUSE_REASON}
    )
    return until


def fill_today(cap=3) -> None:
    IntakeCapacity.objects.update_or_create(pk=1, defaults={"daily_cap": cap})
    RequestDayCount.objects.update_or_create(
        day=timezone.localtime(timezone.now(), clinic_zone()).date(), defaults={"routine": cap}
    )


def places_taken() -> int:
    return sum(RequestDayCount.objects.values_list("routine", flat=True))


def send(client, url, data):
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        return client.post(url, data)


def test_the_start_says_requests_are_paused_and_until_when_but_still_asks_the_safety_questions(client, settings):
    until = pause()
    html = client.get(reverse("callbacks:request")).content.decode()
    assert "Online requests are paused for now" in html and PAUSE_REASON in html
    opens = re.search(r'id="capacity-opens">([^<]+)<', html).group(1)
    assert opens == timezone.localtime(until, clinic_zone()).strftime("%A %-d %B, %H:%M")
    assert f'href="tel:+442079460000">{settings.CLINIC_PHONE}</a>' in html
    assert "You can still answer the safety questions" in html
    assert 'name="q-saddle_numbness"' in html


def test_a_routine_patient_when_paused_is_told_when_to_come_back_and_where_else_to_go(client, settings):
    pause()
    contact_url = complete_questionnaire(client)
    page = client.get(contact_url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Online requests are paused for now" in html and PAUSE_REASON in html
    assert "Nothing has been sent" in html and 'name="phone"' not in html
    assert 'id="capacity-opens"' in html
    assert f'href="tel:+442079460000">{settings.CLINIC_PHONE}</a>' in html
    assert "A pharmacist can advise" in html
    assert '<a href="tel:111">111</a>' in html and '<a href="tel:999">999</a>' in html
    # Sending the details anyway stores nothing.
    refused = send(client, contact_url, form_data())
    assert refused.status_code == 200 and "Nothing has been sent" in refused.content.decode()
    assert CallbackRequest.objects.count() == 0


def test_hours_that_exclude_today_close_the_form_until_the_next_opening(client):
    day = timezone.localtime(timezone.now(), clinic_zone()) + dt.timedelta(days=3)
    IntakeCapacity.objects.create(hours=f"{day:%a} 09:00-17:00".lower())
    html = client.get(reverse("callbacks:request")).content.decode()
    assert "We are not taking online requests at this time" in html
    assert re.search(r'id="capacity-opens">([^<]+)<', html).group(1) == f"{day:%A} {day.day} {day:%B}, 09:00"
    contact_url = complete_questionnaire(client)
    assert "Nothing has been sent" in client.get(contact_url).content.decode()


def test_an_emergency_when_full_gets_the_advice_and_is_still_taken_uncounted(client):
    fill_today()
    answers = {**NO_RED_FLAGS["safety"], "saddle_numbness": "yes"}
    advice_url = post_step(client, reverse("callbacks:request"), answers)["Location"]
    assert "Get medical help now" in client.get(advice_url).content.decode()
    contact_url = advice_url.replace("get-help-now", "your-details")
    done = send(client, contact_url, form_data(preferred_date=None, preferred_time=None, reason=""))
    assert done.status_code == 302
    assert CallbackRequest.objects.get().priority == Priority.EMERGENCY
    assert places_taken() == 3


def test_an_urgent_patient_when_paused_is_not_refused(client):
    pause()
    contact_url = complete_questionnaire(client, {"health": {"fever": "yes"}})
    html = client.get(contact_url).content.decode()
    assert 'name="phone"' in html and "See a doctor today" in html
    assert send(client, contact_url, form_data()).status_code == 302
    assert CallbackRequest.objects.get().priority == Priority.URGENT


def test_a_routine_request_takes_a_place_and_the_last_place_fills_the_day(client):
    IntakeCapacity.objects.create(daily_cap=1)
    assert send(client, complete_questionnaire(client), form_data()).status_code == 302
    assert places_taken() == 1
    client.cookies.clear()
    html = client.get(reverse("callbacks:request")).content.decode()
    assert "We have no more online places today" in html
    assert "Nothing has been sent" in client.get(complete_questionnaire(client)).content.decode()
    assert CallbackRequest.objects.count() == 1


def test_a_patient_typing_when_the_day_fills_keeps_their_place_and_is_counted(client):
    contact_url = complete_questionnaire(client)
    fill_today()
    # The banner is not shown to them either: their place is kept.
    html = client.get(contact_url).content.decode()
    assert 'name="phone"' in html
    assert send(client, contact_url, form_data()).status_code == 302
    assert CallbackRequest.objects.count() == 1
    assert places_taken() == 4


def test_a_step_page_of_a_journey_holding_its_place_does_not_look_up_the_capacity(client):
    # Nothing on that page depends on it: two queries a page saved.
    first = post_step(client, reverse("callbacks:request"), NO_RED_FLAGS[SCREENING_STEPS[0]])
    with CaptureQueriesContext(connection) as queries:
        html = client.get(first["Location"]).content.decode()
    assert 'name="q-' in html
    assert not [q for q in queries.captured_queries if "intakecapacity" in q["sql"] or "requestdaycount" in q["sql"]]


def test_the_grace_ends_thirty_minutes_after_the_last_page_sent_while_open(client):
    contact_url = complete_questionnaire(client)
    pause()
    session = client.session
    flow = next(iter(session[SESSION_HELD_KEY]))
    session[SESSION_HELD_KEY] = {flow: (timezone.now() - dt.timedelta(minutes=31)).timestamp()}
    session.save()
    assert "Nothing has been sent" in send(client, contact_url, form_data()).content.decode()
    session = client.session
    session[SESSION_HELD_KEY] = {flow: (timezone.now() - dt.timedelta(minutes=29)).timestamp()}
    session.save()
    assert send(client, contact_url, form_data()).status_code == 302
    assert CallbackRequest.objects.count() == 1


def test_a_journey_started_while_closed_holds_no_place(client):
    pause()
    contact_url = complete_questionnaire(client)
    IntakeCapacity.objects.all().delete()
    fill_today()
    assert "We have no more online places today" in send(client, contact_url, form_data()).content.decode()
    assert CallbackRequest.objects.count() == 0


def test_the_last_place_taken_by_another_patient_while_the_page_was_open_stores_nothing(client):
    # Started while closed (no place held); the page's check passed just before another patient took the last
    # place: the count in the database decides, and the patient is told the day is full.
    pause()
    contact_url = complete_questionnaire(client)
    IntakeCapacity.objects.all().delete()
    fill_today()
    with mock.patch("callbacks.web.callback.request_may_send", return_value=True):
        page = send(client, contact_url, form_data())
    assert page.status_code == 200
    assert "We have no more online places today" in page.content.decode()
    assert CallbackRequest.objects.count() == 0 and places_taken() == 3


def test_a_reason_telling_of_a_red_flag_is_asked_about_even_after_the_grace(client, settings):
    """Hazard capacity_turns_away: a patient whose place has lapsed but whose reason may tell of a red flag is
    asked the safety question again, never told "your answers do not suggest you need help today"."""
    settings.CLINIC_REQUEST_GRACE_MINUTES = 0
    contact_url = complete_questionnaire(client)
    pause()
    page = send(client, contact_url, form_data(reason="Back pain and I can't feel my bum")).content.decode()
    assert "Nothing has been sent" not in page and "do not suggest" not in page
    assert "Before we send your request" in page and 'name="recheck_saddle_numbness"' in page


def test_the_first_page_kept_in_memory_follows_a_pause_and_its_end(client):
    first = client.get(reverse("callbacks:request")).content.decode()
    assert "Online requests are paused" not in first
    pause()
    paused = client.get(reverse("callbacks:request")).content.decode()
    assert "Online requests are paused for now" in paused
    IntakeCapacity.objects.update(suspended_until=None, suspension_reason="")
    assert "Online requests are paused" not in client.get(reverse("callbacks:request")).content.decode()
