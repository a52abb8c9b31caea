"""Booking an appointment in a real free slot: the slots offered, the booking itself, staff decisions, reminders.

Slots are laid out in the clinic's time zone (working hours are local wall-clock times) and stored in UTC.
Whether a slot is still free when it is booked is decided by the database alone (the exclusion constraint on
PostgreSQL, triggers on SQLite, see `callbacks.models.Appointment`): two patients who saw the same free slot
both try to insert, and exactly one insert succeeds.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Appointment, AvailabilityException, CallbackRequest, Notification, Service
from callbacks.notifications import notifications_enqueue_on_commit
from callbacks.services import callback_request_create
from callbacks.workflow import ALLOWED_TRANSITIONS, callback_request_status_change
from clinic.hours import clinic_zone
from intake.services import QuestionnaireAnswers

logger = logging.getLogger(__name__)

# Slots start every SLOT_STEP from the start of a block of working hours.
SLOT_STEP = dt.timedelta(minutes=30)
# The clinic needs some notice to prepare; a slot starting sooner is not offered.
MIN_NOTICE = dt.timedelta(hours=2)
WEEKS_AHEAD = 4
NEAREST_ALTERNATIVES = 6
OVERLAP_CONSTRAINT = "cb_appointment_no_overlap"
# Links in e-mails that cancel an appointment stop working after this long (and once it has started).
CANCEL_LINK_MAX_AGE = dt.timedelta(days=60)
CANCEL_LINK_SALT = "callbacks.booking.cancel"


@dataclass(frozen=True)
class Slot:
    practitioner_id: int
    practitioner_name: str
    starts_at: dt.datetime  # aware, UTC
    ends_at: dt.datetime

    @property
    def key(self) -> str:
        """What a form posts to name this slot: practitioner and start, nothing personal."""
        return f"{self.practitioner_id}-{int(self.starts_at.timestamp())}"

    @property
    def local_start(self) -> dt.datetime:
        return self.starts_at.astimezone(clinic_zone())

    @property
    def local_end(self) -> dt.datetime:
        return self.ends_at.astimezone(clinic_zone())


def slot_key_parse(key: str) -> tuple[int, dt.datetime] | None:
    """(practitioner id, UTC start) from a slot key, or None when it is not one."""
    practitioner, _, seconds = (key or "").partition("-")
    if not (practitioner.isdigit() and seconds.isdigit()) or len(seconds) > 12:
        return None
    return int(practitioner), dt.datetime.fromtimestamp(int(seconds), tz=dt.UTC)


class SlotTaken(Exception):
    """The slot was booked by someone else first (or is no longer offered). Nothing was saved."""

    def __init__(self, alternatives: list[Slot]):
        super().__init__("That time is no longer free.")
        self.alternatives = alternatives


# Selectors -------------------------------------------------------------------------------------------------


def services_bookable() -> list[Service]:
    """Active services that at least one active practitioner offers."""
    return list(Service.objects.filter(active=True, practitioners__active=True).distinct().order_by("name"))


def _overlaps(start: dt.datetime, end: dt.datetime, spans: Iterable[tuple[dt.datetime, dt.datetime]]) -> bool:
    return any(start < span_end and end > span_start for span_start, span_end in spans)


def _schedule_slots(
    *, service: Service, first_day: dt.date, days: int, now: dt.datetime, practitioner_id: int | None = None
) -> list[Slot]:
    """Slots within working hours, outside exceptions, far enough ahead; appointments not considered."""
    zone = clinic_zone()
    duration = dt.timedelta(minutes=service.duration_minutes)
    practitioners = service.practitioners.filter(active=True).prefetch_related("working_hours")
    if practitioner_id is not None:
        practitioners = practitioners.filter(pk=practitioner_id)
    range_start = dt.datetime.combine(first_day, dt.time(), tzinfo=zone)
    range_end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time(), tzinfo=zone)
    blocked: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for exception in AvailabilityException.objects.filter(
        practitioner__in=practitioners, start__lt=range_end, end__gt=range_start
    ):
        blocked.setdefault(exception.practitioner_id, []).append((exception.start, exception.end))
    earliest = now + MIN_NOTICE
    slots = []
    for practitioner in practitioners:
        for offset in range(days):
            day = first_day + dt.timedelta(days=offset)
            for hours in practitioner.working_hours.all():
                if hours.weekday != day.weekday():
                    continue
                # Bounds as local wall-clock times, then walked in real (UTC) time: on a daylight-saving day
                # every real hour of the block is offered once, none twice, none that does not exist.
                block_start = _aware(day, hours.start, zone)
                block_end = _aware(day, hours.end, zone)
                start = block_start.astimezone(dt.UTC)
                while start + duration <= block_end:
                    end = start + duration
                    if start >= earliest and not _overlaps(start, end, blocked.get(practitioner.pk, ())):
                        slots.append(Slot(practitioner.pk, practitioner.name, start, end))
                    start += SLOT_STEP
    slots.sort(key=lambda slot: (slot.starts_at, slot.practitioner_name, slot.practitioner_id))
    return slots


def _aware(day: dt.date, time: dt.time, zone) -> dt.datetime:
    """A local wall-clock time as an aware datetime; a time skipped by a clock change moves to the change."""
    local = dt.datetime.combine(day, time, tzinfo=zone)
    round_trip = local.astimezone(dt.UTC).astimezone(zone)
    if round_trip.replace(tzinfo=None) != local.replace(tzinfo=None):
        # Inside the spring-forward gap: the first real instant after it.
        return local.replace(fold=1).astimezone(dt.UTC).astimezone(zone)
    return local


def slots_free(
    *,
    service: Service,
    now: dt.datetime | None = None,
    first_day: dt.date | None = None,
    days: int = WEEKS_AHEAD * 7,
    practitioner_id: int | None = None,
) -> list[Slot]:
    """The free slots for ``service`` from ``first_day`` (today) for ``days`` days, in time order."""
    now = now or timezone.now()
    first_day = first_day or now.astimezone(clinic_zone()).date()
    slots = _schedule_slots(service=service, first_day=first_day, days=days, now=now, practitioner_id=practitioner_id)
    if not slots:
        return []
    taken: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    for practitioner_id_, start, end in (
        Appointment.objects.holding()
        .filter(
            practitioner_id__in={slot.practitioner_id for slot in slots},
            starts_at__lt=slots[-1].ends_at,
            ends_at__gt=slots[0].starts_at,
        )
        .values_list("practitioner_id", "starts_at", "ends_at")
    ):
        taken.setdefault(practitioner_id_, []).append((start, end))
    return [slot for slot in slots if not _overlaps(slot.starts_at, slot.ends_at, taken.get(slot.practitioner_id, ()))]


def slots_by_day(slots: Iterable[Slot]) -> list[tuple[dt.date, list[Slot]]]:
    days: dict[dt.date, list[Slot]] = {}
    for slot in slots:
        days.setdefault(slot.local_start.date(), []).append(slot)
    return sorted(days.items())


def slot_offered(
    *, service: Service, practitioner_id: int, starts_at: dt.datetime, now: dt.datetime | None = None
) -> Slot | None:
    """The slot if the schedule offers it (working hours, exceptions, notice), whether or not it is taken."""
    now = now or timezone.now()
    day = starts_at.astimezone(clinic_zone()).date()
    for slot in _schedule_slots(service=service, first_day=day, days=1, now=now, practitioner_id=practitioner_id):
        if slot.starts_at == starts_at:
            return slot
    return None


def slots_nearest(
    *, service: Service, around: dt.datetime, limit: int = NEAREST_ALTERNATIVES, now: dt.datetime | None = None
) -> list[Slot]:
    """The free slots closest in time to ``around`` (before or after), in time order."""
    free = slots_free(service=service, now=now)
    closest = sorted(free, key=lambda slot: (abs(slot.starts_at - around), slot.starts_at))[:limit]
    return sorted(closest, key=lambda slot: (slot.starts_at, slot.practitioner_name))


# Services --------------------------------------------------------------------------------------------------


class _Clash(Exception):
    pass


def appointment_book(
    *,
    service: Service,
    practitioner_id: int,
    starts_at: dt.datetime,
    name: str,
    phone: str,
    email: str = "",
    reason: str,
    consent_version: str,
    questionnaire: QuestionnaireAnswers | None = None,
) -> Appointment:
    """Book a slot: the booking request (kind booking, with its intake and notifications) and the appointment.

    All in one transaction: either the patient holds the slot and the request exists, or nothing is saved.
    The appointment starts as requested: staff confirm or decline it (emergency and urgent triage is flagged
    for them, never confirmed automatically). Raises SlotTaken, with the nearest free alternatives, when the
    slot is not offered or another booking holds it; the database decides the latter.
    """
    slot = slot_offered(service=service, practitioner_id=practitioner_id, starts_at=starts_at)
    if slot is None or not service.active:
        raise SlotTaken(alternatives=slots_nearest(service=service, around=starts_at))
    try:
        with transaction.atomic():
            request = callback_request_create(
                kind=CallbackRequest.Kind.BOOKING,
                name=name,
                phone=phone,
                email=email,
                # A booking's "window" is the appointment itself: the triage queue shows when it is.
                window_start=slot.starts_at,
                window_end=slot.ends_at,
                reason=reason,
                consent_version=consent_version,
                questionnaire=questionnaire,
            )
            try:
                with transaction.atomic():
                    appointment = Appointment.objects.create(
                        practitioner_id=slot.practitioner_id,
                        service=service,
                        starts_at=slot.starts_at,
                        ends_at=slot.ends_at,
                        request=request,
                    )
            except IntegrityError as exc:
                if OVERLAP_CONSTRAINT not in str(exc):
                    raise
                # Leaving the outer block with an exception rolls the request back too.
                raise _Clash from exc
    except _Clash:
        logger.info("slot %s already held; booking refused", slot.key)
        raise SlotTaken(alternatives=slots_nearest(service=service, around=starts_at)) from None
    logger.info("appointment %s booked for request %s", appointment.pk, request.reference)
    return appointment


def _patient_notification(appointment: Appointment, kind: str) -> None:
    """Queue one e-mail of ``kind`` to the patient, once (the outbox's unique constraint), if they gave one."""
    request = appointment.request
    if not request.email:
        return
    notification, created = Notification.objects.get_or_create(
        request=request, kind=kind, channel=Notification.Channel.EMAIL, defaults={"recipient": request.email}
    )
    if created:
        notifications_enqueue_on_commit([notification])


@transaction.atomic
def appointment_confirm(*, appointment: Appointment, user) -> bool:
    """Confirm a requested appointment, mark its request booked (with history) and e-mail the patient with a
    calendar file. False, changing nothing, if the appointment was not waiting for a decision."""
    locked = Appointment.objects.select_for_update().select_related("request").get(pk=appointment.pk)
    if locked.status != Appointment.Status.REQUESTED:
        return False
    locked.status = Appointment.Status.CONFIRMED
    locked.decided_by, locked.decided_at = user, timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    if CallbackRequest.Status.BOOKED in ALLOWED_TRANSITIONS[locked.request.status]:
        # The request has done its job: it leaves the response-deadline queue and counts as a patient.
        callback_request_status_change(request=locked.request, status=CallbackRequest.Status.BOOKED, actor=user)
    _patient_notification(locked, Notification.Kind.BOOKING_CONFIRMED)
    logger.info("appointment %s confirmed by user %s", locked.pk, user.pk)
    return True


@transaction.atomic
def appointment_decline(*, appointment: Appointment, user) -> bool:
    """Decline a requested appointment (the slot is free again) and e-mail the patient. False if not requested."""
    locked = Appointment.objects.select_for_update().select_related("request").get(pk=appointment.pk)
    if locked.status != Appointment.Status.REQUESTED:
        return False
    locked.status = Appointment.Status.DECLINED
    locked.decided_by, locked.decided_at = user, timezone.now()
    locked.save(update_fields=["status", "decided_by", "decided_at"])
    _patient_notification(locked, Notification.Kind.BOOKING_DECLINED)
    logger.info("appointment %s declined by user %s", locked.pk, user.pk)
    return True


@transaction.atomic
def appointment_cancel(*, appointment: Appointment, now: dt.datetime | None = None) -> bool:
    """The patient cancels (through a signed link): the slot is free again and the front desk is told.

    False when there is nothing to cancel (already cancelled or declined, or the appointment has started).
    """
    now = now or timezone.now()
    locked = Appointment.objects.select_for_update().select_related("request").get(pk=appointment.pk)
    if locked.status not in (Appointment.Status.REQUESTED, Appointment.Status.CONFIRMED) or locked.starts_at <= now:
        return False
    locked.status = Appointment.Status.CANCELLED
    locked.save(update_fields=["status"])
    notification, created = Notification.objects.get_or_create(
        request=locked.request,
        kind=Notification.Kind.BOOKING_CANCELLED,
        channel=Notification.Channel.EMAIL,
        defaults={"recipient": settings.CLINIC_FRONT_DESK_EMAIL},
    )
    if created:
        notifications_enqueue_on_commit([notification])
    logger.info("appointment %s cancelled by the patient", locked.pk)
    return True


def appointments_remind(*, now: dt.datetime | None = None) -> int:
    """Queue one reminder e-mail per confirmed appointment starting tomorrow (clinic time) or sooner.

    Each appointment is reminded at most once: `reminder_sent_at` is stamped in the same transaction as the
    outbox row, and the outbox allows one reminder per request. Returns how many were queued.
    """
    now = now or timezone.now()
    zone = clinic_zone()
    day_after_tomorrow = dt.datetime.combine(now.astimezone(zone).date() + dt.timedelta(days=2), dt.time(), tzinfo=zone)
    due = (
        Appointment.objects.filter(
            status=Appointment.Status.CONFIRMED,
            reminder_sent_at__isnull=True,
            starts_at__gt=now,
            starts_at__lt=day_after_tomorrow,
        )
        .exclude(request__email="")
        .values_list("pk", flat=True)
    )
    reminded = 0
    for pk in list(due):
        with transaction.atomic():
            appointment = (
                Appointment.objects.select_for_update(skip_locked=True)
                .select_related("request")
                .filter(pk=pk, reminder_sent_at__isnull=True, status=Appointment.Status.CONFIRMED)
                .first()
            )
            if appointment is None:
                continue  # another run has it
            appointment.reminder_sent_at = now
            appointment.save(update_fields=["reminder_sent_at"])
            _patient_notification(appointment, Notification.Kind.BOOKING_REMINDER)
            reminded += 1
    if reminded:
        logger.info("queued %s appointment reminder(s)", reminded)
    return reminded


# Signed links ----------------------------------------------------------------------------------------------


def appointment_cancel_token(appointment: Appointment) -> str:
    return signing.TimestampSigner(salt=CANCEL_LINK_SALT).sign_object({"a": appointment.pk})


def appointment_from_cancel_token(token: str) -> Appointment | None:
    """The appointment a cancel link names, or None when the link is tampered with, expired or unknown."""
    try:
        payload = signing.TimestampSigner(salt=CANCEL_LINK_SALT).unsign_object(token, max_age=CANCEL_LINK_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("a"), int):
        return None
    return Appointment.objects.select_related("service", "practitioner", "request").filter(pk=payload["a"]).first()


def appointment_cancel_url(appointment: Appointment) -> str:
    return settings.SITE_URL + reverse(
        "callbacks:booking_cancel", kwargs={"token": appointment_cancel_token(appointment)}
    )


# Calendar file and e-mail --------------------------------------------------------------------------------


def _ics_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545, 3.3.11)."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def _ics_fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545, 3.1), never inside a UTF-8 character."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _ics_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def appointment_ics(appointment: Appointment, *, now: dt.datetime | None = None) -> str:
    """An iCalendar file for the appointment: service, time, clinic address and phone, reference. No health
    details, and not the patient's name either."""
    now = now or timezone.now()
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    reference = appointment.request.reference
    confirmed = appointment.status == Appointment.Status.CONFIRMED
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//{_ics_text(settings.CLINIC_NAME)}//Appointments//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:appointment-{appointment.pk}@{domain}",
        f"DTSTAMP:{_ics_time(now)}",
        f"DTSTART:{_ics_time(appointment.starts_at)}",
        f"DTEND:{_ics_time(appointment.ends_at)}",
        f"SUMMARY:{_ics_text(f'{appointment.service.name} at {settings.CLINIC_NAME}')}",
        f"LOCATION:{_ics_text(settings.CLINIC_ADDRESS)}",
        "DESCRIPTION:"
        + _ics_text(
            f"Reference {reference}. To change or cancel, call {settings.CLINIC_PHONE} and give your reference."
        ),
        f"SEQUENCE:{1 if confirmed else 0}",
        f"STATUS:{'CONFIRMED' if confirmed else 'TENTATIVE'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_ics_fold(line) + "\r\n" for line in lines)


# The patient's first e-mail carries the time as tentative (staff have not confirmed it yet); the confirmation
# and reminder carry it confirmed, with the same UID and a higher SEQUENCE, so calendars update the one event.
ICS_KINDS = (
    Notification.Kind.PATIENT_CONFIRMATION,
    Notification.Kind.BOOKING_CONFIRMED,
    Notification.Kind.BOOKING_REMINDER,
)


def booking_email_context(notification: Notification) -> dict:
    """What the e-mail templates of a booking need, and the calendar file to attach (for confirmations)."""
    appointment = (
        Appointment.objects.select_related("service", "practitioner").filter(request_id=notification.request_id).first()
    )
    if appointment is None:
        return {}
    context = {
        "appointment": appointment,
        "clinic_address": settings.CLINIC_ADDRESS,
        "cancel_url": appointment_cancel_url(appointment),
    }
    if notification.kind in ICS_KINDS:
        context["ics"] = appointment_ics(appointment)
    return context
