"""Attendance: what became of a booked visit (arrived, attended, did not attend, cancelled late), marked by the
front desk in one click from the diary or the request's page.

A mark is kept on the appointment (the latest, who and when) and every mark, corrections included, in the
request's history. What a mark sets off is decided here and nowhere else:

- the outcome follow-ups are timed from the request's first attended visit (none before it; a correction moves
  or withdraws those not yet sent), through `callbacks.requests.followup_schedule.follow_ups_time_from`;
- a patient who did not attend goes back in the queue for a call, with a deadline counted from now for their
  priority (`callbacks.requests.workflow.callback_request_queue_return`); a "did not attend" corrected to
  arrived or attended takes the request back to "Booked".
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from callbacks.models import Appointment, CallbackRequest, RequestEvent
from callbacks.requests.followup_schedule import follow_ups_time_from
from callbacks.requests.workflow import (
    callback_request_queue_return,
    callback_request_status_change,
    moment_label,
    request_event_record,
)
from callbacks.rules.booking import ATTENDANCE_SEEN, AppointmentAttendance, attendance_mark_check
from callbacks.rules.requests import ALLOWED_TRANSITIONS, status_awaits_response
from clinic.hours import clinic_zone

logger = logging.getLogger(__name__)

Attendance = AppointmentAttendance


def request_first_seen_at(*, request_id: int) -> dt.datetime | None:
    """When the request's first attended visit started (None before any): the follow-ups count from it."""
    first = (
        Appointment.objects.filter(request_id=request_id, attendance=ATTENDANCE_SEEN)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    return first


@transaction.atomic
def appointment_attendance_mark(
    *, appointment: Appointment, attendance: str, user: AbstractBaseUser, now: dt.datetime | None = None
) -> bool:
    """Mark what became of the visit. Returns False, changing nothing, when it already has this mark.

    Raises ValidationError (nothing saved) when the appointment cannot take the mark now
    (`callbacks.rules.booking.attendance_mark_check`). The mark, its history event, the follow-ups' timing and a
    did-not-attend patient's return to the queue are one transaction.
    """
    now = now or timezone.now()
    locked = Appointment.objects.select_for_update().select_related("request").get(pk=appointment.pk)
    attendance_mark_check(
        status=locked.status, attendance=attendance, starts_at=locked.starts_at, now=now, zone=clinic_zone()
    )
    before = locked.attendance
    if before == attendance:
        return False
    locked.attendance, locked.attendance_marked_at, locked.attendance_marked_by = attendance, now, user
    locked.save(update_fields=["attendance", "attendance_marked_at", "attendance_marked_by"])
    appointment.attendance, appointment.attendance_marked_at = attendance, now
    appointment.attendance_marked_by = user
    request = locked.request
    request_event_record(
        request=request,
        actor=user,
        action=RequestEvent.Action.ATTENDANCE,
        at=now,
        field="attendance",
        before=_label(before),
        after=f"{Attendance(attendance).label}: the appointment of {moment_label(locked.starts_at)}",
    )
    if ATTENDANCE_SEEN in (before, attendance):
        follow_ups_time_from(request=request, started_at=request_first_seen_at(request_id=request.pk))
    if attendance == Attendance.DID_NOT_ATTEND:
        callback_request_queue_return(request=request, actor=user)
    elif before == Attendance.DID_NOT_ATTEND and attendance != Attendance.CANCELLED_LATE:
        _back_to_booked(request, user)
    logger.info("appointment %s marked %s by user %s", locked.pk, attendance, user.pk)
    return True


def _back_to_booked(request: CallbackRequest, user: AbstractBaseUser) -> None:
    """A "did not attend" corrected: the call it queued is not needed, so the request is booked again."""
    request.refresh_from_db(fields=["status"])
    if status_awaits_response(request.status) and CallbackRequest.Status.BOOKED in ALLOWED_TRANSITIONS[request.status]:
        callback_request_status_change(request=request, status=CallbackRequest.Status.BOOKED, actor=user)


def _label(value: str) -> str:
    return Attendance(value).label if value else "Not marked"
