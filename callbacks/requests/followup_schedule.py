"""When outcome follow-ups are written and when they go out.

A patient's first attended visit (`callbacks.booking.attendance`) gets their request one `FollowUp` row per
``CLINIC_FOLLOW_UP_WEEKS`` entry, timed from that visit; the beat job hands each due row to the outbox once, and
staff can make the next one due at once (`follow_up_send_now`). Writing and sending are idempotent: the unique
(request, weeks) constraint and the row's status make a second run change nothing.
"""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from callbacks.models import CallbackRequest, CourseOfCare, FollowUp, Notification, PrivacyLogEntry, RequestEvent
from callbacks.notifications.outbox import notifications_enqueue_on_commit
from callbacks.notifications.routing import follow_up_routes
from callbacks.rules.followups import follow_up_due_at
from clinic.hours import clinic_zone

logger = logging.getLogger(__name__)


def follow_up_schedule(*, request: CallbackRequest, started_at: dt.datetime | None = None) -> int:
    """Write the follow-ups a patient is owed, counted from ``started_at`` (default now). Returns how many new.

    Guarantees: at most one row per request and week, however often it is called (a request booked, moved back
    and booked again keeps its first schedule); nothing for a patient who has stopped the follow-ups; nothing for
    a course of care's later sessions (its first session's request has them).
    """
    if request.follow_ups_stopped_at is not None or not settings.CLINIC_FOLLOW_UP_WEEKS:
        return 0
    if CourseOfCare.objects.filter(appointments__request=request).exclude(first_request=request).exists():
        # A later session of a course of care is the same patient's care: the first session's request carries
        # the course's follow-ups, so the patient is not asked two, three or ten times.
        return 0
    started_at = started_at or timezone.now()
    existing = set(FollowUp.objects.filter(request=request).values_list("weeks", flat=True))
    rows = [
        FollowUp(request=request, weeks=weeks, due_at=follow_up_due_at(started_at=started_at, weeks=weeks))
        for weeks in settings.CLINIC_FOLLOW_UP_WEEKS
        if weeks not in existing
    ]
    # ignore_conflicts: two transitions committing at once still leave one row per week.
    FollowUp.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        logger.info("callback request %s: %d follow-up(s) scheduled", request.reference, len(rows))
    return len(rows)


def follow_ups_time_from(*, request: CallbackRequest, started_at: dt.datetime | None) -> int:
    """Time the request's follow-ups from ``started_at`` (its first attended visit), or withdraw them (None: no
    attended visit any more, a mark corrected). Returns how many rows were written, moved or withdrawn.

    Only follow-ups still waiting (scheduled, not sent) change: a sent or answered one stays as the patient saw it.
    The missing weeks are written as `follow_up_schedule` does.
    """
    waiting = FollowUp.objects.filter(request=request, status=FollowUp.Status.SCHEDULED)
    if started_at is None:
        withdrawn, _ = waiting.delete()
        return withdrawn
    moved = 0
    for follow_up in waiting:
        due_at = follow_up_due_at(started_at=started_at, weeks=follow_up.weeks)
        if follow_up.due_at != due_at:
            follow_up.due_at = due_at
            follow_up.save(update_fields=["due_at"])
            moved += 1
    return moved + follow_up_schedule(request=request, started_at=started_at)


