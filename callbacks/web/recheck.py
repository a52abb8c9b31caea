"""Asking a safety question again before a request is sent, when what the patient wrote or marked points at it.

The questionnaire's free text and the body diagram are checked once every step is done, on a page of their
own; the details page's "what would you like to talk about" box is checked when that page is sent, and its
questions are added to the same form. A "yes" is a yes to the safety question (its rule and advice apply);
either answer is kept for staff next to the "possible red flag" reason (`intake.screening`).
"""

from crispy_forms.layout import HTML, Fieldset
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods

from callbacks.web.details import advice, journey_sent_shown, rechecks_advising
from callbacks.web.flow import flow_expired, flow_load, flow_save, step_url, where_next
from clinic.ratelimit import limit_posts_per_address
from intake.selectors import Definition, progress_rechecks, steps_screening
from intake.services import (
    FIELD_PREFIX,
    Progress,
    QuestionnaireAnswers,
    RecheckForm,
    progress_rechecks_save,
    recheck_answers,
    recheck_fields,
)

REASON_FIELD = "reason"
RECHECKS_SHOWN_FIELD = "rechecks_shown"


@require_http_methods(["GET", "POST"])
@journey_sent_shown
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
            **advice(),
            **rechecks_advising(definition, pending),
            "form": form,
            "questions": form.questions(),
            "back_url": step_url(flow, asked[-1]),
            "position": len(asked),
            "total": len(asked) + 1,
        },
    )


def details_rechecks_add(request, *, definition: Definition, progress: Progress, form) -> None:
    """Add to a details form the safety questions that its reason box calls for: the form as sent, or as kept
    after "Show the times for this day" (with its answers to those questions); none on a fresh page."""
    if not form.is_bound:
        return
    data = form.data
    reason = str(data.get(REASON_FIELD, ""))[:2000]
    pending = progress_rechecks(definition=definition, progress=progress, other_text={REASON_FIELD: reason})
    if not pending:
        return
    fields = recheck_fields(pending)
    form.fields.update(fields)
    # Asked for the first time, a question is a question, not an error (`details_rechecks_as_questions`); the page
    # names the questions it showed, so that sent again unanswered they are errors.
    shown = str(data.get(RECHECKS_SHOWN_FIELD, "")).split()
    form.rechecks_first_asked = [
        name for name in fields if name not in data and name.removeprefix(FIELD_PREFIX) not in shown
    ]
    shown_input = HTML(
        f'<input type="hidden" name="{RECHECKS_SHOWN_FIELD}" value="'
        + " ".join(recheck.question_id for recheck in pending)
        + '">'
    )
    intro = HTML(
        '<p id="recheck-intro">Something you wrote can be a sign that you need to be seen sooner. Before we send '
        "your request, please answer this, thinking about the last two weeks.</p>"
    )
    advising = rechecks_advising(definition, pending)
    button = getattr(form, "submit_label", "Send my request")
    inline = HTML(
        render_to_string(
            "callbacks/includes/advice_inline.html",
            {**advice(), **advising, "button": f"\u201c{button}\u201d", "what": "your request", "details": True},
        )
    )
    # At the top of the page, where the patient's eyes are after pressing send; a "yes" shows its advice at once.
    form.helper.layout.insert(
        0, Fieldset("Before we send your request", intro, shown_input, *fields, inline, css_class="recheck")
    )
    form.helper.attrs = {
        **form.helper.attrs,
        **{f"data-{key.replace('_', '-')}": value for key, value in advising.items() if value},
    }


def details_rechecks_as_questions(form) -> None:
    """A safety question asked again for the first time reads as a question: its "required" message is not shown
    (the form stays unsent until it is answered); once the patient has sent the page with it, it is an error."""
    for name in getattr(form, "rechecks_first_asked", ()):
        form.errors.pop(name, None)


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
