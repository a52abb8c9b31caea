"""Is beat running, and is each queue's worker? The one home of the heartbeat.

Every HEARTBEAT_EVERY_SECONDS beat sends the heartbeat task (`clinic.tasks.heartbeat`) into each Celery queue,
carrying the time beat sent it (`clinic.celery` adds it as the message leaves). The worker that takes it from
a queue stamps two rows of the Heartbeat table: its queue's ("worker:urgent") with the time it ran the task, and
beat's ("beat") with the time beat sent it. So a queue's row proves a worker consumes that queue, and beat's row
proves beat sends. The rows are in the database, so every web process reads what any worker wrote.

A source is "ok" when its row is younger than HEARTBEAT_STALE_AFTER_SECONDS, "stale" when older (the process is
stopped or stuck, or, for a queue, has a backlog that long in front of the heartbeat), "never" with no row yet.
While every queue is stale, nobody stamps beat's row: beat then reads stale too, whether it runs or not.
Nothing here carries any patient's data: sources are beat and queue names, values are times.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from clinic.models import Heartbeat

BEAT = "beat"
HEARTBEAT_TASK = "clinic.tasks.heartbeat"


def worker_source(queue: str) -> str:
    return f"worker:{queue}"


def heartbeat_queues() -> tuple[str, ...]:
    """The Celery queues that beat sends a heartbeat into, one per lane."""
    return tuple(queue.name for queue in settings.CELERY_TASK_QUEUES)


@dataclass(frozen=True)
class Liveness:
    source: str
    state: str  # ok, stale or never
    age_seconds: float | None  # None: never stamped


def heartbeat_stamp(*, queue: str, sent_at: dt.datetime, now: dt.datetime | None = None) -> None:
    """Record that a worker of ``queue`` ran a heartbeat now, and that beat sent it at ``sent_at``. A stamp only
    moves forward, so a heartbeat run late (after a backlog) never makes a newer one look older."""
    _stamp(worker_source(queue), now or timezone.now())
    _stamp(BEAT, sent_at)


def _stamp(source: str, at: dt.datetime) -> None:
    if Heartbeat.objects.filter(source=source, at__lt=at).update(at=at):
        return
    Heartbeat.objects.get_or_create(source=source, defaults={"at": at})


def liveness(*, now: dt.datetime | None = None) -> list[Liveness]:
    """Beat's and each queue's state and age, in that order; one query."""
    now = now or timezone.now()
    stale_after = settings.HEARTBEAT_STALE_AFTER_SECONDS
    stamps = dict(Heartbeat.objects.values_list("source", "at"))
    report = []
    for source in (BEAT, *(worker_source(queue) for queue in heartbeat_queues())):
        at = stamps.get(source)
        if at is None:
            report.append(Liveness(source=source, state="never", age_seconds=None))
            continue
        age = max((now - at).total_seconds(), 0.0)
        report.append(Liveness(source=source, state="ok" if age <= stale_after else "stale", age_seconds=age))
    return report
