"""The admin home's numbers stay cheap with a clinic's whole history: the chart's past days are counted once
and kept for a few minutes, today's count and the day at a glance are counted on every view."""

import datetime as dt

import pytest
from django.utils import timezone

from callbacks.requests.selectors import callback_requests_per_day, triage_day_at_a_glance
from clinic.hours import clinic_zone
from tests.factories import CallbackRequestFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 25, 15, 0, tzinfo=clinic_zone())


def received(days_ago: int, **fields):
    return CallbackRequestFactory(created_at=NOW - dt.timedelta(days=days_ago), **fields)


def test_the_chart_counts_past_days_once_and_today_on_every_view(django_assert_num_queries):
    received(3)
    received(3)
    received(1)
    received(0)
    with django_assert_num_queries(2):  # the past days, then today
        first = dict(callback_requests_per_day(days=5, now=NOW))
    assert first == {
        NOW.date() - dt.timedelta(days=4): 0,
        NOW.date() - dt.timedelta(days=3): 2,
        NOW.date() - dt.timedelta(days=2): 0,
        NOW.date() - dt.timedelta(days=1): 1,
        NOW.date(): 1,
    }
    received(0)
    with django_assert_num_queries(1):  # today only: the past days come from the cache
        again = dict(callback_requests_per_day(days=5, now=NOW))
    assert again[NOW.date()] == 2
    assert again[NOW.date() - dt.timedelta(days=3)] == 2


def test_a_new_day_counts_its_past_days_afresh():
    received(1)
    callback_requests_per_day(days=3, now=NOW)
    tomorrow = NOW + dt.timedelta(days=1)
    assert dict(callback_requests_per_day(days=3, now=tomorrow))[NOW.date()] == 0
    assert dict(callback_requests_per_day(days=3, now=tomorrow))[NOW.date() - dt.timedelta(days=1)] == 1


def test_the_glance_counts_open_requests_and_todays_arrivals(django_assert_num_queries):
    now = timezone.now()
    CallbackRequestFactory(priority=1, deadline=now - dt.timedelta(minutes=5))  # new, urgent, overdue, nobody's
    CallbackRequestFactory(priority=4, status="in_progress", deadline=now + dt.timedelta(hours=1))
    CallbackRequestFactory(priority=2, status="closed", outcome="advice", created_at=now - dt.timedelta(days=9))
    with django_assert_num_queries(2):
        glance = triage_day_at_a_glance(now=now)
    assert (glance.new, glance.urgent, glance.overdue, glance.unassigned, glance.received_today) == (1, 1, 1, 2, 2)
