"""Attendance marks (callbacks.booking.attendance): who and when, the history, the follow-ups timed from the first
attended visit, and a patient who did not attend back in the queue with a deadline."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from callbacks.booking.attendance import appointment_attendance_mark
from callbacks.models import Appointment, CallbackRequest, FollowUp, RequestEvent
from callbacks.requests.closures import request_response_deadline
from callbacks.requests.workflow import callback_request_status_change
from tests.factories import AppointmentFactory, CallbackRequestFactory, UserFactory

pytestmark = pytest.mark.django_db

Attendance = Appointment.Attendance
Status = CallbackRequest.Status


@pytest.fixture
def desk():
    return UserFactory(username="fran", first_name="Fran", last_name="Desk")


@pytest.fixture
def visit(service, practitioner):
    return AppointmentFactory(
        service=service,
        practitioner=practitioner,
        starts_at=timezone.now() - dt.timedelta(hours=2),
        request__email="patient@example.test",
    )


def test_a_mark_keeps_who_and_when_and_every_mark_is_in_the_history(visit, desk):
    assert appointment_attendance_mark(appointment=visit, attendance=Attendance.ARRIVED, user=desk)
    assert appointment_attendance_mark(appointment=visit, attendance=Attendance.ATTENDED, user=desk)
    # The same mark twice changes nothing and records nothing.
    assert not appointment_attendance_mark(appointment=visit, attendance=Attendance.ATTENDED, user=desk)
    visit.refresh_from_db()
    assert visit.attendance == Attendance.ATTENDED
    assert visit.attendance_marked_by == desk
    assert timezone.now() - visit.attendance_marked_at < dt.timedelta(minutes=1)
    events = RequestEvent.objects.filter(request=visit.request, action=RequestEvent.Action.ATTENDANCE).order_by("pk")
    assert [(e.before, e.after.split(":")[0], e.actor) for e in events] == [
        ("Not marked", "Arrived", desk),
        ("Arrived", "Attended", desk),
    ]


def test_a_future_or_cancelled_appointment_cannot_be_marked_attended(service, practitioner, desk):
    tomorrow = AppointmentFactory(
        service=service, practitioner=practitioner, starts_at=timezone.now() + dt.timedelta(days=1)
    )
    with pytest.raises(ValidationError, match="once the appointment has started"):
        appointment_attendance_mark(appointment=tomorrow, attendance=Attendance.ATTENDED, user=desk)
    cancelled = AppointmentFactory(
        service=service,
        practitioner=practitioner,
        starts_at=timezone.now() - dt.timedelta(days=1),
        status=Appointment.Status.CANCELLED,
    )
    with pytest.raises(ValidationError, match="took no place"):
        appointment_attendance_mark(appointment=cancelled, attendance=Attendance.ATTENDED, user=desk)
    tomorrow.refresh_from_db()
    assert tomorrow.attendance == "" and tomorrow.attendance_marked_by is None
    assert not RequestEvent.objects.filter(action=RequestEvent.Action.ATTENDANCE).exists()


def test_follow_ups_wait_for_the_first_attended_visit_and_are_timed_from_it(settings, visit, desk):
    """Issue 26: booked for 2 January, the 2-week questionnaire is not sent on 21 December, before the visit."""
    settings.CLINIC_FOLLOW_UP_WEEKS = (2, 6)
    assert not FollowUp.objects.filter(request=visit.request).exists()
    appointment_attendance_mark(appointment=visit, attendance=Attendance.ARRIVED, user=desk)
    assert not FollowUp.objects.filter(request=visit.request).exists()
    appointment_attendance_mark(appointment=visit, attendance=Attendance.ATTENDED, user=desk)
    due = dict(FollowUp.objects.filter(request=visit.request).values_list("weeks", "due_at"))
    assert due == {2: visit.starts_at + dt.timedelta(weeks=2), 6: visit.starts_at + dt.timedelta(weeks=6)}


def test_a_corrected_attended_mark_withdraws_the_follow_ups_not_yet_sent(settings, visit, desk):
    settings.CLINIC_FOLLOW_UP_WEEKS = (2, 6)
    appointment_attendance_mark(appointment=visit, attendance=Attendance.ATTENDED, user=desk)
    FollowUp.objects.filter(request=visit.request, weeks=2).update(status=FollowUp.Status.SENT, sent_at=timezone.now())
    appointment_attendance_mark(appointment=visit, attendance=Attendance.DID_NOT_ATTEND, user=desk)
    # The one the patient received stays; the one still waiting is withdrawn.
    assert list(FollowUp.objects.filter(request=visit.request).values_list("weeks", "status")) == [(2, "sent")]


def test_a_later_first_visit_moves_the_waiting_follow_ups(settings, service, practitioner, desk, visit):
    """Follow-ups already scheduled (before attendance existed, or from a visit since corrected) follow the first
    attended visit."""
    settings.CLINIC_FOLLOW_UP_WEEKS = (2,)
    FollowUp.objects.create(request=visit.request, weeks=2, due_at=timezone.now() - dt.timedelta(days=30))
    appointment_attendance_mark(appointment=visit, attendance=Attendance.ATTENDED, user=desk)
    assert FollowUp.objects.get(request=visit.request).due_at == visit.starts_at + dt.timedelta(weeks=2)


def test_did_not_attend_puts_the_patient_back_in_the_queue_with_a_deadline(visit, desk):
    request = visit.request
    assert request.status == Status.BOOKED
    before = timezone.now()
    appointment_attendance_mark(appointment=visit, attendance=Attendance.DID_NOT_ATTEND, user=desk)
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    # The response deadline's one home, counted from now for the request's priority.
    assert request.deadline >= request_response_deadline(priority=request.priority, received_at=before)
    assert request.deadline <= request_response_deadline(priority=request.priority, received_at=timezone.now())
    assert CallbackRequest.objects.awaiting_response().filter(pk=request.pk).exists()
    fields = set(RequestEvent.objects.filter(request=request).values_list("field", flat=True))
    assert {"attendance", "status", "deadline"} <= fields
    assert not FollowUp.objects.filter(request=request).exists()


def test_a_corrected_did_not_attend_books_the_request_again(visit, desk):
    appointment_attendance_mark(appointment=visit, attendance=Attendance.DID_NOT_ATTEND, user=desk)
    appointment_attendance_mark(appointment=visit, attendance=Attendance.ATTENDED, user=desk)
    visit.request.refresh_from_db()
    assert visit.request.status == Status.BOOKED
    assert FollowUp.objects.filter(request=visit.request).exists()


def test_a_closed_request_whose_patient_did_not_attend_is_reopened(visit, desk):
    callback_request_status_change(
        request=visit.request, status=Status.CLOSED, outcome=CallbackRequest.Outcome.APPOINTMENT, actor=desk
    )
    appointment_attendance_mark(appointment=visit, attendance=Attendance.DID_NOT_ATTEND, user=desk)
    visit.request.refresh_from_db()
    assert (visit.request.status, visit.request.outcome) == (Status.IN_PROGRESS, "")


def test_first_contact_is_the_first_call_that_reached_the_patient(desk):
    from callbacks.requests.workflow import call_attempt_log

    request = CallbackRequestFactory(created_at=timezone.now() - dt.timedelta(hours=3))
    call_attempt_log(request=request, actor=desk, outcome="no_answer")
    request.refresh_from_db()
    assert request.first_contact_at is None
    reached = timezone.now() - dt.timedelta(hours=1)
    call_attempt_log(request=request, actor=desk, outcome="reached", made_at=reached)
    call_attempt_log(request=request, actor=desk, outcome="reached")
    request.refresh_from_db()
    assert request.first_contact_at == reached
