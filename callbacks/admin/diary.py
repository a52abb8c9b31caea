"""The front desk's screens on appointments: the diary (day and week, per practitioner or the whole clinic),
moving and cancelling one appointment, and a practitioner's own calendar feed (booking for a caller is in
`callbacks.admin.caller_booking`).

Server-rendered pages with plain POST forms (CSRF-protected): they work without JavaScript. Every change goes
through `callbacks.booking` (services); these views only collect and show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from callbacks.admin.desk_forms import CancelForm, MoveForm, local_today
from callbacks.admin.display import phone_display, screening_badges_html
from callbacks.booking import desk, feeds
from callbacks.booking import services as booking
from callbacks.booking.diary import diary_days
from callbacks.booking.reschedule import appointment_movable
from callbacks.booking.slots import SlotNotOffered, SlotTaken, booking_horizon_last_day
from callbacks.models import Appointment, Practitioner
from callbacks.privacy import services as privacy
from callbacks.web.day_picker import day_picker_context
from clinic.hours import clinic_zone

SEARCH_DAYS = 7
CAN_VIEW, CAN_BOOK, CAN_ACT = "callbacks.view_appointment", "callbacks.add_appointment", "callbacks.change_appointment"


def _require(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _page(model_admin, request, template: str, title: str, **context) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": title,
        "diary_url": reverse("admin:callbacks_appointment_diary"),
        "book_url": reverse("admin:callbacks_appointment_book"),
        "can_book": request.user.has_perm(CAN_BOOK),
        "can_act": request.user.has_perm(CAN_ACT),
        **context,
    }
    return TemplateResponse(request, f"admin/callbacks/appointment/{template}", context)


def _back(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("admin:callbacks_appointment_diary")


# The diary ----------------------------------------------------------------------------------------------------


def diary_view(model_admin, request):
    """GET ?view=day|week&day=YYYY-MM-DD&practitioner=<id>: one practitioner or everyone, a day or a week."""
    _require(request, CAN_VIEW)
    week = request.GET.get("view") == "week"
    try:
        day = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = local_today()
    practitioner = None
    if (request.GET.get("practitioner") or "").isdigit():
        practitioner = Practitioner.objects.filter(pk=int(request.GET["practitioner"])).first()
    first_day = day - dt.timedelta(days=day.weekday()) if week else day
    span = 7 if week else 1
    days = diary_days(first_day=first_day, days=span, practitioner_id=practitioner.pk if practitioner else None)

    def link(**changes) -> str:
        params = {"view": "week" if week else "day", "day": day.isoformat()}
        if practitioner:
            params["practitioner"] = str(practitioner.pk)
        params.update(changes)
        query = "&".join(f"{key}={value}" for key, value in params.items() if value)
        return f"{reverse('admin:callbacks_appointment_diary')}?{query}"

    shown = []
    for diary_day in days:
        for column in diary_day.columns:
            for item in column.appointments:
                item.appointment.badge = screening_badges_html(item.appointment.request)
                shown.append(item.appointment.request.reference)
    # The diary shows patients' names: whom it showed, and to whom, goes in the privacy log like the queue.
    privacy.callback_requests_list_record(references=shown, actor=request.user)
    step = dt.timedelta(days=span)
    who = practitioner.name if practitioner else "the clinic"
    when = f"week of {first_day:%a %d %b %Y}" if week else f"{day:%A %d %B %Y}"
    title = f"Diary of {who}, {when}"
    return _page(
        model_admin,
        request,
        "diary.html",
        title,
        days=days,
        week=week,
        day=day,
        practitioner=practitioner,
        practitioners=Practitioner.objects.filter(active=True).order_by("name"),
        previous_url=link(day=(day - step).isoformat()),
        next_url=link(day=(day + step).isoformat()),
        today_url=link(day=local_today().isoformat()),
        day_view_url=link(view="day"),
        week_view_url=link(view="week"),
        here=request.get_full_path(),
        today=local_today(),
        horizon_last_day=booking_horizon_last_day(by_staff=True),
        is_popup=False,
    )


def _appointment(object_id: str) -> Appointment:
    appointment = None
    if object_id.isdigit():
        appointment = (
            Appointment.objects.select_related("request", "service", "practitioner").filter(pk=object_id).first()
        )
    if appointment is None:
        raise Http404("No such appointment.")
    return appointment


DIARY_ACTIONS = {
    "confirm": (lambda appointment, user: booking.appointment_confirm(appointment=appointment, user=user), "Confirmed"),
    "decline": (lambda appointment, user: booking.appointment_decline(appointment=appointment, user=user), "Declined"),
}


def diary_action_view(model_admin, request, object_id: str, action: str):
    """One button of the diary (POST): confirm or decline one appointment, then back where it was. (Cancelling
    asks for a reason and a confirmation first: `cancel_view`.)"""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if action not in DIARY_ACTIONS:
        raise Http404("No such action.")
    _require(request, CAN_ACT)
    appointment = (
        Appointment.objects.select_related("request").filter(pk=object_id).first() if object_id.isdigit() else None
    )
    if appointment is None:
        raise Http404("No such appointment.")
    perform, verb = DIARY_ACTIONS[action]
    if perform(appointment, request.user):
        model_admin.message_user(request, f"{verb}: {appointment.request.reference}, {appointment}.", messages.SUCCESS)
    else:
        appointment.refresh_from_db()
        model_admin.message_user(
            request,
            f"Nothing was changed: {appointment.request.reference} is “{appointment.get_status_display()}” "
            "or has started.",
            messages.WARNING,
        )
    return HttpResponseRedirect(_back(request))


def move_view(model_admin, request, object_id: str):
    """GET: the appointment, the patient's phone and the day picker (a day, then its free times, within the front
    desk's booking horizon); POST: move it to the chosen time."""
    _require(request, CAN_ACT)
    appointment = _appointment(object_id)
    if not appointment_movable(appointment):
        model_admin.message_user(
            request,
            f"{appointment.request.reference} cannot be moved: it is “{appointment.get_status_display()}” "
            "or has started. Only a requested or confirmed appointment that has not started can be moved.",
            messages.WARNING,
        )
        return HttpResponseRedirect(_back(request))
    back = _back(request)
    picker = day_picker_context(request.GET, service=appointment.service, keep={"next": back}, by_staff=True)
    slots = [slot for _, part in picker.get("day_parts", ()) for slot in part]
    form = MoveForm(request.POST or None, slots=slots)
    if request.method == "POST" and form.is_valid():
        slot = form.slots[form.cleaned_data["slot"]]
        try:
            desk.appointment_move(
                appointment=appointment,
                starts_at=slot.starts_at,
                practitioner_id=slot.practitioner_id,
                user=request.user,
            )
        except SlotNotOffered as refused:
            form.add_error("slot", refused.reason)
        except SlotTaken:
            form.add_error("slot", "Someone else has just taken that time. Choose another one.")
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            appointment.refresh_from_db()
            model_admin.message_user(
                request, f"Moved {appointment.request.reference} to {appointment}.", messages.SUCCESS
            )
            return HttpResponseRedirect(back)
    # The page names the patient, like the diary's lists.
    privacy.callback_requests_list_record(references=[appointment.request.reference], actor=request.user)
    return _page(
        model_admin,
        request,
        "move.html",
        f"Move appointment {appointment.request.reference}",
        appointment=appointment,
        phone_display=phone_display(str(appointment.request.phone)),
        form=form,
        back_url=back,
        action_url=request.get_full_path(),
        horizon_last_day=booking_horizon_last_day(by_staff=True),
        request_url=reverse("admin:callbacks_callbackrequest_change", args=[appointment.request_id]),
        **picker,
    )