def follow_ups_send_due(*, now: dt.datetime | None = None, limit: int = 500, request_id: int | None = None) -> int:
    """Hand every due follow-up to the outbox as one e-mail and, when the patient chose texts, one text; return
    how many follow-ups were written.

    Each due row is claimed (locked, skipping rows another run holds) and marked sent in the same transaction as
    its outbox row, so two runs at once never write two e-mails, and the outbox's delivery, retries and re-queue
    take it from there. A patient with neither an e-mail address nor texts is skipped for good. Logs counts only. With
    ``request_id``, only that request's due follow-ups.
    """
    now = now or timezone.now()
    written = skipped = 0
    with transaction.atomic():
        due_rows = FollowUp.objects.due(now)
        if request_id is not None:
            due_rows = due_rows.filter(request_id=request_id)
        due = list(
            due_rows.select_related("request")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("due_at")[:limit]
        )
        notifications = []
        for follow_up in due:
            routes = follow_up_routes(follow_up.request)
            if not routes:
                follow_up.status = FollowUp.Status.SKIPPED
                follow_up.save(update_fields=["status"])
                skipped += 1
                continue
            notifications.extend(
                Notification.objects.create(
                    request=follow_up.request,
                    follow_up=follow_up,
                    kind=route.kind,
                    channel=route.channel,
                    recipient=route.recipient,
                )
                for route in routes
            )
            follow_up.status, follow_up.sent_at = FollowUp.Status.SENT, now
            follow_up.save(update_fields=["status", "sent_at"])
            written += 1
        notifications_enqueue_on_commit(notifications)
    if written or skipped:
        logger.info("follow-ups: %d written to the outbox, %d skipped (no e-mail address)", written, skipped)
    return written


class FollowUpNotWaiting(ValidationError):
    """No follow-up of the request can be sent now; the message says why, in the desk's words."""


@transaction.atomic
def follow_up_send_now(*, request: CallbackRequest, actor: AbstractBaseUser) -> FollowUp:
    """Make the request's next waiting follow-up due at once and hand it to the outbox now (the patient is asked
    about their progress without waiting for its week), at a member of staff's request.

    Guarantees: one follow-up, the earliest scheduled, is sent, once (its row's status, as for the beat job); the
    later ones keep their times; the request's history and the privacy log both say who sent it and when (a
    questionnaire about the patient's health sent on staff's word). Raises `FollowUpNotWaiting` (nothing changed)
    when the patient stopped the follow-ups, has none waiting (not yet seen, or all sent) or can be reached
    neither by e-mail nor by text.
    """
    locked = CallbackRequest.objects.select_for_update().get(pk=request.pk)
    if locked.follow_ups_stopped_at is not None:
        raise FollowUpNotWaiting("The patient has stopped the follow-up e-mails: none can be sent.", code="stopped")
    if not follow_up_routes(locked):
        raise FollowUpNotWaiting(
            "The patient gave no e-mail address and takes no texts, so a follow-up cannot be sent. Ask them by phone "
            "instead.",
            code="no_email",
        )
    follow_up = (
        FollowUp.objects.select_for_update()
        .filter(request=locked, status=FollowUp.Status.SCHEDULED)
        .order_by("weeks")
        .first()
    )
    if follow_up is None:
        if FollowUp.objects.filter(request=locked).exists():
            raise FollowUpNotWaiting("Every follow-up of this patient has been sent already.", code="all_sent")
        raise FollowUpNotWaiting(
            "No follow-up is waiting: they are set up when the patient's first visit is marked attended.",
            code="none_scheduled",
        )
    now = timezone.now()
    before = follow_up.due_at
    follow_up.due_at = now
    follow_up.save(update_fields=["due_at"])
    follow_ups_send_due(now=now, request_id=locked.pk)
    RequestEvent.objects.create(
        request=locked,
        actor=actor,
        at=now,
        action=RequestEvent.Action.FOLLOW_UP,
        field="follow_up",
        before=f"The {follow_up.weeks}-week follow-up was due {timezone.localtime(before, clinic_zone()):%d %b %Y}.",
        after=f"The {follow_up.weeks}-week follow-up was sent now, at staff's request.",
    )
    # A questionnaire about the patient's health sent on staff's word: the privacy officer sees who asked.
    PrivacyLogEntry.objects.create(
        action=PrivacyLogEntry.Action.FOLLOW_UP_SENT, reference=locked.reference, actor=actor
    )
    follow_up.refresh_from_db()
    logger.info(
        "callback request %s: %d-week follow-up sent now by user %s", locked.reference, follow_up.weeks, actor.pk
    )
    return follow_up
