"""The shared cache (Redis in production) as an optimisation only: when Redis is down, pages still work.

Article pages and the public forms' rate limits use the cache. Redis being down must never turn a patient's
page or form into an error, so this backend answers a failed read as a miss and skips a failed write, and logs
the failure (once a minute at most, without keys: they can hold a phone number's hash).
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)
_LOG_EVERY_SECONDS = 60


class FailOpenRedisCache(RedisCache):
    _last_logged = 0.0

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
