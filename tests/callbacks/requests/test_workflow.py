import datetime as dt
import itertools
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from callbacks.models import CallAttempt, CallbackRequest, Priority, RequestEvent, StaffNote
from callbacks.requests import workflow
from tests.factories import CallbackRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = CallbackRequest.Status
Outcome = CallbackRequest.Outcome


@pytest.fixture
def staff():
    return UserFactory(username="sam", first_name="Sam", last_name="Okafor")


@pytest.fixture
def cb():
    return CallbackRequestFactory(deadline=timezone.now() + dt.timedelta(hours=1))


def events(request, field=None):
    rows = RequestEvent.objects.filter(request=request).order_by("pk")
    if field:
        rows = rows.filter(field=field)
    return [(e.actor.username, e.action, e.field, e.before, e.after) for e in rows]


# Assignment


def test_assign_records_who_assigned_whom(cb, staff):
    boss = UserFactory(username="boss")
    workflow.callback_request_assign(request=cb, user=staff, actor=boss)
    cb.refresh_from_db()
    assert cb.assigned_to == staff
    assert events(cb) == [("boss", "assigned", "assigned_to", "", "Sam Okafor (sam)")]


def test_assigning_the_same_person_again_records_nothing(cb, staff):
    workflow.callback_request_assign(request=cb, user=staff, actor=staff)
    workflow.callback_request_assign(request=cb, user=staff, actor=staff)
    assert len(events(cb)) == 1


def test_release_records_before_and_after(cb, staff):
    workflow.callback_request_assign(request=cb, user=staff, actor=staff)
    workflow.callback_request_assign(request=cb, user=None, actor=staff)
    cb.refresh_from_db()
    assert cb.assigned_to is None
    assert events(cb)[-1] == ("sam", "assigned", "assigned_to", "Sam Okafor (sam)", "")


def test_only_active_staff_can_be_assigned(cb, staff):
    patient_account = UserFactory(username="not-staff", is_staff=False)
    with pytest.raises(ValidationError, match="active staff"):
        workflow.callback_request_assign(request=cb, user=patient_account, actor=staff)
    cb.refresh_from_db()
    assert cb.assigned_to is None
    assert events(cb) == []


def test_closed_request_is_not_assigned(staff):
    closed = CallbackRequestFactory(status=Status.CLOSED, outcome=Outcome.ADVICE)
    with pytest.raises(ValidationError, match="closed"):
        workflow.callback_request_assign(request=closed, user=staff, actor=staff)


# Status workflow

ALLOWED = {
    (Status.NEW, Status.IN_PROGRESS),
    (Status.NEW, Status.CONTACTED),
    (Status.NEW, Status.BOOKED),
    (Status.NEW, Status.CLOSED),
    (Status.IN_PROGRESS, Status.CONTACTED),
    (Status.IN_PROGRESS, Status.BOOKED),
    (Status.IN_PROGRESS, Status.CLOSED),
    (Status.CONTACTED, Status.IN_PROGRESS),
    (Status.CONTACTED, Status.BOOKED),
    (Status.CONTACTED, Status.CLOSED),
    (Status.BOOKED, Status.CONTACTED),
    (Status.BOOKED, Status.CLOSED),
    (Status.CLOSED, Status.IN_PROGRESS),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Status.values, Status.values)))
def test_transition_table(staff, current, target):
    cb = CallbackRequestFactory(status=current, outcome=Outcome.ADVICE if current == Status.CLOSED else "")
    outcome = Outcome.APPOINTMENT if target == Status.CLOSED else ""
    # "Contacted" needs proof of contact: here a reason (a reached call is tested below).
    reason = "They rang us." if target == Status.CONTACTED else ""
    if (current, target) in ALLOWED:
        workflow.callback_request_status_change(request=cb, status=target, outcome=outcome, reason=reason, actor=staff)
        cb.refresh_from_db()
        assert cb.status == target
        assert events(cb, "status") == [("sam", "status", "status", Status(current).label, Status(target).label)]
    else:
        with pytest.raises(ValidationError) as refused:
            workflow.callback_request_status_change(
                request=cb, status=target, outcome=outcome, reason=reason, actor=staff
            )
        cb.refresh_from_db()
        assert cb.status == current
        assert events(cb) == []
        assert Status(current).label in refused.value.messages[0]


