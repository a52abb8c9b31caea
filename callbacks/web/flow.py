"""The patient flow's session store, a public API for the callback, booking and re-check pages.

Progress lives in the server-side session, one entry per flow (a random id in the URL, so two tabs do not mix);
no answer ever travels in a URL. A flow left too long is forgotten, and only the newest few are kept.
"""

import time

from django.contrib import messages
from django.http import QueryDict
from django.shortcuts import redirect
from django.urls import reverse

from intake.selectors import (
    Definition,
    DefinitionNotFound,
    Step,
    definition_get,
    progress_first_open_screening_step,
    progress_is_emergency,
    progress_rechecks,
    progress_step_reachable,
    step_neighbours,
)
from intake.services import Progress

SESSION_FLOWS_KEY = "callbacks_intake_flows"
# A flow left this long is forgotten (its answers leave the session); only the newest few are kept.
FLOW_MAX_AGE_SECONDS = 6 * 60 * 60
MAX_FLOWS = 3
EXPIRED_MESSAGE = "We could not find your earlier answers (they are kept for a few hours). Please start again."


def flows_stored(request) -> dict:
    """Every flow kept in this session: {flow id: progress as stored}."""
    flows = request.session.get(SESSION_FLOWS_KEY)
    return flows if isinstance(flows, dict) else {}


def flow_load(request, flow_id: str) -> tuple[Definition, Progress] | None:
    progress = Progress.from_dict(flows_stored(request).get(flow_id))
    if progress is None or time.time() - progress.started_at > FLOW_MAX_AGE_SECONDS:
        return None
    try:
        # The version the patient started on, even if a newer one has shipped since.
        return definition_get(progress.slug, progress.version), progress
    except DefinitionNotFound:
        return None


def flow_save(request, flow_id: str, progress: Progress) -> None:
    now = time.time()
    flows = {
        key: value
        for key, value in flows_stored(request).items()
        if key != flow_id and isinstance(value, dict) and now - value.get("started_at", 0) <= FLOW_MAX_AGE_SECONDS
    }
    newest = sorted(flows, key=lambda key: flows[key].get("started_at", 0))[-(MAX_FLOWS - 1) :]
    flows = {key: flows[key] for key in newest}
    flows[flow_id] = progress.to_dict()
    request.session[SESSION_FLOWS_KEY] = flows


def flow_drop(request, flow_id: str) -> None:
    flows = flows_stored(request)
    flows.pop(flow_id, None)
    request.session[SESSION_FLOWS_KEY] = flows
    drafts = _drafts_stored(request)
    if drafts.pop(flow_id, None) is not None:
        request.session[SESSION_DRAFTS_KEY] = drafts


# What a patient has typed on the details page, between "Show the times for this day" (without JavaScript) and
# sending: that button's answer is a redirect to the page, so no page of the journey is a form's answer, which a
# browser will not show again on Back (it offers to send the form again instead).
SESSION_DRAFTS_KEY = "callbacks_details_drafts"


def _drafts_stored(request) -> dict:
    drafts = request.session.get(SESSION_DRAFTS_KEY)
    return drafts if isinstance(drafts, dict) else {}


def details_draft_keep(request, flow_id: str, data: QueryDict) -> None:
    """Keep the details typed so far for this flow (the newest few flows' only)."""
    drafts = {key: value for key, value in _drafts_stored(request).items() if key in flows_stored(request)}
    drafts[flow_id] = {key: data.getlist(key) for key in data if key != "csrfmiddlewaretoken"}
    request.session[SESSION_DRAFTS_KEY] = drafts


def details_draft(request, flow_id: str) -> QueryDict | None:
    """The details kept for this flow, as the form data they were sent as; None if there are none."""
    draft = _drafts_stored(request).get(flow_id)
    if not isinstance(draft, dict):
        return None
    data = QueryDict(mutable=True)
    for key, values in draft.items():
        if isinstance(values, list):
            data.setlist(key, [str(value) for value in values])
    return data


def flow_expired(request):
    messages.info(request, EXPIRED_MESSAGE)
    return redirect("callbacks:request")


def step_url(flow_id: str, step: Step) -> str:
    return reverse("callbacks:step", kwargs={"flow": flow_id, "step": step.id})


def where_next(flow_id: str, definition: Definition, progress: Progress, after: Step | None = None) -> str:
    """The page to go to now: the emergency advice, the next screening step, the first unfinished one, or the
    details (the questions after the screening ones come once the request is sent, `callbacks.web.prepare`)."""
    if progress_is_emergency(definition=definition, progress=progress):
        return reverse("callbacks:emergency", kwargs={"flow": flow_id})
    first_open = progress_first_open_screening_step(definition=definition, progress=progress)
    if after is not None:
        _, following = step_neighbours(definition=definition, answers=progress.answers, step=after)
        if (
            following is not None
            and following.screening
            and progress_step_reachable(definition=definition, progress=progress, step=following)
        ):
            return step_url(flow_id, following)
    if first_open is not None:
        return step_url(flow_id, first_open)
    if progress_rechecks(definition=definition, progress=progress):
        return reverse("callbacks:recheck", kwargs={"flow": flow_id})
    return reverse("callbacks:contact", kwargs={"flow": flow_id})
