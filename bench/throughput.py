"""Requests per second of the site's pages against a bare Django project: same gunicorn, same run, wrk.

Every URL gets one wrk run per round, the rounds interleaved (so that other work on a shared machine affects
every URL alike), and the figure of a URL is the median of its rounds. The reference is a bare Django project
(bench/bare_project: Django's default middleware, one view) under the same gunicorn command line as the site;
ratios are each URL's median over the reference's median. gunicorn's access logs confirm that every response
measured was a 200.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tests.support.net import free_port, wait_until

HTTPS_PROXY_HEADER = "X-Forwarded-Proto: https"  # production settings redirect plain http; the proxy says https
# gunicorn's default access line ("GET /path HTTP/1.1" 200) and the site's ("GET /route/" 200, clinic/logs.py).
ACCESS_LOG_LINE = re.compile(r'"GET (\S+|\[[a-z ]+\])(?: HTTP/[\d.]+)?" (\d{3}) ')
STATIC_CSS = re.compile(r'href="(/static/clinic/css/site\.[0-9a-f]+\.css)"')
PUBLIC_PAGE_RATIO = 0.8
FORM_PAGE_RATIO = 0.5
PROXY_RATIO = 10.0


@dataclass(frozen=True)
class Target:
    """One URL to measure: `label` in the table, `server` is "bare" or "site", and the ratio it must reach."""

    name: str
    label: str
    server: str
    path: str
    target: float | None = None


def site_targets(*, article_path: str, css_path: str) -> list[Target]:
    return [
        Target("bare_project", "bare Django project (reference)", "bare", "/"),
        Target("site_bare_view", "bare view behind the site's middleware", "site", "/bench/bare/"),
        Target("static_css", "static CSS file (WhiteNoise)", "site", css_path),
        Target("healthz", "/healthz", "site", "/healthz"),
        Target("home", "home page", "site", "/", PUBLIC_PAGE_RATIO),
        Target("article_list", "article list", "site", "/articles/", PUBLIC_PAGE_RATIO),
        Target("article", "article page", "site", article_path, PUBLIC_PAGE_RATIO),
        Target("search", "search page without a query", "site", "/articles/search/", PUBLIC_PAGE_RATIO),
        Target("privacy", "privacy notice", "site", "/privacy/", PUBLIC_PAGE_RATIO),
        Target("booking_services", "booking: list of services", "site", "/book/", PUBLIC_PAGE_RATIO),
        Target("callback_form", "callback form, first page", "site", "/request-a-callback/", FORM_PAGE_RATIO),
    ]


def proxy_targets(*, article_path: str, css_path: str) -> list[Target]:
    """Through nginx (Debian's package) with the clinic's proxy rules and cache, against the same reference."""
    return [
        Target("bare_project", "bare Django project (reference)", "bare", "/"),
        Target("proxy_static_css", "static CSS file through nginx", "proxy", css_path, PROXY_RATIO),
        Target("proxy_home", "home page through nginx", "proxy", "/", PROXY_RATIO),
        Target("proxy_article_list", "article list through nginx", "proxy", "/articles/", PROXY_RATIO),
        Target("proxy_article", "article page through nginx", "proxy", article_path, PROXY_RATIO),
    ]


def css_path_of(home_html: str) -> str:
    match = STATIC_CSS.search(home_html)
    assert match, "the home page links no hashed site.css: were the static files collected?"
    return match.group(1)


def wrk(url: str, *, seconds: int, threads: int, connections: int) -> dict:
    command = [
        "wrk",
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={seconds}s",
        "--latency",
        f"--header={HTTPS_PROXY_HEADER}",
        url,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 120).stdout
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "latency_p50": re.search(r"\s50%\s+(\S+)", out).group(1),
        "latency_p99": re.search(r"\s99%\s+(\S+)", out).group(1),
        "socket_errors": [int(n) for n in socket_errors.groups()] if socket_errors else [0, 0, 0, 0],
        "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
        "output": out,
    }


def statuses_by_path(log: str) -> dict[str, Counter]:
    counts: dict[str, Counter] = {}
    for path, status in ACCESS_LOG_LINE.findall(log):
        counts.setdefault(path, Counter())[status] += 1
    return counts


class BareProject:
    """The reference project under gunicorn, with the site's gunicorn arguments (workers, access log)."""

    def __init__(self, tmp_path: Path, gunicorn_args: list[str], env: dict):
        self.port = free_port()
        self.log_path = tmp_path / "bare-project.log"
        args = list(gunicorn_args)
        args[args.index("--bind") + 1] = f"127.0.0.1:{self.port}"
        if "--config" in args:  # the site's gunicorn settings (its route-naming access log) are the site's own
            del args[args.index("--config") : args.index("--config") + 2]
        args += ["--access-logfile", "-"]
        self.command = [str(Path(sys.executable).parent / "gunicorn"), "bench.bare_project.wsgi:application", *args]
        self.env = {key: value for key, value in env.items() if not key.startswith("DJANGO_")}
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, cwd: Path) -> None:
        import requests

        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process in stop()
        # A session of its own, as the site's gunicorn has (tests/support/stack.py): with the kernel's automatic
        # scheduling groups (one per session), two servers in different kinds of session would not get the same
        # share of a busy machine's CPU, and the ratio would measure that instead of Django.
        self.process = subprocess.Popen(
            self.command, cwd=cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

        def answers() -> bool:
            try:
                return requests.get(self.base_url + "/", timeout=2).text == "ok"
            except requests.RequestException:
                return False

        wait_until(answers, timeout=60, what=f"the bare project\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


def measure(targets: list[Target], base_urls: dict[str, str], logs: dict, args) -> dict:
    """Interleaved wrk rounds over `targets`; medians, ratios to the first target, every response checked."""
    reference = targets[0]
    print(f"   warm-up: {args.warmup} s per URL", flush=True)
    for target in targets:
        wrk(
            base_urls[target.server] + target.path,
            seconds=args.warmup,
            threads=args.threads,
            connections=args.connections,
        )
    log_before = {server: len(read()) for server, read in logs.items()}
    runs: dict[str, list[dict]] = {target.name: [] for target in targets}
    for round_number in range(1, args.rounds + 1):
        for target in targets:
            url = base_urls[target.server] + target.path
            run = wrk(url, seconds=args.seconds, threads=args.threads, connections=args.connections)
            assert run["non_2xx_3xx"] == 0, run["output"]
            runs[target.name].append(run)
            print(
                f"   round {round_number} {target.name:17} {run['requests_per_second']:9.1f} req/s"
                f"  (p50 {run['latency_p50']}, p99 {run['latency_p99']}, socket errors {run['socket_errors']})",
                flush=True,
            )
    # Every response counted was a 200, in the servers' own access logs (the proxy's names no path).
    for server, read in logs.items():
        counted = Counter()
        for statuses in statuses_by_path(read()[log_before[server] :]).values():
            counted.update(statuses)
        assert set(counted) <= {"200"}, f"{server} answered {dict(counted)}"
        sent = sum(sum(run["requests"] for run in runs[t.name]) for t in targets if t.server == server)
        assert counted["200"] >= sent, (server, counted, sent)
    medians = {name: statistics.median(run["requests_per_second"] for run in rounds) for name, rounds in runs.items()}
    rows = []
    for target in targets:
        ratio = medians[target.name] / medians[reference.name]
        rows.append(
            {
                "name": target.name,
                "label": target.label,
                "path": target.path,
                "rounds_requests_per_second": [run["requests_per_second"] for run in runs[target.name]],
                "median_requests_per_second": round(medians[target.name], 1),
                "ratio_to_reference": round(ratio, 3),
                "target_ratio": target.target,
                "met": None if target.target is None else ratio >= target.target,
            }
        )
    print_table(rows, reference_label=reference.label)
    return {
        "reference": reference.name,
        "wrk": {
            "threads": args.threads,
            "connections": args.connections,
            "seconds": args.seconds,
            "rounds": args.rounds,
            "header": HTTPS_PROXY_HEADER,
        },
        "rows": rows,
        "met": all(row["met"] is not False for row in rows),
        "access_log_lines": {
            server: sum(sum(c.values()) for c in statuses_by_path(read()[log_before[server] :]).values())
            for server, read in logs.items()
        },
    }


def print_table(rows: list[dict], *, reference_label: str) -> None:
    print(f"   medians, ratio to the {reference_label}:", flush=True)
    for row in rows:
        verdict = "" if row["target_ratio"] is None else f"  target >= {row['target_ratio']}: "
        verdict += "" if row["met"] is None else ("met" if row["met"] else "NOT met")
        print(
            f"   {row['label']:42} {row['median_requests_per_second']:9.1f} req/s"
            f"  {row['ratio_to_reference']:6.3f}{verdict}",
            flush=True,
        )
