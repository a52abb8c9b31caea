"""The reverse proxy's cache (deploy/nginx/clinic/proxy.conf), with Debian's nginx in front of gunicorn: repeat
requests for public pages and static files are answered by nginx, and nothing of a session is ever kept."""

import re
from pathlib import Path

import pytest

from tests.conftest import service_missing
from tests.support.questionnaire import NO_RED_FLAGS, step_data
from tests.support.smtp import SmtpServer
from tests.support.stack import NGINX, PatientBrowser, Stack, stack_behind_proxy

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

PROXY_CACHE_REDIS_DB = 10
ACCESS_LINE = re.compile(r'"GET (\S+)" (\d{3}) ')


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    if not Path(NGINX).exists():
        service_missing(f"{NGINX} is missing (Debian package nginx)")
    with (
        SmtpServer() as smtp,
        stack_behind_proxy(
            tmp_path_factory.mktemp("proxy-cache"), redis_db=PROXY_CACHE_REDIS_DB, smtp_url=smtp.url
        ) as running,
    ):
        yield running


def gunicorn_saw(stack: Stack, route: str) -> int:
    """GET requests gunicorn answered for `route` (its access log names routes, clinic/logs.py)."""
    return sum(1 for path, _ in ACCESS_LINE.findall(stack.log("web")) if path == route)


def test_repeat_requests_for_public_pages_never_reach_gunicorn(proxied):
    visitor = PatientBrowser(proxied.proxy_url)
    article = "/articles/what-is-a-back-spasm/"
    for path, route in (("/", "/"), ("/articles/", "/articles/"), (article, "/articles/<slug:slug>/")):
        before = gunicorn_saw(proxied, route)
        first = visitor.http.get(proxied.proxy_url + path, timeout=10)
        assert first.status_code == 200, path
        assert first.headers["X-Cache-Status"] in {"MISS", "HIT"}, path
        for _ in range(5):
            again = visitor.http.get(proxied.proxy_url + path, timeout=10)
            assert again.headers["X-Cache-Status"] == "HIT", path
            assert again.content == first.content
            assert again.headers["Cache-Control"] == "public, max-age=60"
        assert gunicorn_saw(proxied, route) - before <= 1, f"{path} reached gunicorn again"
        # A browser revalidating its copy gets 304 from the proxy.
        revalidated = visitor.http.get(
            proxied.proxy_url + path, headers={"If-None-Match": first.headers["ETag"]}, timeout=10
        )
        assert revalidated.status_code == 304


def test_static_files_are_answered_by_the_proxy(proxied):
    home = PatientBrowser(proxied.proxy_url).http.get(proxied.proxy_url + "/", timeout=10).text
    css = re.search(r'href="(/static/clinic/css/site\.[0-9a-f]+\.css)"', home).group(1)
    before = gunicorn_saw(proxied, "/static/*")
    statuses = [PatientBrowser(proxied.proxy_url).http.get(proxied.proxy_url + css, timeout=10) for _ in range(4)]
    assert [response.status_code for response in statuses] == [200] * 4
    assert [response.headers["X-Cache-Status"] for response in statuses[1:]] == ["HIT"] * 3
    assert gunicorn_saw(proxied, "/static/*") - before <= 1


def test_pages_of_a_session_are_never_kept_or_served_from_the_cache(proxied):
    patient = PatientBrowser(proxied.proxy_url)
    patient.get("/")  # the public home page is now in the cache
    patient.post_form("/request-a-callback/", step_data(NO_RED_FLAGS["safety"]))
    assert "sessionid" in patient.cookies
    for path in ("/", "/articles/", "/request-a-callback/"):
        for _ in range(2):
            response = patient.get(path)
            assert response.status_code == 200, path
            assert response.headers["X-Cache-Status"] == "BYPASS", path
            assert response.headers["Cache-Control"] == "no-store", path
    # The form page carries each visitor's own CSRF token: never kept, even for visitors without a session.
    for _ in range(2):
        form = PatientBrowser(proxied.proxy_url).get("/request-a-callback/")
        assert form.headers["X-Cache-Status"] == "MISS"
        assert form.headers["Cache-Control"] == "no-store"
    # Staff pages are no-store too.
    login = PatientBrowser(proxied.proxy_url).get("/admin/login/")
    assert login.headers["X-Cache-Status"] in {"MISS", "BYPASS"}
    assert PatientBrowser(proxied.proxy_url).get("/admin/login/").headers["X-Cache-Status"] != "HIT"
