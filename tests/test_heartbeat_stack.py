"""The heartbeat and /metrics with the real processes: gunicorn, the compose file's workers and beat on a Redis of
the test's own, the local PostgreSQL. A queue reads "ok" only once a worker consuming it runs, and beat reads stale
once it stops, while /healthz keeps answering 200."""

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.support.net import wait_until
from tests.support.redis_server import RedisServer
from tests.support.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

TOKEN = "e2e-scrape-token"


@pytest.fixture
def stack(tmp_path):
    redis_server = RedisServer(tmp_path)
    redis_server.start()
    running = Stack(
        tmp_path,
        redis_url=redis_server.url,
        smtp_url="smtp://127.0.0.1:9",  # nothing is sent here
        extra_env={"HEARTBEAT_EVERY_SECONDS": "1", "HEARTBEAT_STALE_AFTER_SECONDS": "4", "METRICS_TOKEN": TOKEN},
    )
    running.prepare()
    try:
        running.start("web")
        running.wait_healthy()
        yield running
    finally:
        running.stop()
        redis_server.stop()


def health(stack) -> dict:
    response = requests.get(f"{stack.base_url}/healthz", timeout=5)
    assert response.status_code == 200
    return response.json()


def states(stack) -> tuple[str, str, str]:
    body = health(stack)
    return body["beat"]["state"], body["workers"]["urgent"]["state"], body["workers"]["routine"]["state"]


def test_heartbeats_prove_each_queue_and_beat_alive(stack):
    assert states(stack) == ("never", "never", "never")

    stack.start("worker-urgent")
    stack.start("beat")
    wait_until(
        lambda: states(stack)[:2] == ("ok", "ok"),
        timeout=60,
        what=f"beat and the urgent worker's heartbeat\n{stack.log('beat')}\n{stack.log('worker-urgent')}",
    )
    # Nobody consumes the routine queue yet: its heartbeats wait there.
    assert states(stack)[2] == "never"

    stack.start("worker")
    wait_until(lambda: states(stack) == ("ok", "ok", "ok"), timeout=60, what=f"routine\n{stack.log('worker')}")

    stack.kill("beat")
    wait_until(lambda: states(stack)[0] == "stale", timeout=30, what="beat to read stale once stopped")
    assert health(stack)["status"] == "ok"

    response = requests.get(f"{stack.base_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert response.status_code == 200
    beat_age = next(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "clinic_beat_heartbeat_age_seconds"
    )
    assert beat_age > 4
    assert requests.get(f"{stack.base_url}/metrics", timeout=5).status_code == 404
    # The public proxy never passes it on, even with the token.
    stack.start_proxy()
    assert (
        requests.get(f"{stack.proxy_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).status_code
        == 404
    )
    assert requests.get(f"{stack.proxy_url}/healthz", timeout=5).status_code == 200
    assert "Traceback" not in stack.log("web") + stack.log("worker") + stack.log("worker-urgent")
