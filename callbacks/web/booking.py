"""The patient's way to book: a service, a free slot, the usual questionnaire, then details and the booking.

The chosen slot sits in the session next to the questionnaire flow it belongs to (`callbacks.views` keeps the
flow); the details page of a flow with a chosen slot books it instead of asking for a callback window.
"""

import secrets

from crispy_forms.layout import Div, Fieldset, Layout
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from callbacks.booking.links import appointment_from_cancel_token
from callbacks.booking.services import (
    JourneySentAsCallback,
    appointment_book,
    appointment_cancel,
    appointment_confirm_by,
)
from callbacks.booking.slots import (
    Slot,
    SlotTaken,
    services_bookable,
    slot_key_parse,
    slot_offered,
    slot_within_horizon,
    slots_by_day,
    slots_free,
    slots_nearest,
)
from callbacks.models import Appointment, Priority, Service
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
from callbacks.rules.booking import appointment_status_holds_time
from callbacks.web import recheck
from callbacks.web.day_picker import day_picker_context
from callbacks.web.details import (
    SESSION_BOOKED_KEY,
    advice,
    busy_page_advice,
    continue_context,
    details_back_url,
    journey_sent_page,
    journey_sent_shown,
    request_refused,
    request_sent_remember,
    requests_count,
    requests_for_phone_limited,
    requests_from_address_limited,
)
from callbacks.web.flow import flow_drop, flow_expired, flow_load, flow_save, flows_stored, step_url, where_next
from callbacks.web.forms import CallbackRequestForm
from clinic.admission import admits_new_journeys
from clinic.hours import clinic_zone
from clinic.public_pages import public_page
from clinic.ratelimit import limit_posts_per_address
from intake.selectors import BACK_PAIN, Definition, Tier, answers_tier, definition_current, steps_screening
from intake.services import AnswersInvalid, Progress

SESSION_CHOICES_KEY = "callbacks_booking_choices"


class BookingContactForm(CallbackRequestForm):
    """The callback form without the callback window: the appointment is the time."""

    asks_when = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, submit_label="Book this appointment", **kwargs)
        self.fields["reason"].label = "What would you like help with? (optional)"
        self.fields["email"].help_text = "To send you the confirmation and a calendar file."
        self.helper.layout = Layout(
            Fieldset("About you", "name", "phone", "email"),
            Fieldset("Your appointment", "reason", "consent"),
            Div("website", css_class="form-honeypot"),
        )


# The chosen slot in the session -----------------------------------------------------------------------------


def booking_choice(request, flow: str) -> dict | None:
    """The service and slot chosen for this flow, or None for a plain callback request."""
    choices = request.session.get(SESSION_CHOICES_KEY)
    choice = choices.get(flow) if isinstance(choices, dict) else None
    if not (
        isinstance(choice, dict) and isinstance(choice.get("service"), int) and isinstance(choice.get("slot"), str)
    ):
        return None
    return choice


def _choice_save(request, flow: str, *, service: Service, slot: Slot) -> None:
    known = flows_stored(request)
    choices = request.session.get(SESSION_CHOICES_KEY)
    choices = {key: value for key, value in (choices or {}).items() if key in known}
    choices[flow] = {"service": service.pk, "slot": slot.key}
    request.session[SESSION_CHOICES_KEY] = choices


def choice_drop(request, flow: str) -> None:
    choices = request.session.get(SESSION_CHOICES_KEY) or {}
    choices.pop(flow, None)
    request.session[SESSION_CHOICES_KEY] = choices


def _free_slot(service: Service, key: str) -> Slot | None:
    parsed = slot_key_parse(key)
    if parsed is None or not slot_within_horizon(parsed[1]):
        return None
    practitioner_id, starts_at = parsed
    day = starts_at.astimezone(clinic_zone()).date()
    for slot in slots_free(service=service, first_day=day, days=1, practitioner_id=practitioner_id):
        if slot.starts_at == starts_at:
            return slot
    return None


