"""The front desk's screens on appointments: the diary (day and week, per practitioner or the whole clinic),
booking for a caller, moving one appointment, and a practitioner's own calendar feed.

Server-rendered pages with plain POST forms (CSRF-protected): they work without JavaScript. Every change goes
through `callbacks.booking` (services); these views only collect and show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from callbacks.admin.desk_forms import CallerBookingForm, MoveForm, SlotSearchForm, local_today
from callbacks.admin.display import priority_badge_html
from callbacks.booking import desk, feeds
from callbacks.booking import services as booking
from callbacks.booking.diary import diary_days
from callbacks.booking.reschedule import appointment_movable
from callbacks.booking.slots import SlotTaken, slots_free
from callbacks.models import Appointment, Practitioner
from callbacks.privacy import services as privacy
from intake.selectors import BACK_PAIN, definition_current
from intake.services import AnswersInvalid, QuestionnaireAnswers

SEARCH_DAYS = 7
MOVE_DAYS = 14
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
                item.appointment.badge = priority_badge_html(item.appointment.request.priority)
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
    "cancel": (
        lambda appointment, user: desk.appointment_cancel_by_clinic(appointment=appointment, user=user),
        "Cancelled",
    ),
}


def diary_action_view(model_admin, request, object_id: str, action: str):
    """One button of the diary (POST): confirm, decline or cancel one appointment, then back where it was."""
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
    """GET: the appointment and the free times it could move to; POST: move it there."""
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
    slots = slots_free(service=appointment.service, first_day=local_today(), days=MOVE_DAYS)
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
        except SlotTaken:
            form.add_error("slot", "Someone else has just taken that time. Choose another one.")
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            appointment.refresh_from_db()
            model_admin.message_user(
                request, f"Moved {appointment.request.reference} to {appointment}.", messages.SUCCESS
            )
            return HttpResponseRedirect(_back(request))
    # The page names the patient, like the diary's lists.
    privacy.callback_requests_list_record(references=[appointment.request.reference], actor=request.user)
    return _page(
        model_admin,
        request,
        "move.html",
        f"Move appointment {appointment.request.reference}",
        appointment=appointment,
        form=form,
        back_url=_back(request),
        request_url=reverse("admin:callbacks_callbackrequest_change", args=[appointment.request_id]),
    )


# Booking for a caller -----------------------------------------------------------------------------------------


def book_view(model_admin, request):
    """Choose a service (and a practitioner, and from which day) to list the free times; then the caller's
    details, their consent as read to them, and optionally the safety questions; POST books."""
    _require(request, CAN_BOOK)
    search = SlotSearchForm(request.GET or None, initial={"day": local_today()})
    slots, service = [], None
    if search.is_bound and search.is_valid():
        service = search.cleaned_data["service"]
        practitioner = search.cleaned_data["practitioner"]
        slots = slots_free(
            service=service,
            first_day=max(search.cleaned_data["day"] or local_today(), local_today()),
            days=SEARCH_DAYS,
            practitioner_id=practitioner.pk if practitioner else None,
        )
    definition = definition_current(BACK_PAIN)
    form = CallerBookingForm(request.POST or None, slots=slots, definition=definition)
    if request.method == "POST" and service is not None and form.is_valid():
        appointment = _book(request, form, service, definition)
        if appointment is not None:
            return HttpResponseRedirect(
                reverse("admin:callbacks_callbackrequest_change", args=[appointment.request_id])
            )
    elif request.method == "POST" and service is None:
        messages.error(request, "Choose a service and show its free times first.")
    return _page(
        model_admin,
        request,
        "book.html",
        "Book for a caller",
        search=search,
        service=service,
        form=form,
        slots=slots,
        action_url=request.get_full_path(),
    )


def _book(request, form: CallerBookingForm, service, definition) -> Appointment | None:
    data = form.cleaned_data
    slot = data.get("slot_obj")
    if slot is None:
        form.add_error("slot", "That time is not offered any more. Choose one of the free times listed.")
        return None
    questionnaire = QuestionnaireAnswers(definition=definition, answers=data["answers"], complete=False)
    try:
        appointment = desk.appointment_book_for_caller(
            service=service,
            practitioner_id=slot.practitioner_id,
            starts_at=slot.starts_at,
            name=data["name"],
            phone=data["phone"],
            email=data["email"],
            reason=data["reason"],
            staff=request.user,
            questionnaire=questionnaire if data["answers"] else None,
            confirm=data["confirm_now"],
            **form.contact_choices(),
        )
    except SlotTaken:
        form.add_error("slot", "Someone else has just booked that time. Choose another one.")
        return None
    except AnswersInvalid as exc:
        form.add_error(None, "The safety answers could not be stored: " + " ".join(exc.messages))
        return None
    state = appointment.get_status_display().lower()
    note = " Triage flagged it: read the answers before confirming." if appointment.flagged else ""
    messages.success(request, f"Booked {appointment.request.reference} ({state}) for {appointment}.{note}")
    return appointment


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
