"""Locust's side of bench/surge.py: patients walking the whole callback journey through nginx, at a rising rate.

Each simulated patient comes from an address of its own on loopback (127.0.0.2 onwards), as patients do: nginx
limits each address to 10 requests a second. A patient the site asks to come back (the busy page at the first page,
clinic/admission.py) is logged as turned away and tries again at their next period (the next new patient). Each
journey's final POST (the details) is timed and written, with its status, to the file named by SURGE_LOG. The shape
raises the number of patients every SURGE_STAGE_SECONDS and stops at the first failed request or when the last
stage's p95 of the final POST passes 1 s.
"""

import json
import os
import random
import re
import sys
import threading
import time
from pathlib import Path

from locust import HttpUser, LoadTestShape, task

# The project's own adapter (tests/support/net.py needs only requests, which locust brings).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.net import SourceAddressAdapter

# Seconds between the starts of one simulated patient's journeys (2: 0.5 journeys a second each). A long period
# with many patients comes close to patients arriving whatever the site is doing: each starts on time as long as
# their last journey took less than the period.
PERIOD = float(os.environ.get("SURGE_PERIOD_SECONDS", "2"))
STAGES = [int(n) for n in os.environ.get("SURGE_PATIENTS", "10,20,40,60,80,100,140,180,240").split(",")]
STAGE_SECONDS = int(os.environ.get("SURGE_STAGE_SECONDS", "30"))
# The run ends when the final POST's p95 passes this (0: only at the first error or after the last stage).
STOP_AT_P95_MS = int(os.environ.get("SURGE_STOP_AT_P95_MS", "1000"))
LOG = open(os.environ.get("SURGE_LOG", "surge-journeys.jsonl"), "a", buffering=1)  # noqa: SIM115
LOG_LOCK = threading.Lock()
BUSY = "We are very busy: please try again in a moment"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STEPS = json.loads(os.environ["SURGE_STEPS"])  # [{field: value}] per questionnaire step, then the details
_next_address = iter(range(2, 1_000_000))


class Patient(HttpUser):
    def wait_time(self):
        """Until one period after the last journey began (at once, without catching up, if it took longer)."""
        self.next_start = max(self.next_start + PERIOD, time.time())
        return self.next_start - time.time()

    def on_start(self):
        # Patients do not arrive in step: each starts at a random moment of its first period, then keeps its own
        # pace. Locust starts a stage's new users together, and its constant_throughput anchors each user's
        # periods to the moment it was created: they would walk their journeys in lockstep (10 at once every 2 s
        # instead of one every 0.2 s), which the site answers more slowly than the same rate spread out.
        time.sleep(random.uniform(0, PERIOD))  # cooperative: locust runs users in gevent, which patches sleep
        self.next_start = time.time()
        n = next(_next_address)
        address = f"127.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        self.client.mount("http://", SourceAddressAdapter(address))
        self.number = n
        self.journeys = 0

    def _headers(self, cookies):
        # Production cookies are Secure and the proxy says https: carry them by hand, as tests/support/stack.py does.
        return {"X-Forwarded-Proto": "https", "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}

    @task
    def journey(self):
        self.journeys += 1
        patient_name = f"Surge Patient {self.number}-{self.journeys}"
        cookies: dict[str, str] = {}
        path = "/request-a-callback/"
        for number, fields in enumerate(STEPS):
            label = "details POST" if number == len(STEPS) - 1 else "step POST"
            with self.client.get(
                path, headers=self._headers(cookies), allow_redirects=False, name="page GET", catch_response=True
            ) as page:
                if number == 0 and page.status_code == 503 and BUSY in page.text:
                    # Asked to come back (clinic/admission.py): not an error. The next journey of this simulated
                    # patient stands for the next new patient, who arrives at the same pace whatever happened.
                    page.success()
                    with LOG_LOCK:
                        LOG.write(json.dumps({"t": time.time(), "turned_away": True}) + "\n")
                    return
            cookies.update(page.cookies.get_dict())
            token = CSRF.search(page.text)
            if page.status_code != 200 or token is None:
                return
            data = {**fields, "csrfmiddlewaretoken": token.group(1)}
            if number == len(STEPS) - 1:
                data["phone"] = f"07400 {self.number % 1000000:06d}"
                data["name"] = patient_name
            headers = {**self._headers(cookies), "Referer": self.host.replace("http://", "https://") + path}
            started = time.perf_counter()
            with self.client.post(
                path, data=data, headers=headers, allow_redirects=False, name=label, catch_response=True
            ) as response:
                elapsed = time.perf_counter() - started
                if response.status_code != 302:
                    response.failure(f"{response.status_code}")
                    return
            cookies.update(response.cookies.get_dict())
            path = response.headers["Location"]
        with LOG_LOCK:
            LOG.write(json.dumps({"t": time.time(), "final_post_s": elapsed, "name": patient_name}) + "\n")


class RisingRate(LoadTestShape):
    def tick(self):
        run_time = self.get_run_time()
        stage = int(run_time // STAGE_SECONDS)
        stats = self.runner.stats
        if stats.total.num_failures > 0:
            return None
        final = stats.get("details POST", "POST")
        if (
            STOP_AT_P95_MS
            and stage > 0
            and final.num_requests > 20
            and final.get_current_response_time_percentile(0.95) > STOP_AT_P95_MS
        ):
            return None
        if stage >= len(STAGES):
            return None
        return STAGES[stage], STAGES[stage]
