"""Attendance on the staff screens: one click from the diary or the request's page marks what became of a visit
(`callbacks.booking.attendance`), then back where the click was made. Plain POST forms, no script."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from callbacks.booking.attendance import appointment_attendance_mark
from callbacks.booking.attendance_figures import AttendanceFigures, attendance_figures_cached
from callbacks.models import Appointment

CAN_MARK = "callbacks.change_appointment"
CAN_SEE_FIGURES = "callbacks.view_appointment"
# The admin home's attendance figures cover the last four weeks, today included.
HOME_FIGURES_DAYS = 28
Attendance = Appointment.Attendance

# The buttons, in the order the day goes: (mark, the button's words).
ATTENDANCE_BUTTONS = (
    (Attendance.ARRIVED, "Arrived"),
    (Attendance.ATTENDED, "Attended"),
    (Attendance.DID_NOT_ATTEND, "Did not attend"),
    (Attendance.CANCELLED_LATE, "Cancelled late"),
)

# What the desk is told after each mark, beyond the mark itself.
AFTER_MARK = {
    Attendance.ATTENDED: " The follow-ups are timed from the patient's first attended visit.",
    Attendance.DID_NOT_ATTEND: " The request is back in the queue for a call, with a new deadline.",
}


def attendance_view(model_admin, request, object_id: str, mark: str):
    """POST: mark one appointment; the message says what it set off, or why nothing was changed."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if mark not in Attendance.values:
        raise Http404("No such attendance mark.")
    if not request.user.has_perm(CAN_MARK):
        raise PermissionDenied
    appointment = (
        Appointment.objects.select_related("request").filter(pk=object_id).first() if object_id.isdigit() else None
    )
    if appointment is None:
        raise Http404("No such appointment.")
    reference, label = appointment.request.reference, Attendance(mark).label
    try:
        changed = appointment_attendance_mark(appointment=appointment, attendance=mark, user=request.user)
    except ValidationError as exc:
        model_admin.message_user(
            request, f"Nothing was changed for {reference}: {' '.join(exc.messages)}", messages.ERROR
        )
    else:
        if changed:
            model_admin.message_user(
                request, f"{reference} marked “{label}”.{AFTER_MARK.get(mark, '')}", messages.SUCCESS
            )
        else:
            model_admin.message_user(request, f"{reference} was already marked “{label}”.", messages.INFO)
    return HttpResponseRedirect(_back(request, appointment))


def _back(request, appointment: Appointment) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("admin:callbacks_callbackrequest_change", args=[appointment.request_id])


def attendance_figures_home(request, *, today) -> AttendanceFigures | None:
    """The admin home's figures (the last `HOME_FIGURES_DAYS` days), for staff who may see the appointments."""
    if not request.user.has_perm(CAN_SEE_FIGURES):
        return None
    return attendance_figures_cached(first_day=today - dt.timedelta(days=HOME_FIGURES_DAYS - 1), last_day=today)
