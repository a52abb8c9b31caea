"""The priority lanes under a routine backlog: how long an emergency's staff e-mail takes to reach the mail server
while 2,000 routine notifications are queued on a mail server that takes 200 ms a message.

    .venv/bin/python bench/lanes.py                 # about 1 minute on 2 cores; --backlog, --delay, --runs
    .venv/bin/python bench/lanes.py --single-lane   # the same with one worker and one queue, as before the lanes

What runs: docker-compose.yml's `release`, `web`, `worker` (the routine lane) and `worker-urgent` (the urgent lane)
commands as local processes (tests/support/stack.py), with production settings, against a fresh PostgreSQL
database, a Redis server of the run's own (tests/support/redis_server.py) and an SMTP server on loopback
(tests/support/smtp.py) that waits --delay seconds before accepting each message. The backlog is routine
requests' staff e-mails, written and published by the outbox's own functions; once the workers are busy on it,
a patient sends an emergency request over HTTP (tests/support/lanes.py). Figures go to docs/RELIABILITY.md.
Target (issue 28): the emergency's staff e-mail within 10 s of the request.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The shared helpers read the site's forms: this process needs Django's settings (the stack has its own).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
django.setup()

from tests.support.lanes import emergency_behind_backlog  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402
from tests.support.smtp import SmtpServer  # noqa: E402
from tests.support.stack import ROOT, Stack  # noqa: E402

TARGET_SECONDS = 10.0


def one_run(*, backlog: int, delay: float, single_lane: bool) -> dict:
    with tempfile.TemporaryDirectory() as folder, SmtpServer(delay_seconds=delay) as smtp:
        path = Path(folder)
        redis_server = RedisServer(path)
        redis_server.start()
        extra = {"CLINIC_PATIENT_CONFIRMATION_EMAIL": "false", "ESCALATION_CHECK_EVERY_SECONDS": "3600"}
        stack = Stack(path, redis_url=redis_server.url, smtp_url=smtp.url, extra_env=extra)
        try:
            stack.prepare()
            if single_lane:
                # As before the lanes: one queue, the urgent lane's messages in line with the rest.
                stack.env["DJANGO_SETTINGS_MODULE"] = "bench.settings_single_lane"
            stack.start("web")
            stack.wait_healthy()
            figures = emergency_behind_backlog(stack, smtp, backlog=backlog, timeout=backlog * delay + 120)
        finally:
            stack.stop()
            redis_server.stop()
    figures.pop("reference")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backlog", type=int, default=2000)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds the mail server takes per message")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--single-lane", action="store_true")
    options = parser.parse_args()
    runs = [
        one_run(backlog=options.backlog, delay=options.delay, single_lane=options.single_lane)
        for _ in range(options.runs)
    ]
    seconds = [run["emergency_staff_email_s"] for run in runs]
    result = {
        "backlog": options.backlog,
        "smtp_delay_s": options.delay,
        "single_lane": options.single_lane,
        "runs": runs,
        "median_s": statistics.median(seconds),
        "worst_s": max(seconds),
        "target_s": TARGET_SECONDS,
        "met": max(seconds) <= TARGET_SECONDS,
    }
    out = ROOT / "test-artifacts" / "bench-lanes.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0 if result["met"] or options.single_lane else 1


if __name__ == "__main__":
    sys.exit(main())
