"""The reverse proxy's cache (deploy/nginx/clinic/proxy.conf), with Debian's nginx in front of gunicorn: repeat
requests for public pages and static files are answered by nginx, and nothing of a session is ever kept."""

import re

import pytest
import requests
from django.conf import settings

from tests.support.questionnaire import NO_RED_FLAGS, step_data
from tests.support.stack import PatientBrowser, Stack, stack_behind_proxy_with_mail

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

PROXY_CACHE_REDIS_DB = 10
ACCESS_LINE = re.compile(r'"GET (\S+)" (\d{3}) ')


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    with stack_behind_proxy_with_mail(tmp_path_factory.mktemp("proxy-cache"), redis_db=PROXY_CACHE_REDIS_DB) as running:
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
    # The form page carries each visitor's own CSRF token: never looked up in the cache, even for visitors
    # without a session, so new visitors arriving together never wait behind nginx's cache lock for each other.
    for _ in range(2):
        form = PatientBrowser(proxied.proxy_url).get("/request-a-callback/")
        assert form.headers["X-Cache-Status"] == "BYPASS"
        assert form.headers["Cache-Control"] == "no-store"
    # Staff pages likewise.
    for _ in range(2):
        login = PatientBrowser(proxied.proxy_url).get("/admin/login/")
        assert login.headers["X-Cache-Status"] == "BYPASS"
        assert login.headers["Cache-Control"] == "no-store"


def test_a_cached_page_is_served_only_for_the_sites_own_hosts(proxied):
    """Django refuses a Host outside DJANGO_ALLOWED_HOSTS (400); the proxy's cache must not answer it instead."""
    home = PatientBrowser(proxied.proxy_url).http.get(proxied.proxy_url + "/", timeout=10)
    assert home.status_code == 200
    again = PatientBrowser(proxied.proxy_url).http.get(proxied.proxy_url + "/", timeout=10)
    assert again.headers["X-Cache-Status"] == "HIT"
    for host in ("evil.example", "clinic.evil.example", "127.0.0.1.evil.example"):
        foreign = requests.get(proxied.proxy_url + "/", headers={"Host": host}, timeout=10)
        assert foreign.status_code == 400, host
        assert foreign.headers.get("X-Cache-Status") != "HIT", host
        assert foreign.content != home.content


# Every answer the proxy writes itself carries the site's protective headers, and a page of the site gets each
# header once (the site's own).
OWN_PAGE_HEADERS = {
    "X-Frame-Options": settings.X_FRAME_OPTIONS,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": settings.SECURE_REFERRER_POLICY,
    "Cache-Control": "no-store",
}


def test_the_proxys_own_error_pages_carry_the_security_headers(proxied):
    too_big = requests.post(
        proxied.proxy_url + "/request-a-callback/",
        data=b"x" * 300_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    too_long = requests.get(proxied.proxy_url + "/" + "a" * 20_000, timeout=10)
    headers_too_big = requests.get(proxied.proxy_url + "/", headers={"X-Padding": "b" * 20_000}, timeout=10)
    for response, status in ((too_big, 413), (too_long, 414), (headers_too_big, 400)):
        assert response.status_code == status
        for name, value in OWN_PAGE_HEADERS.items():
            assert response.headers.get(name) == value, (status, name)
        assert "default-src 'none'" in response.headers.get("Content-Security-Policy", ""), status
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], status
        assert response.headers.get("Permissions-Policy") == settings.PERMISSIONS_POLICY, status


def test_the_sites_pages_keep_their_own_headers_once(proxied):
    for _ in range(2):  # a miss, then a hit from the cache
        page = requests.get(proxied.proxy_url + "/", timeout=10)
        raw = page.raw.headers
        for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Permissions-Policy"):
            assert len(raw.getlist(name)) == 1, (name, raw.getlist(name), page.headers["X-Cache-Status"])
        assert "default-src 'none'" not in page.headers["Content-Security-Policy"]
