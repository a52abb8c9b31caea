"""How long a scripted patient takes from the home page to a reference, on the production stack (gunicorn,
PostgreSQL, Redis, a Celery worker; no proxy), for docs/BENCHMARKS.md.

    .venv/bin/python bench/patient_time.py --patients 30

Each patient is a new browser session (PatientBrowser: cookies, CSRF token read from each form page): the home
page, the "Request a callback" link, the two pages of safety questions and the details page, each form page
loaded and then sent, then the confirmation page with its reference. The time is the server's share of the
patient's time (network on loopback, no reading or typing).
"""

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# This process only builds form data: the default settings will do (as bench/run.py).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

import django  # noqa: E402

django.setup()

from bench.journey import home_to_reference  # noqa: E402
from bench.run import REDIS_HOST, REDIS_PORT, BenchStack, percentile  # noqa: E402
from tests.support.smtp import SmtpServer  # noqa: E402
from tests.support.stack import PatientBrowser  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=30)
    parser.add_argument("--redis-db", type=int, default=14)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, SmtpServer() as smtp:
        stack = BenchStack(Path(tmp), redis_url=f"redis://{REDIS_HOST}:{REDIS_PORT}/{args.redis_db}", smtp_url=smtp.url)
        try:
            stack.prepare()
            stack.start("web")
            stack.start("worker")
            stack.wait_healthy()
            home_to_reference(PatientBrowser(stack.base_url))  # warm-up, not counted
            runs = [home_to_reference(PatientBrowser(stack.base_url)) for _ in range(args.patients)]
        finally:
            stack.stop()
    seconds = sorted(run[0] for run in runs)
    assert all(run[1] == 3 for run in runs), "every patient sent three form pages"
    print(f"{args.patients} patients, home page to reference, 3 form pages each")
    print(
        f"median {statistics.median(seconds) * 1000:.0f} ms, p95 {percentile(seconds, 95) * 1000:.0f} ms, "
        f"max {seconds[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
