""" "Help us prepare for your call": the rest of the questionnaire, after the request is stored.

Reached by a signed link (`callbacks.requests.links`) from the confirmation page or e-mail, on any device. Each
page is stored on the request when it is sent and re-triaged: a priority can rise (staff are told again, the
patient sees the advice at once), never fall. The link may have been forwarded, so these pages show which parts
remain and never an answer already given or the patient's details: every page starts empty.

A part sent again (Back, or its address kept) is a correction: the answers it replaces are kept as an earlier
version for staff. Once the request is finished for answers (the clinic has spoken with the patient or closed
it), the link says which parts were sent and when, and how to change something (a phone call); no page of it
stores anything.
"""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from callbacks.models import CallbackRequest, Priority
from callbacks.requests.advice import request_advice_priority
from callbacks.requests.links import request_from_continue_token
from callbacks.requests.services import RequestAnswersFinished, callback_request_questionnaire_step_save
from callbacks.rules.requests import status_takes_answers
from callbacks.web.details import advice as _advice
from callbacks.web.details import rechecks_advising
from clinic.ratelimit import limit_posts_per_address
from intake.selectors import (
    questionnaire_response_progress,
    questionnaire_response_rechecks,
    questionnaire_step_known_answers,
)
from intake.services import AnswersInvalid, RecheckForm, StepForm

# The advice a rise calls for, shown on the next page to the browser that sent the answers (never to a link).
SESSION_ADVICE_KEY = "callbacks_prepare_advice"
# The request whose safety questions this browser is to be asked again: the page quotes what the patient wrote,
# so only the browser that sent it sees it, never someone who merely holds the link.
SESSION_RECHECK_KEY = "callbacks_prepare_recheck"


def _link_gone(request):
    context = {"continue_link_days": settings.CLINIC_CONTINUE_LINK_DAYS}
    return render(request, "callbacks/prepare/link_gone.html", context, status=404)


def _prepare_url(token: str, step=None) -> str:
    if step is None:
        return reverse("callbacks:prepare", kwargs={"token": token})
    return reverse("callbacks:prepare_step", kwargs={"token": token, "step": step.id})


def _advice_owed(request, saved, *, asked_again: bool = False) -> None:
    """After a rise, or after safety questions asked again (a "yes" advises even when a possible red flag had
    already raised the priority), the advice the patient's answers call for, once, on the next page."""
    advised = request_advice_priority(saved.request)
    if (saved.priority_raised or asked_again) and advised in (Priority.EMERGENCY, Priority.URGENT):
        request.session[SESSION_ADVICE_KEY] = Priority(advised).name.lower()


def _advice_shown(request) -> dict:
    """The advice owed to this browser after a rise (once), on top of the page."""
    return {"raised_to": request.session.pop(SESSION_ADVICE_KEY, "")}


FINISHED_MESSAGE = (
    "The clinic has already dealt with your request, so we have not changed your answers. "
    "To change something, please call us."
)


def _finished(request, token):
    """A page sent to a finished request's link: nothing is stored, and the overview says why."""
    if request.method == "POST":
        messages.info(request, FINISHED_MESSAGE)
    return redirect(_prepare_url(token))


def _sent(request, callback_request, progress):
    """What a finished request's link shows: which parts were sent and when, never the answers themselves."""
    return render(
        request,
        "callbacks/prepare/sent.html",
        {
            **_advice(),
            "parts_sent": [step.title for step in progress.answered],
            "answered_at": callback_request.questionnaire_response.answered_at,
            "booking": callback_request.kind == CallbackRequest.Kind.BOOKING,
        },
    )


@require_http_methods(["GET"])
def questionnaire_continue(request, token):
    """Which parts remain, and the way into the next one; for a finished request, what was sent."""
    callback_request = request_from_continue_token(token)
    if callback_request is None:
        return _link_gone(request)
    progress = questionnaire_response_progress(response=callback_request.questionnaire_response)
    if not status_takes_answers(callback_request.status):
        return _sent(request, callback_request, progress)
    # The safety questions were answered with the request; these pages are about the parts after them.
    answered = [step for step in progress.answered if not step.screening]
    remaining = [step for step in progress.remaining if not step.screening]
    return render(
        request,
        "callbacks/prepare/overview.html",
        {
            **_advice(),
            **_advice_shown(request),
            "answered_at": callback_request.questionnaire_response.answered_at,
            "remaining": [(step, _prepare_url(token, step)) for step in remaining],
            "answered_count": len(answered),
            "total": len(answered) + len(remaining),
            "next_url": _prepare_url(token, remaining[0]) if remaining else "",
            "booking": callback_request.kind == CallbackRequest.Kind.BOOKING,
        },
    )