def test_refusal_says_where_the_request_can_go(staff):
    cb = CallbackRequestFactory(status=Status.BOOKED)
    with pytest.raises(ValidationError) as refused:
        workflow.callback_request_status_change(request=cb, status=Status.NEW, actor=staff)
    assert refused.value.messages == [
        "A request that is “Booked” cannot be set to “New”. From here it can go to “Contacted”, “Closed”."
    ]


def test_contacted_needs_a_reached_call_or_a_reason(cb, staff):
    """On an emergency, "No answer" then "Contacted" used to be accepted and the deadline stopped."""
    workflow.call_attempt_log(request=cb, actor=staff, outcome=CallAttempt.Outcome.NO_ANSWER)
    with pytest.raises(ValidationError, match="Log a call that reached them"):
        workflow.callback_request_status_change(request=cb, status=Status.CONTACTED, actor=staff)
    cb.refresh_from_db()
    assert cb.status == Status.IN_PROGRESS
    assert not StaffNote.objects.filter(request=cb).exists()
    workflow.callback_request_status_change(request=cb, status=Status.CONTACTED, reason="  Rang us back. ", actor=staff)
    cb.refresh_from_db()
    assert cb.status == Status.CONTACTED
    assert StaffNote.objects.get(request=cb).text == "Contacted without a logged call: Rang us back."


def test_contacted_after_a_reached_call_needs_no_reason(cb, staff):
    workflow.call_attempt_log(request=cb, actor=staff, outcome=CallAttempt.Outcome.REACHED)
    workflow.callback_request_status_change(request=cb, status=Status.IN_PROGRESS, actor=staff)
    workflow.callback_request_status_change(request=cb, status=Status.CONTACTED, actor=staff)
    cb.refresh_from_db()
    assert cb.status == Status.CONTACTED


def test_closing_needs_an_outcome(cb, staff):
    with pytest.raises(ValidationError, match="Choose an outcome"):
        workflow.callback_request_status_change(request=cb, status=Status.CLOSED, actor=staff)
    cb.refresh_from_db()
    assert cb.status == Status.NEW


def test_outcome_only_when_closing(cb, staff):
    with pytest.raises(ValidationError, match="only when the request is closed"):
        workflow.callback_request_status_change(
            request=cb, status=Status.CONTACTED, outcome=Outcome.ADVICE, actor=staff
        )


def test_close_records_outcome_time_and_clears_the_planned_call(cb, staff):
    cb.next_attempt_at = timezone.now() + dt.timedelta(hours=3)
    cb.save()
    workflow.callback_request_status_change(request=cb, status=Status.CLOSED, outcome=Outcome.REFERRED, actor=staff)
    cb.refresh_from_db()
    assert (cb.status, cb.outcome, cb.next_attempt_at) == (Status.CLOSED, Outcome.REFERRED, None)
    assert cb.closed_at is not None
    assert events(cb, "outcome") == [("sam", "status", "outcome", "", "Referred elsewhere (GP, urgent care, A&E)")]
    assert events(cb, "next_attempt_at")[0][4] == ""


def test_reopen_clears_outcome(staff):
    cb = CallbackRequestFactory(status=Status.CLOSED, outcome=Outcome.DUPLICATE, closed_at=timezone.now())
    workflow.callback_request_status_change(request=cb, status=Status.IN_PROGRESS, actor=staff)
    cb.refresh_from_db()
    assert (cb.status, cb.outcome, cb.closed_at) == (Status.IN_PROGRESS, "", None)
    assert events(cb, "outcome") == [("sam", "status", "outcome", "Duplicate request", "")]


def test_change_and_history_are_one_transaction(cb, staff):
    with (
        mock.patch.object(RequestEvent.objects, "create", side_effect=DatabaseError("disk full")),
        pytest.raises(DatabaseError),
    ):
        workflow.callback_request_status_change(request=cb, status=Status.IN_PROGRESS, actor=staff)
    cb.refresh_from_db()
    assert cb.status == Status.NEW


