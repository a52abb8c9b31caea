"""The patient's way to ask for a callback: safety questions first, the rest of the questionnaire, then details.

Progress lives in the server-side session, one entry per flow (a random id in the URL, so two tabs do not mix);
no answer ever travels in a URL. Nothing is stored in the database until the last step is sent, and then
everything is stored in one transaction (`callbacks.services.callback_request_create`).
"""

import secrets
import time

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from callbacks.models import Priority
from callbacks.requests import services
from callbacks.requests.consent import CONSENT_TEXTS, CURRENT_CONSENT_VERSION
from callbacks.web.forms import CallbackRequestForm
from clinic.public_pages import public_form_page, public_page
from clinic.ratelimit import client_address, limit_posts_per_address, rate_limit_exceeded, too_many_requests
from intake.answers import AnswersInvalid
from intake.definitions import BACK_PAIN, Definition, DefinitionNotFound, Step, definition_current, definition_get
from intake.flow import (
    Progress,
    progress_first_open_step,
    progress_is_emergency,
    progress_rechecks,
    progress_step_reachable,
    progress_step_save,
    step_get,
    step_neighbours,
    steps_asked,
)
from intake.forms import StepForm

SESSION_REFERENCE_KEY = "callbacks_last_reference"
SESSION_PRIORITY_KEY = "callbacks_last_priority"
SESSION_FLOWS_KEY = "callbacks_intake_flows"
# A flow left this long is forgotten (its answers leave the session); only the newest few are kept.
FLOW_MAX_AGE_SECONDS = 6 * 60 * 60
MAX_FLOWS = 3
EXPIRED_MESSAGE = "We could not find your earlier answers (they are kept for a few hours). Please start again."


# Session storage of a flow --------------------------------------------------------------------------------


def _flows(request) -> dict:
    flows = request.session.get(SESSION_FLOWS_KEY)
    return flows if isinstance(flows, dict) else {}


def _flow_load(request, flow_id: str) -> tuple[Definition, Progress] | None:
    progress = Progress.from_dict(_flows(request).get(flow_id))
    if progress is None or time.time() - progress.started_at > FLOW_MAX_AGE_SECONDS:
        return None
    try:
        # The version the patient started on, even if a newer one has shipped since.
        return definition_get(progress.slug, progress.version), progress
    except DefinitionNotFound:
        return None


def _flow_save(request, flow_id: str, progress: Progress) -> None:
    now = time.time()
    flows = {
        key: value
        for key, value in _flows(request).items()
        if key != flow_id and isinstance(value, dict) and now - value.get("started_at", 0) <= FLOW_MAX_AGE_SECONDS
    }
    newest = sorted(flows, key=lambda key: flows[key].get("started_at", 0))[-(MAX_FLOWS - 1) :]
    flows = {key: flows[key] for key in newest}
    flows[flow_id] = progress.to_dict()
    request.session[SESSION_FLOWS_KEY] = flows


def _flow_drop(request, flow_id: str) -> None:
    flows = _flows(request)
    flows.pop(flow_id, None)
    request.session[SESSION_FLOWS_KEY] = flows


def _expired(request):
    messages.info(request, EXPIRED_MESSAGE)
    return redirect("callbacks:request")


# URLs and advice ------------------------------------------------------------------------------------------


def _step_url(flow_id: str, step: Step) -> str:
    return reverse("callbacks:step", kwargs={"flow": flow_id, "step": step.id})


def _where_next(flow_id: str, definition: Definition, progress: Progress, after: Step | None = None) -> str:
    """The page to go to now: the emergency advice, the next step, the first unfinished one, or the details."""
    if progress_is_emergency(definition=definition, progress=progress):
        return reverse("callbacks:emergency", kwargs={"flow": flow_id})
    first_open = progress_first_open_step(definition=definition, progress=progress)
    if after is not None:
        _, following = step_neighbours(definition=definition, answers=progress.answers, step=after)
        if following is not None and progress_step_reachable(definition=definition, progress=progress, step=following):
            return _step_url(flow_id, following)
    if first_open is not None:
        return _step_url(flow_id, first_open)
    if progress_rechecks(definition=definition, progress=progress):
        return reverse("callbacks:recheck", kwargs={"flow": flow_id})
    return reverse("callbacks:contact", kwargs={"flow": flow_id})


def _advice() -> dict[str, str]:
    return {
        "emergency_advice": settings.CLINIC_EMERGENCY_ADVICE.replace("{number}", settings.CLINIC_EMERGENCY_NUMBER),
        "urgent_advice": settings.CLINIC_URGENT_ADVICE.replace("{number}", settings.CLINIC_URGENT_ADVICE_NUMBER),
    }


# Views ----------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@limit_posts_per_address("intake-step", "CLINIC_RATE_LIMIT_FORM_POSTS")
@public_form_page
def callback_request(request):
    """The start of a new request: the safety questions of the current questionnaire version."""
    definition = definition_current(BACK_PAIN)
    return _step_page(request, flow_id=None, definition=definition, progress=Progress.start(definition))


@require_http_methods(["GET", "POST"])
@limit_posts_per_address("intake-step", "CLINIC_RATE_LIMIT_FORM_POSTS")
def callback_request_step(request, flow, step):
    loaded = _flow_load(request, flow)
    if loaded is None:
        return _expired(request)
    definition, progress = loaded
    current = step_get(definition=definition, step_id=step)
    if current is None or not progress_step_reachable(definition=definition, progress=progress, step=current):
        return redirect(_where_next(flow, definition, progress))
    if not current.screening and progress_is_emergency(definition=definition, progress=progress):
        return redirect("callbacks:emergency", flow=flow)
    return _step_page(request, flow_id=flow, definition=definition, progress=progress, step=current)


