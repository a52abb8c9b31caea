"""The patient's way to ask for a callback, short path first: the safety questions, then the details.

The screening steps of the questionnaire (every question that decides the tier) and the details page are at most
three form pages; sending the details stores the request, the answers so far and the staff notifications in one
transaction (`callbacks.requests.services.callback_request_create`) and shows the reference. The rest of the
questionnaire follows on pages reached by a signed link (`callbacks.web.prepare`), each saved as it is sent.

Until the request is sent, progress lives in the session (`callbacks.web.flow`). An emergency answer sends the
patient to the emergency advice at once, whatever else on the page is unanswered.
"""

import secrets

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from callbacks.models import Priority
from callbacks.requests import services
from callbacks.requests.capacity import CapacityFull, held_within_grace, intake_now, request_may_send
from callbacks.requests.consent import CONSENT_TEXTS, CURRENT_CONSENT_VERSION
from callbacks.web import booking as booking_views
from callbacks.web import recheck
from callbacks.web.capacity import (
    capacity_context,
    capacity_page_key,
    journey_held_at,
    journey_hold,
    request_closed,
)
from callbacks.web.details import (
    SESSION_PRIORITY_KEY,
    SESSION_REFERENCE_KEY,
    advice,
    busy_page_advice,
    continue_context,
    details_back_url,
    emergency_questions,
    journey_sent_shown,
    request_refused,
    request_sent_remember,
    requests_count,
    requests_for_phone_limited,
    requests_from_address_limited,
    urgent_questions,
)
from callbacks.web.flow import (
    details_draft,
    details_draft_keep,
    flow_drop,
    flow_expired,
    flow_load,
    flow_save,
    step_url,
    where_next,
)
from callbacks.web.forms import SHOW_TIMES, CallbackRequestForm, EmergencyContactForm
from clinic.admission import admits_new_journeys
from clinic.public_pages import public_form_page, public_page
from clinic.ratelimit import limit_posts_per_address
from intake.selectors import (
    BACK_PAIN,
    Definition,
    Step,
    Tier,
    answers_tier,
    definition_current,
    progress_first_open_screening_step,
    progress_is_emergency,
    progress_rechecks,
    progress_step_reachable,
    step_get,
    step_neighbours,
    steps_screening,
)
from intake.services import AnswersInvalid, Progress, StepForm, progress_answers_keep, progress_step_save

__all__ = ["SESSION_PRIORITY_KEY", "SESSION_REFERENCE_KEY"]


# Views ----------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@admits_new_journeys(advice=busy_page_advice)
@limit_posts_per_address("intake-step", "CLINIC_RATE_LIMIT_FORM_POSTS")
@public_form_page(vary=capacity_page_key)
def callback_request(request):
    """The start of a new request: the safety questions of the current questionnaire version."""
    definition = definition_current(BACK_PAIN)
    return _step_page(request, flow_id=None, definition=definition, progress=Progress.start(definition))


@require_http_methods(["GET", "POST"])
@journey_sent_shown
@limit_posts_per_address("intake-step", "CLINIC_RATE_LIMIT_FORM_POSTS")
def callback_request_step(request, flow, step):
    loaded = flow_load(request, flow)
    if loaded is None:
        return flow_expired(request)
    definition, progress = loaded
    current = step_get(definition=definition, step_id=step)
    if (
        current is None
        or not current.screening
        or not progress_step_reachable(definition=definition, progress=progress, step=current)
    ):
        return redirect(where_next(flow, definition, progress))
    if current is not definition.steps[0] and progress_is_emergency(definition=definition, progress=progress):
        return redirect("callbacks:emergency", flow=flow)
    return _step_page(request, flow_id=flow, definition=definition, progress=progress, step=current)


