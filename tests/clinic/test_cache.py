"""The Redis cache is an optimisation: with Redis stopped, reads miss and writes are skipped, nothing raises."""

import pytest

from clinic.cache import FailOpenRedisCache
from tests.support.net import free_port


def cache_at(url):
    return FailOpenRedisCache(url, {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}})


def test_a_stopped_redis_reads_as_a_miss_and_writes_are_skipped(caplog):
    cache = cache_at(f"redis://127.0.0.1:{free_port()}/0")
    assert cache.get("key", "fallback") == "fallback"
    cache.set("key", "value")
    assert cache.add("key", "value") is False
    assert cache.incr("counter") == 0
    assert cache.get_many(["a", "b"]) == {}
    assert "cache unavailable" in caplog.text


@pytest.mark.redis
def test_a_running_redis_is_used():
    cache = cache_at("redis://127.0.0.1:6379/13")
    cache.delete("clinic-test-key")
    assert cache.add("clinic-test-key", 1, timeout=30) is True
    assert cache.incr("clinic-test-key") == 2
    assert cache.get("clinic-test-key") == 2
    cache.delete("clinic-test-key")


def test_one_redis_client_serves_every_operation():
    # Building a redis.Redis per operation (Django's default) costs a millisecond of CPU each time.
    cache = cache_at(f"redis://127.0.0.1:{free_port()}/0")
    assert cache._cache.get_client("a") is cache._cache.get_client("b", write=True)
