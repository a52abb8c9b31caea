"""Readers of callback requests for the staff screens. Each returns data without changing anything."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from callbacks.models import (
    CallAttempt,
    CallbackRequest,
    ConsentMethod,
    FollowUp,
    InboundText,
    Notification,
    PatientLinkEvent,
    RequestEvent,
    StaffNote,
)
from callbacks.rules.requests import AWAITING_RESPONSE_STATUSES, URGENT_PRIORITIES
from callbacks.rules.staff import staff_display_name
from clinic.hours import clinic_zone
from intake.selectors import possible_red_flag_q

QUEUE_ORDER = ("priority", "deadline", "created_at", "pk")


def callback_request_queue() -> QuerySet[CallbackRequest]:
    """Every request, most urgent first and then soonest deadline, with what a queue row shows joined in.

    One query per page however many rows: each row's assigned staff member comes in the same query, and so
    does ``has_possible_red_flag`` (triage found a red flag in the patient's own words or in answers that
    contradict a safety answer; the queue marks the row).
    """
    flagged = ExpressionWrapper(possible_red_flag_q(prefix="questionnaire_response__"), output_field=BooleanField())
    return (
        CallbackRequest.objects.select_related("assigned_to")
        .annotate(has_possible_red_flag=flagged, has_new_text=Exists(_new_texts().filter(request=OuterRef("pk"))))
        .order_by(*QUEUE_ORDER)
    )


def _new_texts() -> QuerySet[InboundText]:
    return InboundText.objects.filter(seen_at__isnull=True)


def callback_request_with_new_text_q() -> Q:
    """The requests with a text from the patient that nobody has read yet (the queue's "New text" filter)."""
    return Q(Exists(_new_texts().filter(request=OuterRef("pk"))))


def callback_request_texts_sent(*, request: CallbackRequest) -> QuerySet[Notification]:
    """The texts sent to the patient about ``request``, oldest first, each with its delivery receipts (two
    queries)."""
    return (
        Notification.objects.filter(request=request, channel=Notification.Channel.SMS)
        .prefetch_related("receipts")
        .order_by("created_at", "pk")
    )


def callback_request_new_texts(*, request: CallbackRequest) -> int:
    return _new_texts().filter(request=request).count()


@dataclass(frozen=True)
class DayAtAGlance:
    new: int
    urgent: int
    overdue: int
    unassigned: int
    received_today: int
    today_start: dt.datetime


def _today_start(now: dt.datetime) -> dt.datetime:
    return timezone.localtime(now, clinic_zone()).replace(hour=0, minute=0, second=0, microsecond=0)


def callback_requests_received_since(since: dt.datetime) -> int:
    return CallbackRequest.objects.filter(created_at__gte=since).count()


def triage_day_at_a_glance(*, now: dt.datetime | None = None) -> DayAtAGlance:
    """The numbers on the admin home, in two queries whatever the size of the table.

    new: nobody has picked it up yet; urgent: open emergency and urgent requests; overdue: past the response
    deadline and nobody has reached the patient; unassigned: open and nobody's. The first four count open
    requests only, from the open-queue index alone (it carries the status and the assignee); the requests
    received today come from the creation-time index.
    """
    now = now or timezone.now()
    today_start = _today_start(now)
    counts = CallbackRequest.objects.open().aggregate(
        new=Count("pk", filter=Q(status=CallbackRequest.Status.NEW)),
        urgent=Count("pk", filter=Q(priority__in=URGENT_PRIORITIES)),
        overdue=Count("pk", filter=Q(status__in=AWAITING_RESPONSE_STATUSES, deadline__lt=now)),
        unassigned=Count("pk", filter=Q(assigned_to__isnull=True)),
    )
    return DayAtAGlance(**counts, received_today=callback_requests_received_since(today_start), today_start=today_start)


# The chart's past days do not change as requests arrive: they are counted at most every few minutes and kept in
# the shared cache; only today's number is counted on every view. A retention purge or an erasure shows in the
# chart within that time.
PER_DAY_CACHE_SECONDS = 10 * 60


def callback_requests_per_day(*, days: int = 42, now: dt.datetime | None = None) -> list[tuple[dt.date, int]]:
    """How many requests arrived on each of the last ``days`` days (clinic time zone), oldest first, today
    last, days without any included as zero."""
    zone = clinic_zone()
    now = now or timezone.now()
    today = timezone.localtime(now, zone).date()
    first_day = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first_day, dt.time(), tzinfo=zone)
    today_start = _today_start(now)
    key = f"callbacks:requests-per-day:{first_day.isoformat()}:{today.isoformat()}"
    past = cache.get(key)
    if past is None:
        rows = (
            CallbackRequest.objects.filter(created_at__gte=since, created_at__lt=today_start)
            .annotate(day=TruncDate("created_at", tzinfo=zone))
            .values("day")
            .annotate(count=Count("pk"))
            .order_by()
        )
        past = {row["day"]: row["count"] for row in rows}
        cache.set(key, past, PER_DAY_CACHE_SECONDS)
    counts = {**past, today: callback_requests_received_since(today_start)}
    return [(day, counts.get(day, 0)) for day in (first_day + dt.timedelta(days=n) for n in range(days))]


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str  # "received", "event", "call", "note" or "text"
    actor: str
    title: str
    detail: str = ""
    before: str = ""
    after: str = ""