@require_http_methods(["GET", "POST"])
@limit_posts_per_address("intake-step", "CLINIC_RATE_LIMIT_FORM_POSTS")
def questionnaire_continue_step(request, token, step):
    callback_request = request_from_continue_token(token)
    if callback_request is None:
        return _link_gone(request)
    if not status_takes_answers(callback_request.status):
        return _finished(request, token)
    response = callback_request.questionnaire_response
    definition = response.definition
    current = next((s for s in definition.steps if s.id == step and not s.screening), None)
    if current is None:
        return redirect(_prepare_url(token))
    known = questionnaire_step_known_answers(response=response, step=current)
    form = StepForm(
        request.POST if request.method == "POST" else None, definition=definition, step=current, answers=known
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = callback_request_questionnaire_step_save(
                request_id=callback_request.pk, step=current, step_answers=form.step_answers
            )
        except AnswersInvalid:
            messages.info(request, "We could not keep those answers. Please try this part again.")
            return redirect(_prepare_url(token, current))
        except RequestAnswersFinished:
            return _finished(request, token)
        _advice_owed(request, saved)
        pending = questionnaire_response_rechecks(
            response=saved.request.questionnaire_response, other_text={"reason": saved.request.reason}
        )
        if pending:
            request.session[SESSION_RECHECK_KEY] = callback_request.pk
            return redirect("callbacks:prepare_check", token=token)
        progress = questionnaire_response_progress(response=saved.request.questionnaire_response)
        open_steps = [s for s in progress.remaining if not s.screening]
        following = [s for s in open_steps if definition.steps.index(s) > definition.steps.index(current)]
        upcoming = following or open_steps
        return redirect(_prepare_url(token, upcoming[0]) if upcoming else _prepare_url(token))
    progress = questionnaire_response_progress(response=response)
    parts = sorted(
        [s for s in (*progress.answered, *progress.remaining) if not s.screening], key=definition.steps.index
    )
    return render(
        request,
        "callbacks/prepare/step.html",
        {
            **_advice(),
            **_advice_shown(request),
            "step": current,
            "form": form,
            "questions": form.question_views(),
            "position": parts.index(current) + 1 if current in parts else 1,
            "total": len(parts),
            "sent_before": current in progress.answered,
            "overview_url": _prepare_url(token),
            "booking": callback_request.kind == CallbackRequest.Kind.BOOKING,
        },
    )


@require_http_methods(["GET", "POST"])
@limit_posts_per_address("intake-step", "CLINIC_RATE_LIMIT_FORM_POSTS")
def questionnaire_continue_check(request, token):
    """A safety question asked again because of what the patient just wrote or marked on a later page."""
    callback_request = request_from_continue_token(token)
    if callback_request is None:
        return _link_gone(request)
    if not status_takes_answers(callback_request.status):
        request.session.pop(SESSION_RECHECK_KEY, None)
        return _finished(request, token)
    if request.session.get(SESSION_RECHECK_KEY) != callback_request.pk:
        return redirect(_prepare_url(token))
    pending = questionnaire_response_rechecks(
        response=callback_request.questionnaire_response, other_text={"reason": callback_request.reason}
    )
    if not pending:
        request.session.pop(SESSION_RECHECK_KEY, None)
        return redirect(_prepare_url(token))
    form = RecheckForm(request.POST if request.method == "POST" else None, rechecks=pending)
    if request.method == "POST" and form.is_valid():
        try:
            saved = callback_request_questionnaire_step_save(
                request_id=callback_request.pk, step=None, rechecks=form.answers
            )
        except RequestAnswersFinished:
            request.session.pop(SESSION_RECHECK_KEY, None)
            return _finished(request, token)
        request.session.pop(SESSION_RECHECK_KEY, None)
        _advice_owed(request, saved, asked_again=True)
        return redirect(_prepare_url(token))
    return render(
        request,
        "callbacks/prepare/recheck.html",
        {
            **_advice(),
            **rechecks_advising(callback_request.questionnaire_response.definition, pending),
            "form": form,
            "questions": form.questions(),
            "overview_url": _prepare_url(token),
            "booking": callback_request.kind == CallbackRequest.Kind.BOOKING,
        },
    )
