"""Booking for a caller at the front desk: choose a service and a free time, then the caller's details, their
consent as read to them and optionally the safety questions; or book onto a request already in the queue (its
"Book an appointment"), or from an empty time clicked in the diary. Every booking goes through
`callbacks.booking` (services); this view only collects and shows.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from callbacks.admin.desk_forms import CallerBookingForm, SlotSearchForm, local_today
from callbacks.admin.diary import CAN_BOOK, SEARCH_DAYS, _page, _require
from callbacks.admin.request_booking import RequestBookingForm, caller_matches, request_for_booking
from callbacks.booking import desk
from callbacks.booking.from_request import RequestNotBookable, request_bookable
from callbacks.booking.from_request import appointment_book_for_request as book_for_request
from callbacks.booking.slots import SlotNotOffered, SlotTaken, booking_horizon_last_day, slots_free
from callbacks.models import Appointment, Practitioner
from callbacks.privacy import services as privacy
from intake.selectors import BACK_PAIN, definition_current
from intake.services import AnswersInvalid, QuestionnaireAnswers


def _search_query(query) -> dict | None:
    """The free-time search to run: the GET query as it is, or (from an empty time in the diary: a practitioner,
    a day and ``at``, no service) that practitioner's service when they offer only one. None: nothing to run."""
    if query.get("service"):
        return query
    practitioner_id = query.get("practitioner") or ""
    if not practitioner_id.isdigit():
        return None
    practitioner = Practitioner.objects.filter(pk=int(practitioner_id), active=True).first()
    services = list(practitioner.services.filter(active=True)[:2]) if practitioner else []
    if len(services) != 1:
        return None
    return {**query.dict(), "service": str(services[0].pk)}


def book_view(model_admin, request):
    """Choose a service (and a practitioner, and from which day) to list the free times; then the caller's
    details, their consent as read to them, and optionally the safety questions; POST books.

    With ``?request=<id>`` (a request's "Book an appointment") the form is prefilled from that request and the
    appointment joins it (`callbacks.booking.from_request`). Without, a caller whose phone number is a known
    patient is not booked straight away: the page shows that patient's open requests to book for instead, and
    "Book as a new request" to go ahead.

    An empty time clicked in the diary opens this page with its practitioner, day and time (``at``, HH:MM): that
    time is chosen already when it is free (and the service too when the practitioner offers only one)."""
    _require(request, CAN_BOOK)
    for_request = request_for_booking(request.GET.get("request"))
    query = _search_query(request.GET)
    initial = {"day": local_today()}
    if query is None and request.GET:
        initial.update({key: request.GET[key] for key in ("practitioner", "day") if request.GET.get(key)})
    search = SlotSearchForm(query, initial=initial)
    slots, service = [], None
    last_day = booking_horizon_last_day(by_staff=True)
    if search.is_bound and search.is_valid():
        service = search.cleaned_data["service"]
        practitioner = search.cleaned_data["practitioner"]
        first_day = max(search.cleaned_data["day"] or local_today(), local_today())
        if first_day > last_day:
            search.add_error("day", f"Times can be booked up to {last_day:%A %-d %B %Y}. Choose that day or sooner.")
            service = None
        else:
            slots = slots_free(
                service=service,
                first_day=first_day,
                days=SEARCH_DAYS,
                practitioner_id=practitioner.pk if practitioner else None,
                by_staff=True,
            )
    definition = definition_current(BACK_PAIN)
    attach = for_request is not None and request_bookable(for_request)
    chosen = _slot_at(slots, request.GET.get("at"), request.GET.get("day"))
    initial = {"slot": chosen} if chosen else {}
    if for_request is not None:
        form = RequestBookingForm(
            request.POST or None,
            slots=slots,
            definition=definition,
            for_request=for_request,
            attach=attach,
            initial=initial,
        )
        # The page names the request's patient, like the diary's lists.
        privacy.callback_requests_list_record(references=[for_request.reference], actor=request.user)
    else:
        form = CallerBookingForm(request.POST or None, slots=slots, definition=definition, initial=initial or None)
    matches = []
    if request.method == "POST" and service is not None and form.is_valid():
        if for_request is None and not request.POST.get("book_anyway"):
            matches = caller_matches(form.cleaned_data["phone"])
        if matches:
            privacy.callback_requests_list_record(
                references=[r.reference for m in matches for r in (*m.bookable, *m.other_open)], actor=request.user
            )
        else:
            appointment = (_book_onto if attach else _book)(request, form, service, definition)
            if appointment is not None:
                return HttpResponseRedirect(
                    reverse("admin:callbacks_callbackrequest_change", args=[appointment.request_id])
                )
    elif request.method == "POST" and service is None:
        form.is_valid()
        form.add_error(None, "Choose a service and show its free times first.")
    query = request.GET.copy()
    query.pop("request", None)
    return _page(
        model_admin,
        request,
        "book.html",
        f"Book an appointment for {for_request.reference}" if for_request else "Book for a caller",
        search=search,
        service=service,
        form=form,
        slots=slots,
        last_day=last_day,
        action_url=request.get_full_path(),
        for_request=for_request,
        attach=attach,
        matches=matches,
        book_for_url=f"{reverse('admin:callbacks_appointment_book')}?{query.urlencode()}&request=",
    )


def _book_onto(request, form: RequestBookingForm, service, definition) -> Appointment | None:
    data = form.cleaned_data
    slot = data.get("slot_obj")
    if slot is None:
        form.add_error("slot", "That time is not offered any more. Choose one of the free times listed.")
        return None
    answers = data["answers"]
    try:
        appointment = book_for_request(
            request=form.for_request,
            service=service,
            practitioner_id=slot.practitioner_id,
            starts_at=slot.starts_at,
            staff=request.user,
            questionnaire=QuestionnaireAnswers(definition=definition, answers=answers, complete=False)
            if answers
            else None,
            confirm=data["confirm_now"],
        )
    except SlotNotOffered as refused:
        form.add_error("slot", refused.reason)
        return None
    except SlotTaken:
        form.add_error("slot", "Someone else has just booked that time. Choose another one.")
        return None
    except RequestNotBookable:
        form.add_error(None, f"{form.for_request.reference} is closed or already has an appointment.")
        return None
    except AnswersInvalid as exc:
        form.add_error(None, "The safety answers could not be stored: " + " ".join(exc.messages))
        return None
    state = appointment.get_status_display().lower()
    note = " Triage flagged it: read the answers before confirming." if appointment.flagged else ""
    messages.success(request, f"Booked {appointment.request.reference} ({state}) for {appointment}.{note}")
    return appointment


def _slot_at(slots, at: str | None, day: str | None) -> str | None:
    """The key of the first free slot starting at ``at`` (HH:MM, clinic time) or after it on ``day``, if there is
    one (a free stretch of the diary can start between two slot times, after a longer appointment)."""
    if not at or not day:
        return None
    for slot in slots:
        if slot.local_start.date().isoformat() == day and f"{slot.local_start:%H:%M}" >= at:
            return slot.key
    return None


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
    except SlotNotOffered as refused:
        form.add_error("slot", refused.reason)
        return None
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
