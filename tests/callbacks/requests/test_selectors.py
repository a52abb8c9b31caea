"""The staff screens' readers: the queue's order, the day's numbers, arrivals per day, one request's timeline."""

import datetime as dt

import pytest
from django.utils import timezone

from callbacks.models import CallAttempt, CallbackRequest, Priority, RequestEvent, StaffNote
from callbacks.requests.selectors import (
    callback_request_notifications,
    callback_request_queue,
    callback_request_timeline,
    callback_requests_per_day,
    triage_day_at_a_glance,
)
from tests.factories import CallbackRequestFactory, NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = CallbackRequest.Status


def test_the_queue_is_most_urgent_first_then_soonest_deadline():
    now = timezone.now()
    routine_soon = CallbackRequestFactory(priority=Priority.ROUTINE, deadline=now + dt.timedelta(hours=1))
    urgent_late = CallbackRequestFactory(priority=Priority.URGENT, deadline=now + dt.timedelta(hours=5))
    urgent_soon = CallbackRequestFactory(priority=Priority.URGENT, deadline=now + dt.timedelta(hours=2))
    emergency = CallbackRequestFactory(priority=Priority.EMERGENCY, deadline=now + dt.timedelta(hours=9))
    assert list(callback_request_queue()) == [emergency, urgent_soon, urgent_late, routine_soon]


def test_the_day_at_a_glance_counts(settings):
    settings.TIME_ZONE = "Europe/London"
    now = timezone.now()
    staff = UserFactory()
    past = now - dt.timedelta(minutes=5)
    CallbackRequestFactory(status=Status.NEW, priority=Priority.URGENT, deadline=past)  # new, urgent, overdue
    CallbackRequestFactory(status=Status.IN_PROGRESS, priority=Priority.ROUTINE, assigned_to=staff, deadline=past)
    CallbackRequestFactory(status=Status.CONTACTED, priority=Priority.EMERGENCY, deadline=past)  # reached: not overdue
    CallbackRequestFactory(status=Status.CLOSED, outcome="advice", priority=Priority.URGENT)  # closed: not counted
    old = CallbackRequestFactory(status=Status.NEW)
    CallbackRequest.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(days=3))
    glance = triage_day_at_a_glance(now=now)
    assert (glance.new, glance.urgent, glance.overdue, glance.unassigned, glance.received_today) == (2, 2, 2, 3, 4)


def test_arrivals_per_day_include_empty_days_and_end_today(settings):
    settings.TIME_ZONE = "Europe/London"
    now = timezone.now()
    for days_ago in (0, 0, 2):
        request = CallbackRequestFactory()
        CallbackRequest.objects.filter(pk=request.pk).update(created_at=now - dt.timedelta(days=days_ago))
    per_day = callback_requests_per_day(days=4, now=now)
    today = timezone.localtime(now).date()
    assert [day for day, _ in per_day] == [today - dt.timedelta(days=n) for n in (3, 2, 1, 0)]
    assert [count for _, count in per_day] == [0, 1, 0, 2]


def test_the_timeline_is_newest_first_and_shows_calls_and_notes_once():
    staff = UserFactory(first_name="Dana", last_name="Desk")
    request = CallbackRequestFactory()
    start = request.created_at
    RequestEvent.objects.create(
        request=request,
        actor=staff,
        at=start + dt.timedelta(minutes=1),
        action="status",
        field="status",
        before="New",
        after="In progress",
    )
    CallAttempt.objects.create(
        request=request, made_by=staff, made_at=start + dt.timedelta(minutes=2), outcome="reached"
    )
    # The workflow's own line for the call is left out: the call's record carries the detail.
    RequestEvent.objects.create(request=request, actor=staff, at=start + dt.timedelta(minutes=2), action="call")
    StaffNote.objects.create(request=request, author=staff, created_at=start + dt.timedelta(minutes=3), text="Rang")
    timeline = callback_request_timeline(request=request)
    assert [(entry.kind, entry.title) for entry in timeline] == [
        ("note", "Note"),
        ("call", "Call: Reached the patient"),
        ("event", "Status"),
        ("received", "Request received"),
    ]
    assert {entry.actor for entry in timeline[:3]} == {"Dana Desk"}
    assert (timeline[2].before, timeline[2].after) == ("New", "In progress")


def test_a_requests_notifications_oldest_first():
    request = CallbackRequestFactory()
    first = NotificationFactory(request=request, kind="staff_new")
    second = NotificationFactory(request=request, kind="escalation")
    NotificationFactory()  # another request's
    assert list(callback_request_notifications(request=request)) == [first, second]
