"""The site's own Celery task: the heartbeat (`clinic.heartbeat`)."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from clinic import heartbeat as heartbeats


@shared_task(name=heartbeats.HEARTBEAT_TASK, ignore_result=True, soft_time_limit=10, time_limit=20)
def heartbeat(queue: str, sent_at: str | None = None) -> None:
    # sent_at is added by clinic.celery as beat publishes the task; a heartbeat queued by hand has none.
    sent = dt.datetime.fromisoformat(sent_at) if sent_at else timezone.now()
    heartbeats.heartbeat_stamp(queue=queue, sent_at=sent)