def _slot_taken_page(request, *, service: Service, alternatives, flow: str | None):
    return render(
        request,
        "callbacks/booking/slot_taken.html",
        {
            "service": service,
            "days": slots_by_day(alternatives),
            "action": reverse("callbacks:booking_change_time", kwargs={"flow": flow})
            if flow
            else reverse("callbacks:booking_slots", kwargs={"service": service.pk}),
            "all_times_url": reverse("callbacks:booking_slots", kwargs={"service": service.pk}),
        },
        status=409,
    )


# Views ------------------------------------------------------------------------------------------------------


@require_GET
@public_page
def booking_services(request):
    return render(request, "callbacks/booking/services.html", {"services": services_bookable()})


@require_http_methods(["GET", "POST"])
@admits_new_journeys(advice=busy_page_advice)
@limit_posts_per_address("intake-step", "CLINIC_RATE_LIMIT_FORM_POSTS")
def booking_slots(request, service):
    """Step 1 (``?week=``): a week of days with their free-time counts; step 2 (``?day=YYYY-MM-DD``): that day's
    times. Posting one starts the questionnaire with that slot held aside. Plain links and forms, no script."""
    service = get_object_or_404(Service, pk=service, active=True)
    if request.method == "POST":
        slot = _free_slot(service, request.POST.get("slot", ""))
        if slot is None:
            around = (slot_key_parse(request.POST.get("slot", "")) or (0, timezone.now()))[1]
            return _slot_taken_page(
                request, service=service, alternatives=slots_nearest(service=service, around=around), flow=None
            )
        definition = definition_current(BACK_PAIN)
        flow = secrets.token_urlsafe(9)
        flow_save(request, flow, Progress.start(definition))
        _choice_save(request, flow, service=service, slot=slot)
        return redirect(step_url(flow, definition.steps[0]))
    # Choosing another time for a booking on its way (from its details page): the answers given are kept.
    flow = request.GET.get("flow", "")
    if flow and (shown := journey_sent_page(request, flow)) is not None:
        return shown
    changing = bool(flow) and flow_load(request, flow) is not None and booking_choice(request, flow) is not None
    keep = {"flow": flow} if changing else {}
    picker = day_picker_context(request.GET, service=service, keep=keep)
    return render(
        request,
        "callbacks/booking/slots.html",
        {
            **picker,
            "service": service,
            "flow": flow if changing else "",
            # A chosen time is posted as it always was (the race-safe booking path, the "just taken" page).
            "action": reverse("callbacks:booking_change_time", kwargs={"flow": flow})
            if changing
            else reverse("callbacks:booking_slots", kwargs={"service": service.pk}),
        },
    )


@require_POST
@journey_sent_shown
@limit_posts_per_address("intake-step", "CLINIC_RATE_LIMIT_FORM_POSTS")
def booking_change_time(request, flow):
    """Choose another time for a flow whose slot was taken; the answers given so far are kept."""
    loaded = flow_load(request, flow)
    choice = booking_choice(request, flow)
    if loaded is None or choice is None:
        return flow_expired(request)
    definition, progress = loaded
    service = get_object_or_404(Service, pk=choice["service"], active=True)
    slot = _free_slot(service, request.POST.get("slot", ""))
    if slot is None:
        around = (slot_key_parse(request.POST.get("slot", "")) or (0, timezone.now()))[1]
        return _slot_taken_page(
            request, service=service, alternatives=slots_nearest(service=service, around=around), flow=flow
        )
    _choice_save(request, flow, service=service, slot=slot)
    return redirect(where_next(flow, definition, progress))


