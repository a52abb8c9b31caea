"""The priority lanes (callbacks/notifications/lanes.py): staff notifications of emergency and urgent requests
travel in the urgent queue, everything else in the routine one, when first queued and when re-queued."""

import datetime as dt
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from callbacks.models import Notification, Priority
from callbacks.notifications.lanes import ROUTINE, URGENT, notification_lane
from callbacks.notifications.outbox import (
    callback_requests_escalate_overdue,
    notifications_enqueue_on_commit,
    notifications_for_priority_raised,
    outbox_requeue_stale,
)
from callbacks.requests.services import callback_request_priority_raise
from tests.callbacks.requests.test_services import create
from tests.factories import CallbackRequestFactory, NotificationFactory, UserFactory

Kind = Notification.Kind
# A failed text to an urgent patient (issue 25) is a staff alert too.
STAFF_ALERTS = [Kind.STAFF_NEW_REQUEST, Kind.STAFF_PRIORITY_RAISED, Kind.ESCALATION, Kind.TEXT_FAILED]


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("priority", [*Priority, None])
def test_only_staff_alerts_of_emergency_and_urgent_requests_take_the_urgent_lane(kind, priority):
    urgent = kind in STAFF_ALERTS and priority in (Priority.EMERGENCY, Priority.URGENT)
    # A red-flag text from a number no request has is urgent in itself (there is no request to have a priority),
    # and so is the advice texted back to whoever sent a red-flag text.
    urgent = urgent or kind in (Kind.TEXT_RED_FLAG, Kind.TEXT_EMERGENCY_ADVICE, Kind.TEXT_URGENT_ADVICE)
    assert notification_lane(kind=kind, priority=priority) == (URGENT if urgent else ROUTINE)


def queues_published(callbacks) -> dict[int, str]:
    with mock.patch("callbacks.tasks.notification_send_task.apply_async") as apply_async:
        for callback in callbacks:
            callback()
    return {call.kwargs["args"][0]: call.kwargs["queue"] for call in apply_async.call_args_list}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("priority", "staff_queue"),
    [
        (Priority.EMERGENCY, "urgent"),
        (Priority.URGENT, "urgent"),
        (Priority.REVIEW, "routine"),
        (Priority.ROUTINE, "routine"),
    ],
)
def test_a_new_requests_staff_email_and_webhook_go_in_its_lane_the_patients_e_mail_in_the_routine_one(
    django_capture_on_commit_callbacks, settings, priority, staff_queue
):
    settings.CLINIC_URGENT_WEBHOOK_URL = "https://chat.example/hook"
    with django_capture_on_commit_callbacks() as callbacks:
        request = create(priority=priority, email="pat@example.com")
    published = queues_published(callbacks)
    rows = {row.pk: row for row in request.notifications.all()}
    assert set(published) == set(rows)
    for pk, queue in published.items():
        expected = "routine" if rows[pk].kind == Kind.PATIENT_CONFIRMATION else staff_queue
        assert queue == expected, rows[pk]


@pytest.mark.django_db
def test_a_priority_raised_to_urgent_and_an_overdue_emergency_are_announced_in_the_urgent_lane(
    django_capture_on_commit_callbacks,
):
    request = create(priority=Priority.ROUTINE)
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        # As the services that read later answers do: raise, then tell staff.
        assert callback_request_priority_raise(request=request, priority=Priority.URGENT)
        notifications_enqueue_on_commit(notifications_for_priority_raised(request))
    raised = request.notifications.get(kind=Kind.STAFF_PRIORITY_RAISED)
    assert queues_published(callbacks)[raised.pk] == "urgent"

    overdue = CallbackRequestFactory(priority=Priority.EMERGENCY, deadline=timezone.now() - dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks() as callbacks:
        assert callback_requests_escalate_overdue() >= 1
    escalation = overdue.notifications.get(kind=Kind.ESCALATION)
    assert queues_published(callbacks)[escalation.pk] == "urgent"


def stale_rows(settings):
    old = timezone.now() - dt.timedelta(seconds=settings.OUTBOX_STALE_AFTER_SECONDS + 60)
    rows = {}
    for minutes, priority, kind in [
        (1, Priority.ROUTINE, Kind.STAFF_NEW_REQUEST),  # the oldest row of all
        (2, Priority.URGENT, Kind.STAFF_NEW_REQUEST),
        (3, Priority.EMERGENCY, Kind.PATIENT_CONFIRMATION),  # to the patient: routine lane
        (4, Priority.EMERGENCY, Kind.STAFF_NEW_REQUEST),
        (5, Priority.EMERGENCY, Kind.ESCALATION),
    ]:
        rows[(priority, kind)] = NotificationFactory(
            kind=kind,
            request__priority=priority,
            next_attempt_at=old - dt.timedelta(minutes=10 - minutes),
        )
    return rows


@pytest.mark.django_db
def test_the_urgent_lanes_re_queue_takes_its_own_rows_oldest_emergency_first(settings):
    rows = stale_rows(settings)
    with mock.patch("callbacks.tasks.notification_send_task.apply_async") as apply_async:
        assert outbox_requeue_stale(lane=URGENT) == 3
    published = [(call.kwargs["args"][0], call.kwargs["queue"]) for call in apply_async.call_args_list]
    assert published == [
        (rows[(Priority.EMERGENCY, Kind.STAFF_NEW_REQUEST)].pk, "urgent"),
        (rows[(Priority.EMERGENCY, Kind.ESCALATION)].pk, "urgent"),
        (rows[(Priority.URGENT, Kind.STAFF_NEW_REQUEST)].pk, "urgent"),
    ]
    with mock.patch("callbacks.tasks.notification_send_task.apply_async") as apply_async:
        assert outbox_requeue_stale(lane=ROUTINE) == 2
    assert {call.kwargs["args"][0] for call in apply_async.call_args_list} == {
        rows[(Priority.ROUTINE, Kind.STAFF_NEW_REQUEST)].pk,
        rows[(Priority.EMERGENCY, Kind.PATIENT_CONFIRMATION)].pk,
    }
    assert {call.kwargs["queue"] for call in apply_async.call_args_list} == {"routine"}


@pytest.mark.django_db
def test_a_re_queue_of_every_lane_starts_with_the_emergencies_and_a_row_without_a_request_comes_last(settings):
    rows = stale_rows(settings)
    alert = NotificationFactory(
        request=None,
        staff_user=UserFactory(),
        kind=Kind.STAFF_SIGN_IN_ALERT,
        next_attempt_at=timezone.now() - dt.timedelta(days=1),
    )
    with mock.patch("callbacks.tasks.notification_send_task.apply_async") as apply_async:
        assert outbox_requeue_stale() == 6
    order = [call.kwargs["args"][0] for call in apply_async.call_args_list]
    assert order[:3] == [
        rows[(Priority.EMERGENCY, Kind.PATIENT_CONFIRMATION)].pk,
        rows[(Priority.EMERGENCY, Kind.STAFF_NEW_REQUEST)].pk,
        rows[(Priority.EMERGENCY, Kind.ESCALATION)].pk,
    ]
    assert order[-1] == alert.pk
    assert Notification.objects.get(pk=alert.pk).next_attempt_at > timezone.now() - dt.timedelta(seconds=30)
