"""The beat lock (clinic/beat.py): one beat holds it, another waits; a lost lock is taken back only when free.
Two real beats against one Redis are in tests/test_scale_out.py."""

from celery.beat import PersistentScheduler

from clinic.beat import LOCK_KEY, FileBeatLock, RedisBeatLock, SingleBeatScheduler
from clinic.celery import app


def test_celery_runs_the_single_beat_scheduler():
    assert app.conf.beat_scheduler == "clinic.beat:SingleBeatScheduler"
    assert issubclass(SingleBeatScheduler, PersistentScheduler)


def test_the_file_lock_is_held_by_one_process_at_a_time(tmp_path):
    first, second = FileBeatLock(tmp_path / "beat.lock"), FileBeatLock(tmp_path / "beat.lock")
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def test_the_redis_lock_waits_renews_and_stops_a_beat_whose_lock_was_taken(own_redis):
    first, second = RedisBeatLock(own_redis.url, 30), RedisBeatLock(own_redis.url, 30)
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.renew()
    assert 25 < first.lock.redis.ttl(LOCK_KEY) <= 30

    # The lock expired (Redis restarted empty): the holder takes it back at its next tick, as nobody else has it.
    first.lock.redis.delete(LOCK_KEY)
    assert first.renew()
    assert not second.try_acquire()

    # It expired and the other beat took it first: the old holder learns it must stop.
    first.lock.redis.delete(LOCK_KEY)
    assert second.try_acquire()
    assert not first.renew()
    second.release()
    assert first.lock.redis.get(LOCK_KEY) is None


def test_a_holder_keeps_running_while_redis_is_unreachable(own_redis):
    lock = RedisBeatLock(own_redis.url, 30)
    assert lock.try_acquire()
    own_redis.stop()
    assert lock.renew()
    lock.release()  # nothing to release on a stopped Redis: no error
