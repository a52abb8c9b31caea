"""Celery beat that runs once however many are started: the schedule is run only by the beat holding the beat lock.

A second beat (`docker compose up --scale beat=2`, a beat left running by hand, a new container started before
the old one stopped) waits for the lock and takes over when the holder stops. With a Redis broker the lock is a
Redis key with a time to live (CLINIC_BEAT_LOCK_SECONDS) that the holder renews on every tick, at least three times
per time to live; a holder that dies without releasing it (killed, its machine gone) is replaced within that time.
With the local filesystem broker (`make run`), where every process is on one machine, it is an flock on a file
beside the schedule file.

While Redis is unreachable the holder keeps its schedule running (its sends fail until Redis is back, and are
made again at their next run) and nobody else can take the lock; if, when Redis is back, the lock expired and
another beat took it, this one stops (its supervisor restarts it, and it waits).

The lock is taken before the schedule file is opened, so two beats sharing the file (one volume) never open it
together. Modelled on the lock of celery-redbeat (which also replaces the schedule file by Redis; we keep Celery's
file and add the lock only).
"""

import contextlib
import fcntl
import logging
import os
import time
import uuid
from pathlib import Path

import redis
from celery.beat import PersistentScheduler
from django.conf import settings
from redis.exceptions import LockError, LockNotOwnedError, RedisError

logger = logging.getLogger("celery.beat")

LOCK_KEY = "clinic:beat:lock"
WAIT_POLL_SECONDS = 1.0


class RedisBeatLock:
    def __init__(self, url: str, ttl_seconds: int):
        self.ttl_seconds = ttl_seconds
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        # thread_local=False: the holder's token is the process's, whichever thread renews it.
        self.lock = client.lock(LOCK_KEY, timeout=ttl_seconds, thread_local=False)
        self.held = False

    def try_acquire(self) -> bool:
        self.held = bool(self.lock.acquire(blocking=False, token=f"{os.getpid()}-{uuid.uuid4().hex}"))
        return self.held

    def renew(self) -> bool:
        """Keep the lock for another time to live; False when another beat holds it now."""
        try:
            self.lock.reacquire()
            return True
        except LockNotOwnedError:
            # It expired (Redis restarted empty, or this process was paused past the time to live): take it
            # again when nobody else did.
            try:
                return self.try_acquire()
            except RedisError:
                return True
        except (RedisError, LockError):
            # Redis is unreachable: nobody can take the lock meanwhile, and sends fail until it is back.
            return True

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        # Expired or unreachable: it ends with its time to live.
        with contextlib.suppress(RedisError, LockError):
            self.lock.release()


class FileBeatLock:
    def __init__(self, path: Path):
        self.path = path
        self.file = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = open(self.path, "a")  # noqa: SIM115 - kept open while the lock is held, closed in release()
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.close()
            return False
        self.file = file
        return True

    def renew(self) -> bool:
        return True

    def release(self) -> None:
        if self.file is not None:
            self.file.close()  # closing drops the flock
            self.file = None


class SingleBeatScheduler(PersistentScheduler):
    """Celery's file-backed scheduler, run only while this process holds the beat lock."""

    _waiting = False

    def setup_schedule(self):
        if SingleBeatScheduler._waiting:
            # Beat's SIGTERM handler builds a scheduler to save it; while this process is still waiting for the
            # lock there is nothing to save: stop.
            raise SystemExit(0)
        self.beat_lock = self._lock_for_broker()
        self._wait_for_lock()
        super().setup_schedule()
        # Connect to the broker now, while it answers (the lock was just taken there): made lazily at the first
        # due task instead, a broker down by then would stop beat, where a connected beat only logs each failed
        # send and carries on (docs/RELIABILITY.md, the long outage).
        with contextlib.suppress(Exception):
            self.producer  # noqa: B018 - Celery's cached producer, made here

    def tick(self, *args, **kwargs):
        if not self.beat_lock.renew():
            logger.error("beat: another beat holds the beat lock now; this one stops")
            raise SystemExit(1)
        interval = super().tick(*args, **kwargs)
        return min(interval, self.renew_every)

    def close(self):
        try:
            super().close()
        finally:
            lock = getattr(self, "beat_lock", None)
            if lock is not None:
                lock.release()

    @property
    def renew_every(self) -> float:
        return max(1.0, settings.CLINIC_BEAT_LOCK_SECONDS / 3)

    def _lock_for_broker(self):
        url = self.app.conf.broker_url or ""
        if url.startswith(("redis://", "rediss://")):
            return RedisBeatLock(url, settings.CLINIC_BEAT_LOCK_SECONDS)
        return FileBeatLock(Path(f"{self.schedule_filename}.lock"))

    def _wait_for_lock(self) -> None:
        SingleBeatScheduler._waiting = True
        told = None
        try:
            while True:
                try:
                    if self.beat_lock.try_acquire():
                        break
                    news = "beat: another beat is running the schedule; this one waits to take over"
                except RedisError as error:
                    news = f"beat: Redis is unreachable for the beat lock ({type(error).__name__}); waiting"
                if news != told:
                    logger.warning(news)
                    told = news
                time.sleep(WAIT_POLL_SECONDS)
        finally:
            SingleBeatScheduler._waiting = False
        logger.info("beat: holding the beat lock; running the schedule")
