"""What the details page of both flows (callback and booking) shares: the limits it counts against, the way
back, the advice it shows (and which questions show the emergency advice inline), and what the confirmation
page then shows (reference, advice, link to continue)."""

import datetime as dt
import functools
from collections.abc import Iterable

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone

from callbacks.models import CallbackRequest, Priority
from callbacks.privacy.sessions import session_request_mark
from callbacks.requests.advice import request_advice_priority
from callbacks.requests.links import questionnaire_continue_path
from callbacks.web.flow import step_url
from clinic.hours import clinic_zone
from clinic.ratelimit import client_network, rate_limit_exceeded, rate_limit_reached, rate_limit_retry_at
from intake.selectors import BACK_PAIN, Definition, Step, Tier, answers_tier, definition_current

# Only stored requests count against these limits: a form sent back with a mistake never does. The check comes
# before storing (nothing is counted), the count after (`requests_count`).


def requests_from_address_limited(request) -> bool:
    """True when this address has already sent as many requests as the limit allows in this window."""
    return rate_limit_reached(
        scope="request-address", identity=client_network(request), rate=settings.CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS
    )


def requests_for_phone_limited(phone: str) -> bool:
    """True when this (E.164) number already has as many requests as the limit allows, from any address."""
    return rate_limit_reached(scope="request-phone", identity=phone, rate=settings.CLINIC_RATE_LIMIT_REQUESTS_PER_PHONE)


def requests_count(request, phone: str) -> None:
    """Count one stored request against its address and its phone number."""
    rate_limit_exceeded(
        scope="request-address", identity=client_network(request), rate=settings.CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS
    )
    rate_limit_exceeded(scope="request-phone", identity=phone, rate=settings.CLINIC_RATE_LIMIT_REQUESTS_PER_PHONE)


def request_refused(request, *, tier_emergency: bool, tier_urgent: bool, by_phone: bool):
    """The page for a patient over a limit: the advice their answers call for, the clinic's number, when to try
    again. Their answers and details stay in the session, so sending the page again later sends them (429)."""
    rate = (
        settings.CLINIC_RATE_LIMIT_REQUESTS_PER_PHONE if by_phone else settings.CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS
    )
    retry = dt.datetime.fromtimestamp(rate_limit_retry_at(rate), tz=dt.UTC)
    return render(
        request,
        "callbacks/request_refused.html",
        {
            **advice(),
            "emergency": tier_emergency,
            "urgent": tier_urgent,
            "retry_at": timezone.localtime(retry, clinic_zone()),
        },
        status=429,
    )


def details_back_url(flow_id: str, *, asked: list[Step], emergency: bool) -> str:
    """Back from the details page: to the emergency advice, or to the last questions asked."""
    return reverse("callbacks:emergency", kwargs={"flow": flow_id}) if emergency else step_url(flow_id, asked[-1])


def advice() -> dict[str, str]:
    return {
        "emergency_advice": settings.CLINIC_EMERGENCY_ADVICE.replace("{number}", settings.CLINIC_EMERGENCY_NUMBER),
        "urgent_advice": settings.CLINIC_URGENT_ADVICE.replace("{number}", settings.CLINIC_URGENT_ADVICE_NUMBER),
    }


def busy_page_advice() -> dict:
    """What the busy page (clinic/admission.py) tells a patient it turns away before the safety questions: every
    emergency question of the current definition, what to do if one is true, and where to get help today."""
    definition = definition_current(BACK_PAIN)
    signs = _questions_advising(definition, definition.question_map, Tier.EMERGENCY)
    return {**advice(), "emergency_signs": [definition.question(question_id).text for question_id in signs]}


def questions_advising(definition: Definition, question_ids: Iterable[str], tier: Tier) -> str:
    """Of these yes/no questions, those whose "yes" alone calls for ``tier``'s advice, for the inline advice that
    the browser script shows at once (space-separated ids, for the form's ``data-emergency-questions`` and
    ``data-urgent-questions``; the advice is templates/callbacks/includes/emergency_inline.html and
    urgent_inline.html)."""
    return " ".join(_questions_advising(definition, question_ids, tier))


def _questions_advising(definition: Definition, question_ids: Iterable[str], tier: Tier) -> list[str]:
    questions = definition.question_map
    return [
        question_id
        for question_id in question_ids
        if question_id in questions
        and questions[question_id].type == "yes_no"
        and answers_tier(definition=definition, answers={question_id: True}) is tier
    ]


def rechecks_advising(definition: Definition, rechecks) -> dict[str, str]:
    """For a page of safety questions asked again: which of them advise at once when answered yes."""
    ids = [recheck.question_id for recheck in rechecks]
    return {
        "emergency_questions": questions_advising(definition, ids, Tier.EMERGENCY),
        "urgent_questions": questions_advising(definition, ids, Tier.URGENT),
    }