def booking_contact(request, *, flow: str, definition: Definition, progress: Progress, choice: dict):
    """The details page of a booking flow (called by `callbacks.web.callback.callback_request_contact`, which
    never sends an emergency here: an emergency is a callback as soon as we can, never a routine slot)."""
    service = Service.objects.filter(pk=choice["service"]).first()
    parsed = slot_key_parse(choice["slot"])
    if service is None or parsed is None:
        choice_drop(request, flow)
        return flow_expired(request)
    practitioner_id, starts_at = parsed
    slot = slot_offered(service=service, practitioner_id=practitioner_id, starts_at=starts_at)
    form = BookingContactForm(request.POST or None)
    recheck.details_rechecks_add(request, definition=definition, progress=progress, form=form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        by_phone = requests_for_phone_limited(data["phone"])
        if by_phone or requests_from_address_limited(request):
            # Over a limit: nothing stored, the answers kept for a retry, the advice the answers call for shown.
            tier = answers_tier(definition=definition, answers=progress.answers)
            return request_refused(
                request,
                tier_emergency=False or tier is Tier.EMERGENCY,
                tier_urgent=tier is Tier.URGENT,
                by_phone=by_phone,
            )
        try:
            appointment = appointment_book(
                service=service,
                practitioner_id=practitioner_id,
                starts_at=starts_at,
                name=data["name"],
                phone=data["phone"],
                email=data["email"],
                reason=data["reason"],
                consent_version=CURRENT_CONSENT_VERSION,
                questionnaire=recheck.details_questionnaire(
                    definition=definition, progress=progress, complete=False, cleaned_data=data
                ),
                idempotency_key=flow,
                **form.contact_choices(),
            )
        except JourneySentAsCallback as sent:
            # This journey was sent as a callback request (an emergency turns a booking into one): show that.
            flow_drop(request, flow)
            choice_drop(request, flow)
            request_sent_remember(request, sent.request, flow_id=flow)
            return redirect("callbacks:done")
        except SlotTaken as taken:
            return _slot_taken_page(request, service=service, alternatives=taken.alternatives, flow=flow)
        except AnswersInvalid:
            flow_drop(request, flow)
            choice_drop(request, flow)
            return flow_expired(request)
        flow_drop(request, flow)
        choice_drop(request, flow)
        requests_count(request, data["phone"])
        request_sent_remember(request, appointment.request, flow_id=flow)
        return redirect("callbacks:booking_done")
    recheck.details_rechecks_as_questions(form)
    asked = steps_screening(definition=definition, answers=progress.answers)
    back_url = details_back_url(flow, asked=asked, emergency=False)
    return render(
        request,
        "callbacks/booking/contact.html",
        {
            **advice(),
            "form": form,
            "urgent_now": answers_tier(definition=definition, answers=progress.answers) is Tier.URGENT,
            "back_url": back_url,
            "service": service,
            "slot": slot,
            "starts_at": starts_at,
            "change_url": reverse("callbacks:booking_slots", kwargs={"service": service.pk}) + f"?flow={flow}",
            "position": len(asked) + 1,
            "total": len(asked) + 1,
        },
    )


@require_GET
def booking_done(request):
    pk = request.session.get(SESSION_BOOKED_KEY)
    appointment = (
        Appointment.objects.select_related("service", "practitioner", "request").filter(pk=pk).first()
        if isinstance(pk, int)
        else None
    )
    if appointment is None:
        return redirect("callbacks:booking_services")
    priority = appointment.request.priority
    return render(
        request,
        "callbacks/booking/done.html",
        {
            **advice(),
            "appointment": appointment,
            "confirm_by": appointment_confirm_by(appointment),
            "reference": appointment.request.reference,
            "emergency": priority == Priority.EMERGENCY,
            "urgent": priority == Priority.URGENT,
            **continue_context(request),
        },
    )


@require_http_methods(["GET", "POST"])
def booking_cancel(request, token):
    """A cancel link from an e-mail. GET only shows the question (mail scanners follow links); POST cancels."""
    appointment = appointment_from_cancel_token(token)
    if appointment is None:
        return render(request, "callbacks/booking/cancel.html", {"state": "invalid"}, status=404)
    holding = appointment_status_holds_time(appointment.status)
    if not holding or appointment.starts_at <= timezone.now():
        return render(request, "callbacks/booking/cancel.html", {"state": "closed", "appointment": appointment})
    if request.method == "POST":
        if not appointment_cancel(appointment=appointment):
            return render(request, "callbacks/booking/cancel.html", {"state": "closed", "appointment": appointment})
        return render(request, "callbacks/booking/cancel.html", {"state": "cancelled", "appointment": appointment})
    return render(request, "callbacks/booking/cancel.html", {"state": "ask", "appointment": appointment})
