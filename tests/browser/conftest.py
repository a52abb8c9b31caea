"""Fixtures of the browser tests: the site on pytest-django's live server, headless Chromium, the npm tools."""

import os
import shutil

import pytest

from tests.browser.tools import AXE_SCRIPT, CHROMIUM, CHROMIUM_ARGS, VIEWPORTS, VNU_JAR
from tests.conftest import service_missing

# Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        service_missing(f"{CHROMIUM} is missing (Debian package chromium)")
    if not AXE_SCRIPT.exists():
        service_missing("axe-core is missing: npm ci --prefix tests/browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


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