def callback_request_timeline(*, request: CallbackRequest) -> list[TimelineEntry]:
    """Everything that happened to a request, newest first: its arrival, the workflow's changes, calls, notes, its
    patient links.

    Calls and notes come from their own records (they carry the detail); the history's own lines for them
    are left out here so nothing shows twice; the patient's texts come from theirs. Six queries whatever the
    length (seven for a booking taken by phone: who took it).
    """
    received = TimelineEntry(at=request.created_at, kind="received", actor="", title="Request received")
    if request.consent_method == ConsentMethod.PHONE:
        received = TimelineEntry(
            at=request.created_at,
            kind="received",
            actor=staff_display_name(request.consent_recorded_by),
            title="Booked by phone for the caller (consent given by phone)",
        )
    entries = [received]
    events = (
        RequestEvent.objects.filter(request=request)
        .exclude(action__in=[RequestEvent.Action.CALL, RequestEvent.Action.NOTE])
        .select_related("actor")
    )
    for event in events:
        entries.append(
            TimelineEntry(
                at=event.at,
                kind="event",
                actor=staff_display_name(event.actor),
                title=_event_title(event),
                before=event.before,
                after=event.after,
            )
        )
    for attempt in CallAttempt.objects.filter(request=request).select_related("made_by"):
        entries.append(
            TimelineEntry(
                at=attempt.made_at,
                kind="call",
                actor=staff_display_name(attempt.made_by),
                title=f"Call: {attempt.get_outcome_display()}",
                detail=attempt.note,
            )
        )
    for note in StaffNote.objects.filter(request=request).select_related("author"):
        entries.append(
            TimelineEntry(
                at=note.created_at, kind="note", actor=staff_display_name(note.author), title="Note", detail=note.text
            )
        )
    # Which patient the request belongs to: the matching rule's link on arrival, staff's links and unlinks.
    for link in PatientLinkEvent.objects.filter(request=request).select_related("actor"):
        entries.append(
            TimelineEntry(
                at=link.at,
                kind="event",
                actor=staff_display_name(link.actor) if link.actor else "",
                title=f"Patient: {link.get_action_display()}",
                before=link.previous_number,
                after=link.patient_number,
            )
        )
    for text in InboundText.objects.filter(request=request):
        entries.append(
            TimelineEntry(
                at=text.received_at,
                kind="text",
                actor="The patient",
                title=f"Text from the patient: {text.get_outcome_display()}",
                detail=text.body,
            )
        )
    # Same instant: keep the order of the kinds above (the arrival before anything done about it).
    order = {"received": 0, "text": 1, "event": 2, "call": 3, "note": 4}
    return sorted(entries, key=lambda entry: (entry.at, order[entry.kind]), reverse=True)


FIELD_TITLES = {
    "assigned_to": "Assigned to",
    "status": "Status",
    "outcome": "Outcome",
    "next_attempt_at": "Next call",
    "priority": "Priority",
    "deadline": "Response deadline",
    "call_attempt": "Call attempt",
    "note": "Note",
    "appointment": "Appointment",
    "kind": "Asked for",
    "screening": "Safety questions",
    "course": "Course of care",
}


def _event_title(event: RequestEvent) -> str:
    return FIELD_TITLES.get(event.field, event.get_action_display())


def callback_request_notifications(*, request: CallbackRequest) -> QuerySet[Notification]:
    return Notification.objects.filter(request=request).order_by("created_at")


def callback_request_exists(*, reference: str) -> bool:
    """Whether the request ``reference`` is still stored (not erased nor purged)."""
    return CallbackRequest.objects.filter(reference=reference).exists()


def follow_up_response_ids(*, request_ids: Iterable[int]) -> list[int]:
    """The ids of the answer sets the requests' follow-ups produced (for erasure and the retention purge)."""
    return list(
        FollowUp.objects.filter(request_id__in=list(request_ids), questionnaire_response__isnull=False).values_list(
            "questionnaire_response_id", flat=True
        )
    )


def answered_follow_ups(*, request_ids: Iterable[int]) -> dict[int, list[FollowUp]]:
    """The requests' answered follow-ups with their answer sets, by request id, each request's in ``weeks`` order."""
    found: dict[int, list[FollowUp]] = {}
    rows = (
        FollowUp.objects.answered()
        .filter(request_id__in=list(request_ids))
        .select_related("questionnaire_response")
        .order_by("request_id", "weeks")
    )
    for follow_up in rows:
        found.setdefault(follow_up.request_id, []).append(follow_up)
    return found


def callback_requests_with_answers_flag(requests: QuerySet[CallbackRequest]) -> QuerySet[CallbackRequest]:
    """``requests`` with ``has_answers``: true when it holds an answer set, its own or an answered follow-up's."""
    follow_up_answered = Exists(FollowUp.objects.answered().filter(request=OuterRef("pk")))
    return requests.annotate(
        has_answers=ExpressionWrapper(
            Q(questionnaire_response__isnull=False) | follow_up_answered, output_field=BooleanField()
        )
    )
