"""The patient's side of capacity (`callbacks.requests.capacity`): a journey's held place, kept in the session,
and the page shown when online requests are closed, paused or full."""

import datetime as dt
import time

from django.shortcuts import render

from callbacks.requests.capacity import Closed, Intake, intake_now
from callbacks.web.details import advice

# {flow id: when its last page was sent while requests were taken (epoch seconds)}
SESSION_HELD_KEY = "callbacks_capacity_held"
MAX_HELD = 5

HEADINGS = {
    Closed.HOURS: "We are not taking online requests at this time",
    Closed.PAUSED: "Online requests are paused for now",
    Closed.FULL: "We have no more online places today",
}


def journey_hold(request, flow_id: str, intake: Intake) -> None:
    """A page of the journey was sent: while requests are taken, the journey (re)takes its place for the grace
    period from now."""
    if not intake.accepting:
        return
    held = {key: value for key, value in journeys_held(request).items() if key != flow_id}
    newest = list(held)[-(MAX_HELD - 1) :]
    request.session[SESSION_HELD_KEY] = {**{key: held[key] for key in newest}, flow_id: time.time()}


def journeys_held(request) -> dict:
    held = request.session.get(SESSION_HELD_KEY)
    return held if isinstance(held, dict) else {}


def journey_held_at(request, flow_id: str) -> dt.datetime | None:
    stamp = journeys_held(request).get(flow_id)
    return dt.datetime.fromtimestamp(stamp, tz=dt.UTC) if isinstance(stamp, int | float) else None


def capacity_context(intake: Intake) -> dict:
    """What a page says when requests are not taken: why, and from when again."""
    if intake.accepting:
        return {"capacity_closed": False}
    return {
        "capacity_closed": True,
        "capacity_heading": HEADINGS[intake.closed],
        "capacity_full": intake.closed is Closed.FULL,
        "capacity_reason": intake.pause_reason,
        "capacity_opens_at": intake.opens_at,
    }


def capacity_page_key() -> str:
    """What the first page says about capacity now, as a key for the kept copy of that page
    (`clinic.public_pages.public_form_page`): a pause, the hours or a full day change the page at once."""
    return repr(sorted(capacity_context(intake_now()).items()))


def request_closed(request, intake: Intake, *, back_url: str):
    """Online requests are not taken and this patient's answers are routine: nothing is sent; they are told when
    to try again, the clinic's number, and where else to get help (a pharmacist, 111, and 999 if it gets worse)."""
    return render(
        request, "callbacks/request_closed.html", {**advice(), **capacity_context(intake), "back_url": back_url}
    )
