"""A course of care: N sessions at a cadence (weekly, twice weekly), planned and booked in one staff action.

Each session is a booking like any other (`appointment_book`: the same schedule, the same database guarantee
against double booking), with its own request, reference, signed links and calendar event, so it is moved or
cancelled on its own by staff or by the patient's link; the `CourseOfCare` row links them. The plan checks every
occurrence as a single booking is checked and says why one cannot be booked; staff book all the free ones or
some. Booking is all or nothing: a session taken meanwhile books none, and the plan is shown again.

The patient gets one e-mail listing the sessions, with one calendar file holding one event per session (each
under its own appointment's UID, see `callbacks.booking.calendar`); staff are notified once, with the first
session's request; the first session's request carries the outcome follow-ups
(`callbacks.requests.followup_schedule`).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from callbacks.booking.desk import appointment_cancel_by_clinic
from callbacks.booking.services import appointment_book, appointment_confirm
from callbacks.booking.slots import STAFF_HORIZON_DAYS, slot_key_parse, slot_offered, slot_within_horizon
from callbacks.models import Appointment, ConsentMethod, CourseOfCare, Notification, RequestEvent, Service
from callbacks.notifications.outbox import notification_queue_once
from callbacks.requests.closures import bank_holidays, clinic_closed_days
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
from callbacks.requests.workflow import request_event_record
from clinic.hours import clinic_zone
from intake.services import QuestionnaireAnswers

logger = logging.getLogger(__name__)

Cadence = CourseOfCare.Cadence

# Days from one session to the next: weekly on the same weekday; twice weekly three then four days apart
# (Monday and Thursday, Tuesday and Friday...), so the pattern repeats every week.
CADENCE_STEPS = {Cadence.WEEKLY: (7,), Cadence.TWICE_WEEKLY: (3, 4)}
MIN_SESSIONS, MAX_SESSIONS = 2, 24
# A course is planned by the front desk, so as far ahead as the desk books (`slots.STAFF_HORIZON_DAYS`, half a
# year): twelve weekly sessions need twelve weeks, further than patients book a single visit online.
# However many closed days fall on the cadence, the plan looks this many occurrences at most.
MAX_OCCURRENCES = MAX_SESSIONS * 3


class SessionState:
    FREE = "free"
    TAKEN = "taken"
    NOT_OFFERED = "not_offered"
    CLOSED = "closed"
    TOO_FAR = "too_far"


@dataclass(frozen=True)
class PlannedSession:
    """One occurrence of the cadence: a session to book (``number`` counts them) or a closed day skipped."""

    number: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    state: str
    note: str
    practitioner_id: int

    @property
    def bookable(self) -> bool:
        return self.state == SessionState.FREE

    @property
    def key(self) -> str:
        return f"{self.practitioner_id}-{int(self.starts_at.timestamp())}"

    @property
    def local_start(self) -> dt.datetime:
        return self.starts_at.astimezone(clinic_zone())

    @property
    def local_end(self) -> dt.datetime:
        return self.ends_at.astimezone(clinic_zone())


def course_dates(*, first_day: dt.date, cadence: str):
    """The cadence's days from ``first_day`` on (endless)."""
    steps = CADENCE_STEPS[Cadence(cadence)]
    day, index = first_day, 0
    while True:
        yield day
        day += dt.timedelta(days=steps[index % len(steps)])
        index += 1


def _closed_reasons(first: dt.date, last: dt.date) -> dict[dt.date, str]:
    reasons = {day: f"Bank holiday: {name}" for day, name in bank_holidays(first, last)}
    return {day: reasons.get(day, "The clinic is closed") for day in clinic_closed_days(first, last)}


def course_plan(
    *,
    service: Service,
    practitioner_id: int,
    first_start: dt.datetime,
    cadence: str,
    sessions: int,
    now: dt.datetime | None = None,
) -> list[PlannedSession]:
    """The ``sessions`` occurrences of the course at the same clinic time as ``first_start``, each checked as a
    single booking is: a closed day or bank holiday is skipped (listed, not counted, and the course runs on to
    the next occurrence); a session outside the practitioner's hours, during their time away, too soon or
    beyond the course horizon cannot be booked; one another booking holds is shown as taken. Reads only."""
    now = now or timezone.now()
    zone = clinic_zone()
    local_first = first_start.astimezone(zone)
    wall_clock = local_first.timetz().replace(tzinfo=None)
    duration = dt.timedelta(minutes=service.duration_minutes)
    dates = course_dates(first_day=local_first.date(), cadence=cadence)
    days = [next(dates) for _ in range(MAX_OCCURRENCES)]
    closed = _closed_reasons(days[0], days[-1])
    plan: list[PlannedSession] = []
    number = 0
    for day in days:
        if number == sessions:
            break
        starts_at = dt.datetime.combine(day, wall_clock, tzinfo=zone).astimezone(dt.UTC)
        ends_at = starts_at + duration
        if day in closed:
            plan.append(PlannedSession(None, starts_at, ends_at, SessionState.CLOSED, closed[day], practitioner_id))
            continue
        number += 1
        state, note = _session_state(service, practitioner_id, starts_at, ends_at, now)
        plan.append(PlannedSession(number, starts_at, ends_at, state, note, practitioner_id))
    return plan


