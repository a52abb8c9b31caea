"""Asking a safety question again before a request is sent, when what the patient wrote or marked points at it.

The questionnaire's free text and the body diagram are checked once every step is done, on a page of their
own; the details page's "what would you like to talk about" box is checked when that page is sent, and its
questions are added to the same form. A "yes" is a yes to the safety question (its rule and advice apply);
either answer is kept for staff next to the "possible red flag" reason (`intake.screening`).
"""

from crispy_forms.layout import HTML, Fieldset
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from callbacks.web.flow import flow_expired, flow_load, flow_save, step_url, where_next
from clinic.ratelimit import limit_posts_per_address
from intake.selectors import Definition, progress_rechecks, steps_screening
from intake.services import (
    Progress,
    QuestionnaireAnswers,
    RecheckForm,
    progress_rechecks_save,
    recheck_answers,
    recheck_fields,
)

REASON_FIELD = "reason"


@require_http_methods(["GET", "POST"])
@limit_posts_per_address("intake-step", "CLINIC_RATE_LIMIT_FORM_POSTS")
def callback_request_recheck(request, flow):
    loaded = flow_load(request, flow)
    if loaded is None:
        return flow_expired(request)
    definition, progress = loaded
    pending = progress_rechecks(definition=definition, progress=progress)
    if not pending:
        return redirect(where_next(flow, definition, progress))
    form = RecheckForm(request.POST if request.method == "POST" else None, rechecks=pending)
    if request.method == "POST" and form.is_valid():
        progress_rechecks_save(definition=definition, progress=progress, answers=form.answers)
        flow_save(request, flow, progress)
        return redirect(where_next(flow, definition, progress))
    asked = steps_screening(definition=definition, answers=progress.answers)
    return render(
        request,
        "callbacks/request_recheck.html",
        {
            "form": form,
            "questions": form.questions(),
            "back_url": step_url(flow, asked[-1]),
            "position": len(asked),
            "total": len(asked) + 1,
        },
    )


def details_rechecks_add(request, *, definition: Definition, progress: Progress, form) -> None:
    """Add to a sent details form the safety questions that its reason box calls for (none on a GET)."""
    if request.method != "POST":
        return
    reason = str(request.POST.get(REASON_FIELD, ""))[:2000]
    pending = progress_rechecks(definition=definition, progress=progress, other_text={REASON_FIELD: reason})
    if not pending:
        return
    fields = recheck_fields(pending)
    form.fields.update(fields)
    intro = HTML(
        '<p id="recheck-intro">Before we send your request, please answer this again. '
        "It helps us decide how soon to contact you.</p>"
    )
    form.helper.layout.append(Fieldset("Before we send your request", intro, *fields))


def details_questionnaire(
    *, definition: Definition, progress: Progress, complete: bool, cleaned_data: dict
) -> QuestionnaireAnswers:
    """The answers to store with a sent details form, with the safety questions it asked again. ``complete`` is
    False on the short path: the questions after the screening steps follow once the request is stored."""
    progress_rechecks_save(definition=definition, progress=progress, answers=recheck_answers(cleaned_data))
    return QuestionnaireAnswers(
        definition=definition,
        answers=progress.answers,
        complete=complete,
        rechecks=dict(progress.rechecks),
        other_text={REASON_FIELD: cleaned_data.get(REASON_FIELD, "")},
    )