def cancel_view(model_admin, request, object_id: str):
    """GET: "Cancel this appointment?" with a reason to give; POST: cancel it (the patient's e-mail and the
    waitlist wait for the undo grace). After it, the page offers the undo until the grace ends."""
    _require(request, CAN_ACT)
    appointment = _appointment(object_id)
    back = _back(request)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if desk.appointment_cancel_by_clinic(
            appointment=appointment, user=request.user, reason=form.cleaned_data["reason"]
        ):
            appointment.refresh_from_db()
            if appointment.cancel_undo_until:
                until = appointment.cancel_undo_until.astimezone(clinic_zone())
                note = f" The patient is told at {until:%H:%M} unless you undo it before then."
            else:
                note = ""
            model_admin.message_user(
                request, f"Cancelled {appointment.request.reference}, {appointment}.{note}", messages.SUCCESS
            )
            url = reverse("admin:callbacks_appointment_cancel", args=[appointment.pk])
            return HttpResponseRedirect(f"{url}?{urlencode({'next': back})}")
        appointment.refresh_from_db()
        form.add_error(
            None,
            f"Nothing was changed: {appointment.request.reference} is “{appointment.get_status_display()}” "
            "or has started.",
        )
    privacy.callback_requests_list_record(references=[appointment.request.reference], actor=request.user)
    undo_open = appointment.cancel_undo_until is not None and appointment.cancel_undo_until > timezone.now()
    return _page(
        model_admin,
        request,
        "cancel.html",
        f"Cancel appointment {appointment.request.reference}",
        appointment=appointment,
        phone_display=phone_display(str(appointment.request.phone)),
        form=form,
        back_url=back,
        undo_open=undo_open,
        undo_until=appointment.cancel_undo_until.astimezone(clinic_zone()) if undo_open else None,
        can_cancel=appointment_movable(appointment),
        request_url=reverse("admin:callbacks_callbackrequest_change", args=[appointment.request_id]),
    )


def cancel_undo_view(model_admin, request, object_id: str):
    """POST: undo the clinic's cancellation within its grace; nothing has been sent to the patient."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    _require(request, CAN_ACT)
    appointment = _appointment(object_id)
    try:
        desk.appointment_cancel_undo(appointment=appointment, user=request.user)
    except desk.CancelNotUndone as refused:
        model_admin.message_user(request, f"Not undone: {refused.reason}", messages.ERROR)
    else:
        appointment.refresh_from_db()
        model_admin.message_user(
            request,
            f"Cancellation undone: {appointment.request.reference} is {appointment.get_status_display().lower()} "
            f"again for {appointment}. Nothing was sent to the patient.",
            messages.SUCCESS,
        )
    return HttpResponseRedirect(_back(request))


# A practitioner's calendar feed ------------------------------------------------------------------------------


def feed_view(model_admin, request):
    """The signed-in practitioner's own feed: make a (new) secret address, or revoke it. POST only changes."""
    practitioner = getattr(request.user, "practitioner", None)
    if practitioner is None:
        raise PermissionDenied
    context: dict[str, Any] = {
        "practitioner": practitioner,
        "feed_url": "",
        "names_shown": settings.CLINIC_CALENDAR_FEED_NAMES,
    }
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            feeds.practitioner_feed_revoke(practitioner=practitioner)
            messages.success(request, "Your calendar feed address no longer works.")
        else:
            token = feeds.practitioner_feed_issue(practitioner=practitioner)
            context["feed_url"] = feeds.practitioner_feed_url(token)
            messages.success(request, "Your new calendar feed address is below. Any older address has stopped working.")
    elif request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    context["has_feed"] = bool(practitioner.calendar_feed_digest)
    return _page(model_admin, request, "feed.html", "My calendar feed", **context)
