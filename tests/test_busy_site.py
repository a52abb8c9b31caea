"""A site that has fallen behind (clinic/admission.py), end to end: Debian's nginx stamps each request, gunicorn's
workers are held for a moment so that requests wait in its queue as in a surge, and then a new patient gets the
busy page while a patient already filling in the form gets their next page."""

import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.questionnaire import NO_RED_FLAGS, SCREENING_STEPS, step_data
from tests.support.stack import PatientBrowser, stack_behind_proxy_with_mail

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

BUSY_REDIS_DB = 14
TOKEN = "busy-scrape-token"
START = "/request-a-callback/"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    with stack_behind_proxy_with_mail(
        tmp_path_factory.mktemp("busy"),
        redis_db=BUSY_REDIS_DB,
        extra_env={"CLINIC_BUSY_WAIT_MS": "500", "METRICS_TOKEN": TOKEN},
    ) as running:
        yield running


def turned_away(stack) -> float:
    metrics = requests.get(
        stack.base_url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ).text  # gunicorn itself: Prometheus scrapes it on the internal network, never through the proxy
    return float(re.search(r"^clinic_new_journeys_turned_away_total (\S+)$", metrics, re.MULTILINE).group(1))


def test_a_client_cannot_choose_its_own_stamp(proxied):
    """The proxy replaces whatever X-Request-Start a client sends: one of 5 s ago would get it the busy page."""
    forged = f"t={time.time() - 5:.3f}"
    response = requests.get(
        proxied.proxy_url + START, headers={"X-Forwarded-Proto": "https", "X-Request-Start": forged}, timeout=10
    )
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in response.text


def test_behind_by_more_than_the_limit_new_patients_come_back_later_and_those_under_way_go_on(proxied):
    under_way = PatientBrowser(proxied.proxy_url)
    sent = under_way.post_form(START, step_data(NO_RED_FLAGS[SCREENING_STEPS[0]]))
    assert sent.status_code == 302
    next_page = sent.headers["Location"]
    newcomer = PatientBrowser(proxied.proxy_url)
    before = turned_away(proxied)

    # Every gunicorn process held for 1.5 s: the requests that come meanwhile wait in its listen queue.
    web = proxied.processes["web"].pid
    with ThreadPoolExecutor(2) as pool:
        os.killpg(web, signal.SIGSTOP)
        try:
            new = pool.submit(newcomer.get, START)
            going_on = pool.submit(under_way.get, next_page)
            time.sleep(1.5)
        finally:  # before the pool waits for its requests, whatever happened
            os.killpg(web, signal.SIGCONT)
        new, going_on = new.result(), going_on.result()

    assert going_on.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in going_on.text
    assert new.status_code == 503
    assert "We are very busy: please try again in a moment" in new.text
    assert new.headers["Retry-After"] == "30"
    assert "Set-Cookie" not in new.headers
    # nginx passes the site's own 503 on: not its "cannot answer" page, which is for a gunicorn that is down.
    assert "very busy or restarting" not in new.text
    assert turned_away(proxied) == before + 1
    assert "busy: a new journey was asked to come back" in proxied.log("web")

    # Once the queue has gone down, the same patient's "Try again" gets the form, and the other patient goes on.
    assert newcomer.get(START).status_code == 200
    assert under_way.post_form(next_page, step_data(NO_RED_FLAGS[SCREENING_STEPS[1]])).status_code == 302
