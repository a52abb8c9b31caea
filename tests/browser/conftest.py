"""Fixtures of the browser tests: the site on pytest-django's live server, headless Chromium, the npm tools."""

import shutil

import pytest

from tests.browser.tools import VIEWPORTS, VNU_JAR
from tests.conftest import service_missing


@pytest.fixture
def queued_notifications(monkeypatch):
    """The live server runs in this process: record what it queues instead of publishing to a broker."""
    from callbacks import tasks

    queued = []
    monkeypatch.setattr(tasks.notification_send_task, "apply_async", lambda args, **_: queued.append(args[0]))
    return queued


@pytest.fixture
def open_page(chromium, live_server, queued_notifications):
    """open_page(width, javascript=True) -> a fresh page (own cookies) on the live server at that width."""
    contexts = []

    def open_at(width, *, javascript=True):
        context = chromium.new_context(
            viewport=VIEWPORTS[width],
            base_url=live_server.url,
            java_script_enabled=javascript,
            locale="en-GB",
            timezone_id="Europe/London",
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_at
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def vnu():
    if not VNU_JAR.exists():
        service_missing("the Nu HTML Checker is missing: npm ci --prefix tests/browser")
    if shutil.which("java") is None:
        service_missing("java is missing (Debian package default-jre-headless), needed by the Nu HTML Checker")
    return VNU_JAR