def _step_page(request, *, flow_id: str | None, definition: Definition, progress: Progress, step: Step | None = None):
    step = step or definition.steps[0]
    form = StepForm(
        request.POST if request.method == "POST" else None, definition=definition, step=step, answers=progress.answers
    )
    if request.method == "POST" and form.is_valid():
        progress_step_save(definition=definition, progress=progress, step=step, step_answers=form.step_answers)
        flow_id = flow_id or secrets.token_urlsafe(9)
        _flow_save(request, flow_id, progress)
        return redirect(_where_next(flow_id, definition, progress, after=step))
    asked = steps_asked(definition=definition, answers=progress.answers)
    previous, _ = step_neighbours(definition=definition, answers=progress.answers, step=step)
    position = asked.index(step) + 1 if step in asked else 1
    return render(
        request,
        "callbacks/request_step.html",
        {
            "definition": definition,
            "step": step,
            "form": form,
            "questions": form.question_views(),
            "is_first": step is definition.steps[0],
            "position": position,
            # The details page is the last part.
            "total": len(asked) + 1,
            "back_url": _step_url(flow_id, previous) if previous and flow_id else "",
        },
    )


@require_GET
def callback_request_emergency(request, flow):
    loaded = _flow_load(request, flow)
    if loaded is None:
        return _expired(request)
    definition, progress = loaded
    if not progress_is_emergency(definition=definition, progress=progress):
        return redirect(_where_next(flow, definition, progress))
    first = definition.steps[0]
    return render(
        request,
        "callbacks/request_emergency.html",
        {
            **_advice(),
            "contact_url": reverse("callbacks:contact", kwargs={"flow": flow}),
            "change_url": _step_url(flow, first),
        },
    )


# The details page of both flows (callback and booking) counts against the same limits.


def _requests_from_address_limited(request) -> bool:
    """Count one more finished-request attempt from this address; True once over the limit."""
    return rate_limit_exceeded(
        scope="request-address", identity=client_address(request), rate=settings.CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS
    )


def _requests_for_phone_limited(phone: str) -> bool:
    """Count one more request for this (E.164) number, from any address; True once over the limit."""
    return rate_limit_exceeded(
        scope="request-phone", identity=phone, rate=settings.CLINIC_RATE_LIMIT_REQUESTS_PER_PHONE
    )


def _details_back_url(flow_id: str, *, asked: list[Step], emergency: bool) -> str:
    """Back from the details page: to the emergency advice, or to the last questions asked."""
    return reverse("callbacks:emergency", kwargs={"flow": flow_id}) if emergency else _step_url(flow_id, asked[-1])


@require_http_methods(["GET", "POST"])
def callback_request_contact(request, flow):
    loaded = _flow_load(request, flow)
    if loaded is None:
        return _expired(request)
    definition, progress = loaded
    emergency = progress_is_emergency(definition=definition, progress=progress)
    if not emergency and progress_first_open_step(definition=definition, progress=progress) is not None:
        return redirect(_where_next(flow, definition, progress))
    if progress_rechecks(definition=definition, progress=progress):
        return redirect("callbacks:recheck", flow=flow)
    from callbacks.web import booking as booking_views  # it builds on this module
    from callbacks.web import recheck  # it builds on this module

    choice = booking_views.booking_choice(request, flow)
    if choice is not None:
        return booking_views.booking_contact(
            request, flow=flow, definition=definition, progress=progress, emergency=emergency, choice=choice
        )
    form = CallbackRequestForm(request.POST or None, submit_label="Send my request")
    recheck.details_rechecks_add(request, definition=definition, progress=progress, form=form)
    if request.method == "POST" and _requests_from_address_limited(request):
        return too_many_requests(request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if _requests_for_phone_limited(data["phone"]):
            return too_many_requests(request)
        try:
            created = services.callback_request_create(
                name=data["name"],
                phone=data["phone"],
                email=data["email"],
                window_start=data["window_start"],
                window_end=data["window_end"],
                reason=data["reason"],
                consent_version=CURRENT_CONSENT_VERSION,
                questionnaire=recheck.details_questionnaire(
                    definition=definition, progress=progress, emergency=emergency, cleaned_data=data
                ),
            )
        except AnswersInvalid:
            # Only a damaged session gets here; nothing was stored. Ask the questions again.
            _flow_drop(request, flow)
            return _expired(request)
        _flow_drop(request, flow)
        request.session[SESSION_REFERENCE_KEY] = created.reference
        request.session[SESSION_PRIORITY_KEY] = int(created.priority)
        return redirect("callbacks:done")
    asked = steps_asked(definition=definition, answers=progress.answers)
    back_url = _details_back_url(flow, asked=asked, emergency=emergency)
    return render(
        request,
        "callbacks/request_form.html",
        {
            **_advice(),
            "form": form,
            "emergency": emergency,
            "back_url": back_url,
            "position": len(asked) + 1,
            "total": len(asked) + 1,
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
            **_advice(),
            "reference": reference,
            "emergency": priority == Priority.EMERGENCY,
            "urgent": priority == Priority.URGENT,
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