def _session_state(service, practitioner_id, starts_at, ends_at, now) -> tuple[str, str]:
    if not slot_within_horizon(starts_at, now=now, by_staff=True):
        return SessionState.TOO_FAR, f"More than {STAFF_HORIZON_DAYS // 7} weeks ahead"
    if (
        slot_offered(service=service, practitioner_id=practitioner_id, starts_at=starts_at, now=now, by_staff=True)
        is None
    ):
        return SessionState.NOT_OFFERED, "Not offered then (outside the practitioner's hours, time away or too soon)"
    clash = (
        Appointment.objects.holding()
        .filter(practitioner_id=practitioner_id, starts_at__lt=ends_at, ends_at__gt=starts_at)
        .select_related("request")
        .first()
    )
    if clash is not None:
        return SessionState.TAKEN, f"Taken: {clash.request.reference} holds that time"
    return SessionState.FREE, "Free"


def course_session_starts(keys: list[str]) -> list[dt.datetime]:
    """The start times chosen on the plan's form (slot keys), in time order; unreadable keys are left out."""
    starts = []
    for key in keys:
        parsed = slot_key_parse(key)
        if parsed is not None:
            starts.append(parsed[1])
    return sorted(set(starts))


@transaction.atomic
def course_book(
    *,
    service: Service,
    practitioner_id: int,
    starts: list[dt.datetime],
    cadence: str,
    sessions_asked: int,
    name: str,
    phone: str,
    email: str = "",
    reason: str,
    staff: AbstractBaseUser,
    questionnaire: QuestionnaireAnswers | None = None,
    confirm: bool = False,
) -> CourseOfCare:
    """Book the sessions starting at ``starts`` (one practitioner, one service) as one course, for the caller on
    the phone whose consent ``staff`` heard.

    All or nothing: each session is booked as a single booking is (raises `SlotTaken`, and nothing at all is
    saved, when one is taken meanwhile or no longer offered). Each session gets its own request (with the safety
    answers when asked: each is screened alike); the first one's request is the course's: staff are notified of
    it like a new booking and it carries the follow-ups. With ``confirm``, every session is confirmed at once
    unless triage flagged the answers. The patient (when they gave an address) gets one e-mail listing the
    sessions with one calendar file. The history of each request names its session and the course.
    """
    if not starts:
        raise ValueError("Choose at least one session.")
    course = CourseOfCare.objects.create(
        service=service,
        practitioner_id=practitioner_id,
        cadence=cadence,
        sessions_asked=sessions_asked,
        created_by=staff,
    )
    appointments = []
    for index, starts_at in enumerate(sorted(starts)):
        appointment = appointment_book(
            service=service,
            practitioner_id=practitioner_id,
            starts_at=starts_at,
            name=name,
            phone=phone,
            email=email,
            reason=reason,
            consent_version=CURRENT_CONSENT_VERSION,
            questionnaire=questionnaire,
            consent_method=ConsentMethod.PHONE,
            consent_recorded_by=staff,
            by_staff=True,
            notify_staff=index == 0,
            notify_patient=False,
        )
        appointment.course = course
        appointment.save(update_fields=["course"])
        appointments.append(appointment)
    first_request = appointments[0].request
    course.first_request = first_request
    course.save(update_fields=["first_request"])
    now = timezone.now()
    total = len(appointments)
    for number, appointment in enumerate(appointments, start=1):
        request_event_record(
            request=appointment.request,
            actor=staff,
            action=RequestEvent.Action.EDITED,
            at=now,
            field="course",
            after=f"Session {number} of {total}, {course.get_cadence_display().lower()} (first {first_request})",
        )
        if confirm and not appointment.flagged:
            appointment_confirm(appointment=appointment, user=staff, notify_patient=False)
    # The sessions' first calendar file: SEQUENCE 0 each, as a single booking's first e-mail.
    notification_queue_once(request=first_request, kind=Notification.Kind.COURSE_BOOKED, calendar_sequence=0)
    logger.info(
        "course %s booked by phone by user %s: %s session(s), first request %s",
        course.pk,
        staff.pk,
        total,
        first_request.reference,
    )
    return course


def course_sessions(course: CourseOfCare) -> list[Appointment]:
    """The course's sessions in time order, with what their lines show."""
    return list(course.appointments.select_related("request", "service", "practitioner").order_by("starts_at"))


def course_rest(course: CourseOfCare, *, now: dt.datetime | None = None) -> list[Appointment]:
    """The sessions still to come that hold a time: what "cancel the rest" cancels."""
    now = now or timezone.now()
    return [
        appointment for appointment in course_sessions(course) if appointment.holds_time and appointment.starts_at > now
    ]


def course_cancel_rest(*, course: CourseOfCare, user: AbstractBaseUser, reason: str = "") -> list[Appointment]:
    """Cancel every session of the course still to come, each as the clinic's cancel of one appointment (its
    time freed at once, its request's history with ``reason``, the patient's e-mail with a calendar file that
    removes that event and the waitlist's offers after the undo grace). Returns the sessions cancelled; sessions
    that started, or were cancelled, are left alone."""
    cancelled = []
    with transaction.atomic():
        for appointment in course_rest(course):
            if appointment_cancel_by_clinic(appointment=appointment, user=user, reason=reason):
                cancelled.append(appointment)
    logger.info("course %s: %s session(s) cancelled by user %s", course.pk, len(cancelled), user.pk)
    return cancelled
