"""The shared cache (Redis in production) as an optimisation only: when Redis is down, pages still work.

Article pages and the public forms' rate limits use the cache. Redis being down must never turn a patient's
page or form into an error, so this backend answers a failed read as a miss and skips a failed write, and logs
the failure (once a minute at most, without keys: they can hold a phone number's hash).
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)
_LOG_EVERY_SECONDS = 60


class PooledClientRedisCacheClient(RedisCacheClient):
    """Django's client builds a new redis.Redis around the connection pool for every cache operation, and building
    one fills its table of about 200 reply parsers: a millisecond of CPU each time, several times a page. A
    redis.Redis is safe to share between threads (each command takes a connection from the pool), so one per
    pool is kept and reused."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class FailOpenRedisCache(RedisCache):
    _last_logged = 0.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = PooledClientRedisCacheClient

    def _unavailable(self, operation: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - FailOpenRedisCache._last_logged > _LOG_EVERY_SECONDS:
            FailOpenRedisCache._last_logged = now
            logger.warning("cache unavailable (%s during %s); serving without it", type(exc).__name__, operation)

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNAVAILABLE as exc:
            self._unavailable("get", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except UNAVAILABLE as exc:
            self._unavailable("get_many", exc)
            return {}

    def set(self, key, value, timeout=None, version=None):
        try:
            super().set(key, value, timeout, version)
        except UNAVAILABLE as exc:
            self._unavailable("set", exc)

    def add(self, key, value, timeout=None, version=None):
        try:
            return super().add(key, value, timeout, version)
        except UNAVAILABLE as exc:
            self._unavailable("add", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except UNAVAILABLE as exc:
            self._unavailable("delete", exc)
            return False

    def incr(self, key, delta=1, version=None):
        """Raises ValueError for a missing key, as Django's API does; an unavailable cache counts nothing (0)."""
        try:
            return super().incr(key, delta, version)
        except UNAVAILABLE as exc:
            self._unavailable("incr", exc)
            return 0
