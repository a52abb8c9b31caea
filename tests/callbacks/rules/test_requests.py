"""The request rules, table by table: each is written once in callbacks.rules and called everywhere else."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from callbacks.models import Appointment, CallbackRequest
from callbacks.rules.requests import (
    ALLOWED_TRANSITIONS,
    STATUS_AFTER_CALL,
    CallOutcome,
    Priority,
    RequestOutcome,
    RequestStatus,
    priority_is_urgent,
    status_awaits_response,
    status_outcome_check,
    status_transition_check,
)
from tests.factories import CallbackRequestFactory

S = RequestStatus


@pytest.mark.parametrize(
    ("priority", "urgent"),
    [(Priority.EMERGENCY, True), (Priority.URGENT, True), (Priority.REVIEW, False), (Priority.ROUTINE, False)],
)
def test_urgent_priorities(priority, urgent):
    assert priority_is_urgent(priority) is urgent


@pytest.mark.django_db
@pytest.mark.parametrize(("priority", "flagged"), [(Priority.URGENT, True), (Priority.REVIEW, False)])
def test_an_appointment_is_flagged_by_the_same_rule(priority, flagged):
    appointment = Appointment(request=CallbackRequestFactory(priority=priority))
    assert appointment.flagged is flagged


@pytest.mark.parametrize(
    ("status", "awaiting"),
    [(S.NEW, True), (S.IN_PROGRESS, True), (S.CONTACTED, False), (S.BOOKED, False), (S.CLOSED, False)],
)
def test_statuses_awaiting_a_response(status, awaiting):
    assert status_awaits_response(status) is awaiting


@pytest.mark.django_db
def test_the_overdue_queryset_uses_the_awaiting_statuses():
    past = timezone.now() - dt.timedelta(hours=1)
    waiting = [CallbackRequestFactory(status=status, deadline=past) for status in (S.NEW, S.IN_PROGRESS)]
    for status in (S.CONTACTED, S.BOOKED, S.CLOSED):
        CallbackRequestFactory(status=status, deadline=past, outcome="advice" if status == S.CLOSED else "")
    assert set(CallbackRequest.objects.overdue()) == set(waiting)


def test_the_models_expose_the_rules_choices():
    assert CallbackRequest.Status is RequestStatus
    assert CallbackRequest.Outcome is RequestOutcome


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.NEW, S.IN_PROGRESS, True),
        (S.NEW, S.CLOSED, True),
        (S.IN_PROGRESS, S.NEW, False),
        (S.BOOKED, S.IN_PROGRESS, False),
        (S.CLOSED, S.IN_PROGRESS, True),
        (S.CLOSED, S.CONTACTED, False),
    ],
)
def test_transitions(current, target, allowed):
    assert (target in ALLOWED_TRANSITIONS[current]) is allowed
    if allowed:
        status_transition_check(current=current, target=target)
    else:
        with pytest.raises(ValidationError) as refused:
            status_transition_check(current=current, target=target)
        assert refused.value.code == "invalid_transition"


def test_no_status_goes_back_to_new():
    assert all(S.NEW not in targets for targets in ALLOWED_TRANSITIONS.values())


@pytest.mark.parametrize(
    ("outcome", "current", "after"),
    [
        (CallOutcome.REACHED, S.NEW, S.CONTACTED),
        (CallOutcome.REACHED, S.IN_PROGRESS, S.CONTACTED),
        (CallOutcome.NO_ANSWER, S.NEW, S.IN_PROGRESS),
        (CallOutcome.NO_ANSWER, S.IN_PROGRESS, None),
        (CallOutcome.VOICEMAIL, S.CONTACTED, None),
    ],
)
def test_status_after_a_call(outcome, current, after):
    assert STATUS_AFTER_CALL[outcome].get(current) == after


@pytest.mark.parametrize(
    ("status", "outcome", "code"),
    [
        (S.CLOSED, "", "outcome_required"),
        (S.CLOSED, "maybe", "unknown_outcome"),
        (S.CONTACTED, RequestOutcome.ADVICE, "outcome_not_closing"),
        (S.CLOSED, RequestOutcome.ADVICE, None),
        (S.IN_PROGRESS, "", None),
    ],
)
def test_closing_and_outcomes(status, outcome, code):
    if code is None:
        status_outcome_check(status=status, outcome=outcome)
        return
    with pytest.raises(ValidationError) as refused:
        status_outcome_check(status=status, outcome=outcome)
    assert refused.value.code == code
