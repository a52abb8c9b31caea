"""Celery tasks: thin wrappers that take an id and call a service."""

from celery import shared_task
from django.conf import settings
from django.core.management import call_command

from callbacks.booking import attendance_days, desk, waitlist
from callbacks.booking import services as booking
from callbacks.notifications import delivery, outbox, transports
from callbacks.privacy import retention as privacy
from callbacks.requests import call_today, followup_schedule


@shared_task(
    name=outbox.NOTIFICATION_SEND_TASK,
    acks_late=True,
    # A worker killed mid-send puts the message back, and the locked row makes the second try safe.
    reject_on_worker_lost=True,
    autoretry_for=(transports.TransientSendError,),
    retry_backoff=delivery.RETRY_BACKOFF,
    retry_backoff_max=delivery.RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=settings.NOTIFICATION_MAX_ATTEMPTS - 1,
    soft_time_limit=60,
    time_limit=90,
)
def notification_send_task(notification_id: int) -> str:
    return delivery.notification_send(notification_id=notification_id)


@shared_task(name="callbacks.tasks.outbox_requeue_stale", acks_late=True, soft_time_limit=60, time_limit=90)
def outbox_requeue_stale(lane: str | None = None) -> int:
    return outbox.outbox_requeue_stale(lane=lane)


@shared_task(
    name="callbacks.tasks.callback_requests_escalate_overdue", acks_late=True, soft_time_limit=60, time_limit=90
)
def callback_requests_escalate_overdue() -> int:
    return outbox.callback_requests_escalate_overdue()


@shared_task(
    name="callbacks.tasks.callback_requests_purge_expired", acks_late=True, soft_time_limit=600, time_limit=660
)
def callback_requests_purge_expired() -> int:
    # The waitlist holds patients' contact details too: the same retention period applies to it.
    waitlist.waitlist_entries_purge_expired()
    return privacy.callback_requests_purge_expired()


@shared_task(name="callbacks.tasks.sessions_clear_expired", acks_late=True, soft_time_limit=300, time_limit=360)
def sessions_clear_expired() -> None:
    # Unfinished questionnaires live in the session: expired sessions must not keep those answers.
    call_command("clearsessions")


@shared_task(name="callbacks.tasks.appointments_remind", acks_late=True, soft_time_limit=60, time_limit=90)
def appointments_remind() -> int:
    return booking.appointments_remind()


@shared_task(name="callbacks.tasks.follow_ups_send_due", acks_late=True, soft_time_limit=120, time_limit=180)
def follow_ups_send_due() -> int:
    return followup_schedule.follow_ups_send_due()


@shared_task(
    name="callbacks.tasks.appointment_cancellations_release", acks_late=True, soft_time_limit=60, time_limit=90
)
def appointment_cancellations_release() -> int:
    return desk.appointment_cancellations_release()


@shared_task(
    name="callbacks.tasks.callback_requests_tell_call_today", acks_late=True, soft_time_limit=60, time_limit=90
)
def callback_requests_tell_call_today() -> int:
    return call_today.callback_requests_tell_call_today()


@shared_task(name="callbacks.tasks.attendance_days_count", acks_late=True, soft_time_limit=120, time_limit=180)
def attendance_days_count() -> int:
    # Idempotent: a day changed while it is counted is left stale and counted again by the next run.
    return attendance_days.attendance_days_count()


@shared_task(name="callbacks.tasks.attendance_days_recount", acks_late=True, soft_time_limit=600, time_limit=660)
def attendance_days_recount() -> int:
    # The whole window, current or not (about 3 s at a million requests): what no mark recorded is put right.
    return attendance_days.attendance_days_count(limit=attendance_days.attendance_days_window(), recount=True)
