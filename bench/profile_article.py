"""Where an article page's time goes, next to the bare view: cProfile over in-process requests.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=... python -m bench.profile_article <slug> [requests]

bench/run.py runs this against its own database when the article/bare ratio misses its target. The requests go
through Django's real WSGI handler and middleware, as under gunicorn, but without the network and the server,
so the split between the two views is Django's alone. Prints the time per request of each view, then the article
view's profile (cumulative and own time).
"""

import cProfile
import io
import pstats
import sys
import time
from wsgiref.util import setup_testing_defaults

from django.core.wsgi import get_wsgi_application


def environ_for(path: str) -> dict:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "HTTP_HOST": "127.0.0.1",
        "SERVER_NAME": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",  # as behind the TLS proxy: no redirect to https
    }
    setup_testing_defaults(environ)
    return environ


def main() -> None:
    slug = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    application = get_wsgi_application()
    paths = {
        "bare": "/bench/bare/",
        "article": f"/articles/{slug}/",
    }

    def get(path: str) -> bytes:
        statuses = []
        body = b"".join(application(environ_for(path), lambda status, headers: statuses.append(status)))
        assert statuses == ["200 OK"], (path, statuses, body[:500])
        return body

    for path in paths.values():  # warm: caches, template loaders, database connection
        for _ in range(20):
            get(path)
    # Interleaved rounds, best of five: other work on the machine only ever adds time.
    best = dict.fromkeys(paths, float("inf"))
    for _ in range(5):
        for name, path in paths.items():
            started = time.perf_counter()
            for _ in range(count):
                get(path)
            best[name] = min(best[name], (time.perf_counter() - started) / count)
    ms = {name: f"{seconds * 1000:.3f} ms" for name, seconds in best.items()}
    print(
        f"in-process, best of 5 x {count} requests: bare {ms['bare']}, article {ms['article']} per request"
        f" (bare/article {best['bare'] / best['article']:.2f})"
    )
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        get(paths["article"])
    profiler.disable()
    for order, lines in (("cumulative", 45), ("tottime", 25)):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(lines)
        print(f"--- article view, {count} requests, by {order} ---")
        print(out.getvalue().split("\n", 4)[-1].strip("\n"))


if __name__ == "__main__":
    main()
