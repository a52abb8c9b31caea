"""Shared fixtures. Tests that need a service fail in CI (CI=true) when it is missing, and skip elsewhere."""

import os
import shutil
import socket

import pytest
from django.conf import settings

from tests.support.redis_server import RedisServer

IN_CI = os.environ.get("CI", "").lower() == "true"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432


def service_missing(message: str) -> None:
    if IN_CI:
        pytest.fail(f"{message} (required in CI)", pytrace=False)
    pytest.skip(message)


def port_open(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


def pytest_sessionstart(session):
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("postgresql") and not port_open(
        database["HOST"] or "localhost", int(database["PORT"] or 5432)
    ):
        message = f"PostgreSQL is not reachable at {database['HOST']}:{database['PORT']}"
        if IN_CI:
            pytest.exit(f"{message} (required in CI)", returncode=1)
        pytest.exit(f"{message}: the PostgreSQL pass is skipped on this machine", returncode=0)


@pytest.fixture(autouse=True)
def _required_services(request):
    if request.node.get_closest_marker("postgres") and settings.DATABASES["default"]["ENGINE"] != (
        "django.db.backends.postgresql"
    ):
        service_missing("this test runs in the PostgreSQL pass (DATABASE_URL=postgres://...)")
    if request.node.get_closest_marker("redis") and not port_open(REDIS_HOST, REDIS_PORT):
        service_missing(f"Redis is not reachable at {REDIS_HOST}:{REDIS_PORT}")


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    """Unit tests send mail to memory and never reach a broker: queueing is asserted, not performed."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Texts to memory too (callbacks.notifications.transports.sms.memory_outbox), emptied for every test.
    from callbacks.notifications.transports.sms import memory_outbox

    settings.SMS_BACKEND = "memory"
    settings.SMS_FILE_PATH = tmp_path / "texts"
    memory_outbox.clear()
    # Rate-limit counters and cached pages start empty in every test.
    from django.core.cache import cache

    from clinic.public_pages import public_pages_forget

    cache.clear()
    public_pages_forget()
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Many tests book "the day after tomorrow": no bank holiday may make them depend on the date they run.
    # The tests of closures (tests/callbacks/booking/test_closures.py) switch the clinic's country back on.
    settings.CLINIC_HOLIDAYS_COUNTRY = ""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


# One Playwright driver for the whole run: its sync API keeps an event loop in this thread, so a second one
# started by another test would fail. Every browser test, in any folder, uses this browser.
@pytest.fixture(scope="session")
def chromium():
    from tests.browser.tools import AXE_SCRIPT, CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        service_missing(f"{CHROMIUM} is missing (Debian package chromium)")
    if not AXE_SCRIPT.exists():
        service_missing("axe-core is missing: npm ci --prefix tests/browser")
    from playwright.sync_api import sync_playwright

    # Playwright's loop runs in this thread; the tests' own ORM calls are still synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of the test's own on a free port, which a fault test may stop without touching the machine's."""
    if shutil.which("redis-server") is None and not os.path.exists("/usr/bin/redis-server"):
        service_missing("redis-server is not installed (Debian package redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