def _step_page(request, *, flow_id: str | None, definition: Definition, progress: Progress, step: Step | None = None):
    step = step or definition.steps[0]
    form = StepForm(
        request.POST if request.method == "POST" else None, definition=definition, step=step, answers=progress.answers
    )
    if request.method == "POST":
        if form.is_valid():
            progress_step_save(definition=definition, progress=progress, step=step, step_answers=form.step_answers)
            flow_id = flow_id or secrets.token_urlsafe(9)
            flow_save(request, flow_id, progress)
            journey_hold(request, flow_id, intake_now())
            return redirect(where_next(flow_id, definition, progress, after=step))
        # An emergency answer is acted on at once, whatever else on the page is unanswered or wrong.
        given = {**progress.answers, **form.valid_answers}
        if answers_tier(definition=definition, answers=given) is Tier.EMERGENCY:
            progress_answers_keep(definition=definition, progress=progress, step=step, answers=form.valid_answers)
            flow_id = flow_id or secrets.token_urlsafe(9)
            flow_save(request, flow_id, progress)
            return redirect("callbacks:emergency", flow=flow_id)
    screening = steps_screening(definition=definition, answers=progress.answers)
    previous, _ = step_neighbours(definition=definition, answers=progress.answers, step=step)
    position = screening.index(step) + 1 if step in screening else 1
    given = {**progress.answers, **form.valid_answers} if form.is_bound else progress.answers
    journey = _journey(request, flow_id)
    # Closed, paused or full: said before the patient types, and the safety questions still asked (their advice
    # is given whatever the capacity). A journey still holding its place is not told, and the capacity is not
    # looked up for it (two queries).
    held = flow_id is not None and held_within_grace(held_at=journey_held_at(request, flow_id), now=timezone.now())
    shows_capacity = journey == "Request a callback" and not held
    return render(
        request,
        "callbacks/request_step.html",
        {
            **advice(),
            **(capacity_context(intake_now()) if shows_capacity else {}),
            "definition": definition,
            "step": step,
            "form": form,
            "questions": form.question_views(),
            "emergency_questions": emergency_questions(definition, [step]),
            "urgent_questions": urgent_questions(definition, [step]),
            "urgent_now": answers_tier(definition=definition, answers=given) is Tier.URGENT,
            "is_first": step is definition.steps[0],
            "journey": journey,
            "position": position,
            # The details page is the last part.
            "total": len(screening) + 1,
            "back_url": step_url(flow_id, previous) if previous and flow_id else "",
        },
    )


def _journey(request, flow_id: str | None) -> str:
    """What the patient is doing, in the words of the page they started from."""
    if flow_id and booking_views.booking_choice(request, flow_id) is not None:
        return "Book an appointment"
    return "Request a callback"


@require_GET
@journey_sent_shown
def callback_request_emergency(request, flow):
    loaded = flow_load(request, flow)
    if loaded is None:
        return flow_expired(request)
    definition, progress = loaded
    if not progress_is_emergency(definition=definition, progress=progress):
        return redirect(where_next(flow, definition, progress))
    first = definition.steps[0]
    return render(
        request,
        "callbacks/request_emergency.html",
        {
            **advice(),
            "contact_url": reverse("callbacks:contact", kwargs={"flow": flow}),
            "change_url": step_url(flow, first),
        },
    )