# Call attempts


@pytest.mark.parametrize(
    ("status", "outcome", "status_after"),
    [
        (Status.NEW, CallAttempt.Outcome.REACHED, Status.CONTACTED),
        (Status.IN_PROGRESS, CallAttempt.Outcome.REACHED, Status.CONTACTED),
        (Status.NEW, CallAttempt.Outcome.NO_ANSWER, Status.IN_PROGRESS),
        (Status.NEW, CallAttempt.Outcome.VOICEMAIL, Status.IN_PROGRESS),
        (Status.NEW, CallAttempt.Outcome.WRONG_NUMBER, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, CallAttempt.Outcome.VOICEMAIL, Status.IN_PROGRESS),
        (Status.CONTACTED, CallAttempt.Outcome.REACHED, Status.CONTACTED),
        (Status.BOOKED, CallAttempt.Outcome.NO_ANSWER, Status.BOOKED),
    ],
)
def test_call_attempt_moves_status_where_obvious(staff, status, outcome, status_after):
    cb = CallbackRequestFactory(status=status)
    attempt = workflow.call_attempt_log(request=cb, actor=staff, outcome=outcome, note="  rang twice ")
    cb.refresh_from_db()
    assert cb.status == status_after
    assert (attempt.made_by, attempt.outcome, attempt.note) == (staff, outcome, "rang twice")
    call_events = events(cb, "call_attempt")
    assert len(call_events) == 1
    assert call_events[0][4].startswith(CallAttempt.Outcome(outcome).label)
    assert call_events[0][4].endswith(": rang twice")
    if status_after != status:
        assert events(cb, "status") == [("sam", "status", "status", Status(status).label, Status(status_after).label)]


def test_call_attempt_with_time_and_clears_planned_call(staff):
    cb = CallbackRequestFactory(
        created_at=timezone.now() - dt.timedelta(hours=2), next_attempt_at=timezone.now() + dt.timedelta(hours=1)
    )
    made_at = timezone.now() - dt.timedelta(minutes=5)
    workflow.call_attempt_log(request=cb, actor=staff, outcome=CallAttempt.Outcome.NO_ANSWER, made_at=made_at)
    cb.refresh_from_db()
    assert cb.next_attempt_at is None
    assert CallAttempt.objects.get(request=cb).made_at == made_at


@pytest.mark.parametrize(
    ("made_at", "message"),
    [
        (dt.timedelta(hours=1), "in the future"),
        (-dt.timedelta(days=30), "before the request arrived"),
    ],
)
def test_call_attempt_time_must_make_sense(cb, staff, made_at, message):
    with pytest.raises(ValidationError, match=message):
        workflow.call_attempt_log(
            request=cb, actor=staff, outcome=CallAttempt.Outcome.REACHED, made_at=timezone.now() + made_at
        )
    assert not CallAttempt.objects.exists()
    assert events(cb) == []


def test_no_call_logged_on_closed_request(staff):
    cb = CallbackRequestFactory(status=Status.CLOSED, outcome=Outcome.ADVICE)
    with pytest.raises(ValidationError, match="Reopen it"):
        workflow.call_attempt_log(request=cb, actor=staff, outcome=CallAttempt.Outcome.REACHED)


def test_unknown_call_outcome_is_refused(cb, staff):
    with pytest.raises(ValidationError, match="how the call went"):
        workflow.call_attempt_log(request=cb, actor=staff, outcome="hung_up")


# Scheduling, notes, priority


def test_schedule_next_attempt_in_clinic_time(cb, staff, settings):
    settings.TIME_ZONE = "Europe/London"
    at = dt.datetime(2031, 7, 1, 9, 30, tzinfo=dt.UTC)
    workflow.callback_request_schedule_next_attempt(request=cb, at=at, actor=staff)
    cb.refresh_from_db()
    assert cb.next_attempt_at == at
    assert events(cb) == [("sam", "scheduled", "next_attempt_at", "", "Tue 1 Jul 2031, 10:30 (BST)")]


