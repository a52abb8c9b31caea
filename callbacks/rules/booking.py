"""What an appointment can be, which appointments hold a practitioner's time, and its attendance marks."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models


class AppointmentStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


# A requested or confirmed appointment holds its time (no other booking may overlap it, and the patient may still
# cancel it); a declined or cancelled one frees it. The database's no-overlap constraint uses this same list.
APPOINTMENT_HOLDING_STATUSES = (AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED)


def appointment_status_holds_time(status: str) -> bool:
    return status in APPOINTMENT_HOLDING_STATUSES


class AppointmentAttendance(models.TextChoices):
    """What became of a booked visit, marked by the front desk; empty until someone marks it."""

    ARRIVED = "arrived", "Arrived"
    ATTENDED = "attended", "Attended"
    DID_NOT_ATTEND = "dna", "Did not attend"
    CANCELLED_LATE = "late_cancel", "Cancelled late"


# The visit happened: the outcome follow-ups are timed from the first appointment with this mark
# (`callbacks.booking.attendance`). "Arrived" is the waiting room, not yet a visit.
ATTENDANCE_SEEN = AppointmentAttendance.ATTENDED

# A cancellation counts as late when the patient gives less notice than this (the usual 24 hours of Cliniko's
# and Jane's late-cancellation reports); the desk can mark it from this long before the start.
LATE_CANCEL_NOTICE = dt.timedelta(hours=24)


def attendance_mark_check(
    *, status: str, attendance: str, starts_at: dt.datetime, now: dt.datetime, zone: dt.tzinfo
) -> None:
    """Raise ValidationError, in words the desk understands, if this appointment cannot take this mark now.

    Only a requested or confirmed appointment is marked (a declined or cancelled one never took place). Arrived is
    marked on the appointment's day (clinic time), attended and did not attend once it has started: nobody attends
    tomorrow. Cancelled late is marked from `LATE_CANCEL_NOTICE` before the start.
    """
    if attendance not in AppointmentAttendance.values:
        raise ValidationError(f"“{attendance}” is not an attendance mark.", code="unknown_attendance")
    if not appointment_status_holds_time(status):
        raise ValidationError(
            f"A “{AppointmentStatus(status).label}” appointment took no place, so it takes no attendance mark.",
            code="attendance_not_booked",
        )
    if attendance == AppointmentAttendance.CANCELLED_LATE:
        if starts_at - now > LATE_CANCEL_NOTICE:
            raise ValidationError(
                "This appointment is more than 24 hours away: a cancellation now is not late. Cancel it instead.",
                code="attendance_not_late",
            )
        return
    if attendance == AppointmentAttendance.ARRIVED:
        day_start = dt.datetime.combine(starts_at.astimezone(zone).date(), dt.time(), tzinfo=zone)
        if now < day_start:
            raise ValidationError("“Arrived” can be marked on the day of the appointment.", code="attendance_too_early")
        return
    if now < starts_at:
        raise ValidationError(
            f"“{AppointmentAttendance(attendance).label}” can be marked once the appointment has started.",
            code="attendance_too_early",
        )
