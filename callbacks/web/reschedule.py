"""The patient's reschedule link: choose another free time for an appointment, then confirm the move.

The link rules are those of the cancel link (`callbacks.booking.links`): it is signed and expires, every GET
only shows (mail scanners follow links), the move needs a POST, and a link works for one move only.
"""

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from callbacks.booking.links import appointment_from_reschedule_token
from callbacks.booking.reschedule import RescheduleClosed, appointment_movable, appointment_reschedule
from callbacks.booking.slots import SlotTaken, slot_key_parse, slots_by_day, slots_nearest
from callbacks.web import booking as booking_views
from callbacks.web.day_picker import day_picker_context
from clinic.ratelimit import limit_posts_per_address

TEMPLATE = "callbacks/booking/reschedule.html"


@require_http_methods(["GET", "POST"])
@limit_posts_per_address("intake-step", "CLINIC_RATE_LIMIT_FORM_POSTS")
def booking_reschedule(request, token):
    """GET: the free times, or (with ?slot=) the question "move to this time?"; POST: the move itself."""
    found = appointment_from_reschedule_token(token)
    if found is None:
        return render(request, TEMPLATE, {"state": "invalid"}, status=404)
    appointment, revision = found
    context = {"appointment": appointment, "token": token}
    if revision != appointment.revision:
        return render(request, TEMPLATE, {**context, "state": "used"}, status=410)
    if not appointment_movable(appointment):
        return render(request, TEMPLATE, {**context, "state": "closed"}, status=410)
    key = request.POST.get("slot", "") if request.method == "POST" else request.GET.get("slot", "")
    if not key:
        # The day picker; the patient's own time is not free, so it is not among the times.
        picker = day_picker_context(request.GET, service=appointment.service)
        return render(request, TEMPLATE, {**context, "state": "choose", **picker})
    slot = booking_views._free_slot(appointment.service, key)
    if slot is None:
        return _taken(request, context, appointment, key)
    if request.method == "GET":
        return render(request, TEMPLATE, {**context, "state": "confirm", "slot": slot})
    try:
        moved = appointment_reschedule(
            appointment=appointment, revision=revision, practitioner_id=slot.practitioner_id, starts_at=slot.starts_at
        )
    except RescheduleClosed:
        return render(request, TEMPLATE, {**context, "state": "used"}, status=410)
    except SlotTaken:
        return _taken(request, context, appointment, key)
    return render(request, TEMPLATE, {**context, "state": "moved", "appointment": moved, "was": appointment})


def _taken(request, context: dict, appointment, key: str):
    """The chosen time is gone (or never was free): the nearest free times instead, nothing changed."""
    around = (slot_key_parse(key) or (0, appointment.starts_at))[1]
    return render(
        request,
        TEMPLATE,
        {
            **context,
            "state": "taken",
            "days": slots_by_day(slots_nearest(service=appointment.service, around=around)),
            "all_times_url": reverse("callbacks:booking_reschedule", kwargs={"token": context["token"]}),
        },
        status=409,
    )