def emergency_questions(definition: Definition, steps: Iterable[Step]) -> str:
    return questions_advising(definition, (q.id for step in steps for q in step.questions), Tier.EMERGENCY)


def urgent_questions(definition: Definition, steps: Iterable[Step]) -> str:
    return questions_advising(definition, (q.id for step in steps for q in step.questions), Tier.URGENT)


# What the confirmation page of this browser shows about the request it just sent.
SESSION_REFERENCE_KEY = "callbacks_last_reference"
SESSION_PRIORITY_KEY = "callbacks_last_priority"
SESSION_CONTINUE_KEY = "callbacks_last_continue"
# "We aim to call you by ...": set when the priority's deadline comes before the end of the window chosen.
SESSION_CALL_BY_KEY = "callbacks_last_call_by"
# The appointment the booking confirmation page shows.
SESSION_BOOKED_KEY = "callbacks_booking_last"
# The journeys this browser has sent: {flow id: request id}, the newest few.
SESSION_SENT_KEY = "callbacks_sent_journeys"
MAX_SENT_JOURNEYS = 5


def request_sent_remember(request, created: CallbackRequest, *, flow_id: str | None = None) -> None:
    """Remember the reference, the priority and the link to the rest of the questionnaire (not after an
    emergency: the patient is to get help now, not answer questions), and that the journey ``flow_id`` was sent
    as this request, so that its pages show what was sent from now on (`journey_sent_shown`)."""
    if flow_id is not None:
        sent = {key: value for key, value in journeys_sent(request).items() if key != flow_id}
        newest = list(sent)[-(MAX_SENT_JOURNEYS - 1) :]
        request.session[SESSION_SENT_KEY] = {**{key: sent[key] for key in newest}, flow_id: created.pk}
    appointment = getattr(created, "appointment", None) if created.kind == CallbackRequest.Kind.BOOKING else None
    if appointment is not None:
        request.session[SESSION_BOOKED_KEY] = appointment.pk
    request.session[SESSION_REFERENCE_KEY] = created.reference
    session_request_mark(request.session, reference=created.reference)
    # The priority whose advice the patient is shown (a possible red flag they denied tells staff only).
    request.session[SESSION_PRIORITY_KEY] = int(request_advice_priority(created))
    emergency = created.priority == Priority.EMERGENCY
    request.session[SESSION_CONTINUE_KEY] = "" if emergency else questionnaire_continue_path(created)
    sooner = created.kind == CallbackRequest.Kind.CALLBACK and created.deadline < created.window_end
    call_by = dateformat.format(timezone.localtime(created.deadline, clinic_zone()), "l j F, H:i") if sooner else ""
    request.session[SESSION_CALL_BY_KEY] = call_by


def journeys_sent(request) -> dict:
    sent = request.session.get(SESSION_SENT_KEY)
    return sent if isinstance(sent, dict) else {}


def journey_sent_page(request, flow_id: str):
    """For a journey this browser has sent: a redirect to the page of what was sent (the confirmation with its
    reference and what happens next), whichever of the journey's pages was asked for; None otherwise."""
    pk = journeys_sent(request).get(flow_id)
    sent = CallbackRequest.objects.select_related("appointment").filter(pk=pk).first() if isinstance(pk, int) else None
    if sent is None:
        # Never sent here, or erased since: the journey's own pages (or "start again") follow.
        return None
    # The confirmation pages show this browser's last request: make it this journey's, even after another.
    request_sent_remember(request, sent)
    if sent.kind == CallbackRequest.Kind.BOOKING and getattr(sent, "appointment", None) is not None:
        return redirect("callbacks:booking_done")
    return redirect("callbacks:done")


def journey_sent_shown(view):
    """A page of a journey (its ``flow`` argument): once the journey is sent, any GET or POST to it shows what
    was sent instead (Back, refresh, a re-opened tab, a second send), never "start again", never a second
    request."""

    @functools.wraps(view)
    def wrapped(request, *args, flow, **kwargs):
        shown = journey_sent_page(request, flow)
        return shown if shown is not None else view(request, *args, flow=flow, **kwargs)

    return wrapped


def continue_context(request) -> dict:
    """The link to the rest of the questionnaire on a confirmation page (this browser's last request), and the
    time we aim to call by when the priority brings it before the window the patient chose."""
    path = request.session.get(SESSION_CONTINUE_KEY, "")
    return {
        "call_by": request.session.get(SESSION_CALL_BY_KEY, ""),
        "continue_url": path,
        "continue_link": request.build_absolute_uri(path) if path else "",
        "continue_link_days": settings.CLINIC_CONTINUE_LINK_DAYS,
    }
