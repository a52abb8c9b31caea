""" "How is your back now?": the outcome follow-up page, reached by the signed link of its e-mail.

One page, mobile-first, built from the same question templates as the prepare pages: the safety questions
first, then pain, the activities (those named at the first follow-up filled in, so the same ones are rated) and
the overall change. Sending it stores the answers (`callbacks.requests.followups.follow_up_answer_save`) and
spends the link. An emergency answer is acted on even when the rest of the page is unanswered: the answers
given are stored, staff are told and the advice is shown next. When what the patient wrote (the activity names)
points at a safety question they answered "no", the page comes back asking it again with their words quoted
before anything is stored, as intake does (`intake.selectors.progress_rechecks`); the answers to it are kept
with the stored response (its ``rechecks``), and a "yes" counts as a yes to the question itself. A link that
does not work (tampered with, expired, answered already, stopped) gets a page that says which, never an error.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from callbacks.privacy.sessions import session_request_mark
from callbacks.requests.followup_links import follow_up_from_answer_token, follow_ups_stop_path, request_from_stop_token
from callbacks.requests.followups import (
    PSFS_ACTIVITY_IDS,
    FollowUpClosed,
    follow_up_activities_named,
    follow_up_answer_save,
    follow_up_asks_global_change,
    follow_ups_stop,
)
from callbacks.requests.selectors import callback_request_exists
from callbacks.web.details import advice, emergency_questions, urgent_questions
from clinic.ratelimit import limit_posts_per_address
from intake.selectors import OUTCOMES, definition_current, progress_is_emergency, progress_rechecks
from intake.services import AnswersInvalid, Progress, RecheckForm, StepForm, progress_rechecks_save

# What the page after sending shows this browser: the advice the answers call for and the way to stop.
SESSION_DONE_KEY = "callbacks_follow_up_done"
GLOBAL_CHANGE_STEP = "change"
# The safety questions asked again on the page last time (space-separated ids): only those can be missing.
RECHECKS_SHOWN_FIELD = "rechecks_shown"
LINK_PROBLEM_STATUS = {"invalid": 404, "expired": 410, "spent": 410, "stopped": 410}


def _link_gone(request, problem: str):
    return render(
        request, "callbacks/followups/link_gone.html", {"problem": problem}, status=LINK_PROBLEM_STATUS[problem]
    )


def _done(request, *, follow_up, advice_for: str):
    reference = follow_up.request.reference
    request.session[SESSION_DONE_KEY] = {
        "advice": advice_for,
        "reference": reference,
        "stop_path": follow_ups_stop_path(follow_up.request),
    }
    # Erasing the patient deletes this session (with the reference and the advice it holds).
    session_request_mark(request.session, reference=reference)
    return redirect("callbacks:follow_up_done")


@require_http_methods(["GET", "POST"])
@limit_posts_per_address("follow-up", "CLINIC_RATE_LIMIT_FORM_POSTS")
def follow_up_answer(request, token):
    link = follow_up_from_answer_token(token)
    if link.follow_up is None:
        return _link_gone(request, link.problem)
    follow_up = link.follow_up
    definition = definition_current(OUTCOMES)
    steps = [
        step for step in definition.steps if step.id != GLOBAL_CHANGE_STEP or follow_up_asks_global_change(follow_up)
    ]
    named = follow_up_activities_named(request=follow_up.request)
    prefilled = dict(zip(PSFS_ACTIVITY_IDS, named, strict=False))
    data = request.POST if request.method == "POST" else None
    forms = [StepForm(data, definition=definition, step=step, answers=prefilled) for step in steps]
    recheck_form = None
    if data is not None:
        valid = [form.is_valid() for form in forms]
        # The page's answers as intake reads a patient's way through a questionnaire, every step of it sent.
        progress = Progress(
            slug=definition.slug,
            version=definition.version,
            answers={key: value for form in forms for key, value in form.valid_answers.items()},
            done=[step.id for step in steps],
        )
        if all(valid):
            recheck_form = _rechecks_ask(data, definition=definition, progress=progress)
        emergency = progress_is_emergency(definition=definition, progress=progress)
        if (all(valid) and recheck_form is None) or emergency:
            try:
                saved = follow_up_answer_save(
                    follow_up_id=follow_up.pk,
                    answers=progress.answers,
                    complete=all(valid),
                    rechecks=progress.rechecks,
                )
            except FollowUpClosed:
                return _link_gone(request, "spent")
            except AnswersInvalid:
                messages.info(request, "We could not keep those answers. Please check them and send them again.")
            else:
                return _done(request, follow_up=saved.follow_up, advice_for=saved.advice)
    sections = [(form.step, form, form.question_views()) for form in forms]
    return render(
        request,
        "callbacks/followups/answer.html",
        {
            **advice(),
            "definition": definition,
            "sections": sections,
            "emergency_questions": emergency_questions(definition, steps),
            "urgent_questions": urgent_questions(definition, steps),
            "has_errors": any(form.errors and not form.only_added for form in forms),
            "only_added": any(form.only_added for form in forms),
            "named": named,
            "recheck_form": recheck_form,
            "recheck_questions": recheck_form.questions() if recheck_form else [],
            "recheck_shown_field": RECHECKS_SHOWN_FIELD,
            "follow_up": follow_up,
            "stop_url": follow_ups_stop_path(follow_up.request),
        },
    )


def _rechecks_ask(data, *, definition, progress: Progress) -> RecheckForm | None:
    """The safety questions that what the patient wrote calls for, asked again (quoting them) before the answers
    are stored: None once there are none left to ask, their answers then recorded on ``progress`` (a yes is a
    yes to the question itself). Questions shown for the first time are not marked as missing."""
    pending = progress_rechecks(definition=definition, progress=progress)
    if not pending:
        return None
    shown = set(str(data.get(RECHECKS_SHOWN_FIELD, "")).split())
    if not {recheck.question_id for recheck in pending} <= shown:
        fresh = RecheckForm(rechecks=pending)
        fresh.initial = {name: data.get(name) for name in fresh.fields if data.get(name)}
        return fresh
    form = RecheckForm(data, rechecks=pending)
    if not form.is_valid():
        return form
    progress_rechecks_save(definition=definition, progress=progress, answers=form.answers)
    return None


@require_http_methods(["GET"])
def follow_up_done(request):
    done = request.session.get(SESSION_DONE_KEY)
    # Checked on every read as well: a request erased or purged leaves nothing on this page, whatever session
    # store holds it.
    if done and not callback_request_exists(reference=done.get("reference", "")):
        del request.session[SESSION_DONE_KEY]
        done = None
    if not done:
        return redirect("home")
    return render(
        request,
        "callbacks/followups/done.html",
        {**advice(), "raised_to": done["advice"], "reference": done["reference"], "stop_url": done["stop_path"]},
    )


@require_http_methods(["GET", "POST"])
@limit_posts_per_address("follow-up", "CLINIC_RATE_LIMIT_FORM_POSTS")
def follow_ups_stop_confirm(request, token):
    """GET only asks (a mail scanner that follows the link stops nothing); the POST from the page stops."""
    callback_request = request_from_stop_token(token)
    if callback_request is None:
        return _link_gone(request, "invalid")
    if request.method == "POST":
        follow_ups_stop(request_id=callback_request.pk)
        return render(request, "callbacks/followups/stopped.html", {"reference": callback_request.reference})
    if callback_request.follow_ups_stopped_at is not None:
        return render(request, "callbacks/followups/stopped.html", {"reference": callback_request.reference})
    return render(request, "callbacks/followups/stop.html", {"reference": callback_request.reference})