def test_schedule_in_the_past_is_refused(cb, staff):
    with pytest.raises(ValidationError, match="in the future"):
        workflow.callback_request_schedule_next_attempt(
            request=cb, at=timezone.now() - dt.timedelta(minutes=1), actor=staff
        )
    assert events(cb) == []


def test_note_is_stored_and_recorded(cb, staff):
    note = workflow.staff_note_add(request=cb, text="  Prefers a call after 4pm.\n", actor=staff)
    assert StaffNote.objects.get(request=cb).text == "Prefers a call after 4pm."
    assert note.author == staff
    assert events(cb) == [("sam", "note", "note", "", "Prefers a call after 4pm.")]


@pytest.mark.parametrize(("text", "message"), [("   ", "Write the note"), ("x" * 4001, "at most 4000")])
def test_bad_note_is_refused(cb, staff, text, message):
    with pytest.raises(ValidationError, match=message):
        workflow.staff_note_add(request=cb, text=text, actor=staff)
    assert not StaffNote.objects.exists()


def test_priority_change_moves_deadline_and_records_both(staff):
    cb = CallbackRequestFactory(priority=Priority.ROUTINE, deadline=timezone.now() + dt.timedelta(days=1))
    workflow.callback_request_priority_change(request=cb, priority=Priority.URGENT, actor=staff)
    cb.refresh_from_db()
    assert cb.priority == Priority.URGENT
    assert cb.deadline < timezone.now() + dt.timedelta(days=1)
    assert [(f, b, a) for _, _, f, b, a in events(cb, "priority")] == [("priority", "Routine", "Urgent")]
    assert len(events(cb, "deadline")) == 1


# History is append-only


def test_history_rows_cannot_be_changed_or_deleted(cb, staff):
    workflow.staff_note_add(request=cb, text="first", actor=staff)
    event = RequestEvent.objects.get(request=cb)
    event.after = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    with pytest.raises(ValueError, match="append-only"):
        StaffNote.objects.get(request=cb).delete()


@pytest.mark.parametrize("model", [RequestEvent, StaffNote, CallAttempt])
def test_database_refuses_updates_to_history(cb, staff, model):
    workflow.staff_note_add(request=cb, text="first", actor=staff)
    workflow.call_attempt_log(request=cb, actor=staff, outcome=CallAttempt.Outcome.NO_ANSWER)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        model.objects.filter(request=cb).update(request=cb)


def test_deleting_the_request_takes_its_history_with_it(cb, staff):
    """The retention purge deletes requests; their records go with them."""
    workflow.staff_note_add(request=cb, text="first", actor=staff)
    workflow.call_attempt_log(request=cb, actor=staff, outcome=CallAttempt.Outcome.NO_ANSWER)
    CallbackRequest.objects.filter(pk=cb.pk).delete()
    assert not RequestEvent.objects.exists()
    assert not StaffNote.objects.exists()


def test_red_flag_reopen_writes_the_request_once_with_its_status_and_new_deadline():
    request = CallbackRequestFactory(status=Status.BOOKED, priority=Priority.URGENT)
    old_deadline = request.deadline
    actor = UserFactory()
    with CaptureQueriesContext(connection) as queries:
        assert workflow.callback_request_red_flag_reopen(request=request, actor=actor) is True
    updates = [query["sql"] for query in queries if query["sql"].startswith('UPDATE "callbacks_callbackrequest"')]
    assert len(updates) == 1, updates
    stored = CallbackRequest.objects.get(pk=request.pk)
    assert stored.status == Status.IN_PROGRESS and stored.deadline != old_deadline
    assert stored.deadline > timezone.now()
    assert (request.status, request.deadline) == (stored.status, stored.deadline)
    assert set(RequestEvent.objects.filter(request=request).values_list("field", flat=True)) >= {"status", "deadline"}
    # Already awaiting a response: nothing written at all.
    with CaptureQueriesContext(connection) as again:
        assert workflow.callback_request_red_flag_reopen(request=request, actor=actor) is False
    assert not [query for query in again if query["sql"].startswith("UPDATE")]