@require_http_methods(["GET", "POST"])
@journey_sent_shown
def callback_request_contact(request, flow):
    loaded = flow_load(request, flow)
    if loaded is None:
        return flow_expired(request)
    definition, progress = loaded
    emergency = progress_is_emergency(definition=definition, progress=progress)
    if not emergency and progress_first_open_screening_step(definition=definition, progress=progress) is not None:
        return redirect(where_next(flow, definition, progress))
    if progress_rechecks(definition=definition, progress=progress):
        return redirect("callbacks:recheck", flow=flow)
    choice = booking_views.booking_choice(request, flow)
    if choice is not None and emergency:
        # An emergency is never booked into a routine slot: the slot was only held in the session; let it go.
        booking_views.choice_drop(request, flow)
    elif choice is not None:
        return booking_views.booking_contact(
            request, flow=flow, definition=definition, progress=progress, choice=choice
        )
    tier = answers_tier(definition=definition, answers=progress.answers)
    now = timezone.now()
    held_at = journey_held_at(request, flow)
    held = held_within_grace(held_at=held_at, now=now)
    closed_back_url = details_back_url(
        flow, asked=steps_screening(definition=definition, answers=progress.answers), emergency=False
    )
    # Urgent and emergency answers are never refused for capacity (hazard `capacity_turns_away`); routine ones
    # wait for the form to open. A reason that may tell of a red flag is asked about first, whatever the capacity.
    reason = str(request.POST.get("reason", ""))[:2000] if request.method == "POST" else ""
    asks_again = bool(reason) and bool(
        progress_rechecks(definition=definition, progress=progress, other_text={"reason": reason})
    )
    urgent = emergency or asks_again or tier in (Tier.EMERGENCY, Tier.URGENT)
    intake = intake_now(now=now)
    if not request_may_send(intake=intake, urgent=urgent, held_at=held_at, now=now):
        return request_closed(request, intake, back_url=closed_back_url)
    if request.method == "POST":
        # Any page sent while requests are taken renews the journey's place (the grace runs from the last one).
        journey_hold(request, flow, intake)
    if request.method == "POST" and not emergency and SHOW_TIMES in request.POST:
        # "Show the times for this day" (no JavaScript): what was typed is kept, and the page shown again lists
        # the chosen day's times.
        details_draft_keep(request, flow, request.POST)
        return redirect(request.path)
    draft = details_draft(request, flow) if request.method == "GET" and not emergency else None
    if emergency:
        form = EmergencyContactForm(request.POST or None)
    else:
        form = CallbackRequestForm(request.POST or draft, submit_label="Send my request")
    recheck.details_rechecks_add(request, definition=definition, progress=progress, form=form)
    if draft is not None:
        form.day_errors_only()
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        by_phone = requests_for_phone_limited(data["phone"])
        if by_phone or requests_from_address_limited(request):
            # Over a limit: nothing stored, the answers kept for a retry, the advice the answers call for shown.
            tier = answers_tier(definition=definition, answers=progress.answers)
            return request_refused(
                request,
                tier_emergency=emergency or tier is Tier.EMERGENCY,
                tier_urgent=tier is Tier.URGENT,
                by_phone=by_phone,
            )
        try:
            created = services.callback_request_create(
                name=data["name"],
                phone=data["phone"],
                email=data["email"],
                window_start=data.get("window_start"),
                window_end=data.get("window_end"),
                reason=data["reason"],
                consent_version=CURRENT_CONSENT_VERSION,
                questionnaire=recheck.details_questionnaire(
                    definition=definition, progress=progress, complete=False, cleaned_data=data
                ),
                idempotency_key=flow,
                capacity_counted=True,
                capacity_held=held,
                **form.contact_choices(),
            )
        except CapacityFull:
            # The last place went to another patient while this one typed (and held none): nothing stored.
            return request_closed(request, intake_now(), back_url=closed_back_url)
        except AnswersInvalid:
            # Only a damaged session gets here; nothing was stored. Ask the questions again.
            flow_drop(request, flow)
            return flow_expired(request)
        flow_drop(request, flow)
        requests_count(request, data["phone"])
        request_sent_remember(request, created, flow_id=flow)
        return redirect("callbacks:done")
    recheck.details_rechecks_as_questions(form)
    screening = steps_screening(definition=definition, answers=progress.answers)
    back_url = details_back_url(flow, asked=screening, emergency=emergency)
    return render(
        request,
        "callbacks/request_form.html",
        {
            **advice(),
            "form": form,
            "emergency": emergency,
            "urgent_now": answers_tier(definition=definition, answers=progress.answers) is Tier.URGENT,
            "back_url": back_url,
            "position": len(screening) + 1,
            "total": len(screening) + 1,
        },
    )


@require_GET
def callback_done(request):
    reference = request.session.get(SESSION_REFERENCE_KEY)
    if reference is None:
        return redirect("callbacks:request")
    priority = request.session.get(SESSION_PRIORITY_KEY)
    return render(
        request,
        "callbacks/request_done.html",
        {
            **advice(),
            "reference": reference,
            "emergency": priority == Priority.EMERGENCY,
            "urgent": priority == Priority.URGENT,
            **continue_context(request),
        },
    )


@require_GET
@public_page
def privacy_notice(request):
    return render(
        request,
        "callbacks/privacy_notice.html",
        {
            "consent_texts": sorted(CONSENT_TEXTS.items(), reverse=True),
            "current_version": CURRENT_CONSENT_VERSION,
            "retention_days": settings.CLINIC_RETENTION_DAYS,
            "privacy_email": settings.CLINIC_PRIVACY_EMAIL,
        },
    )
