"""Public pages: HTTP caching headers, 304 answers, no-store for anything with a session, and fresh content after
a staff edit (clinic/public_pages.py)."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from callbacks.models import Practitioner, Service
from callbacks.web.flow import EXPIRED_MESSAGE
from clinic import public_pages
from clinic.articles.services import article_save
from tests.support.questionnaire import NO_RED_FLAGS, step_data

pytestmark = pytest.mark.django_db

PUBLIC_URL_NAMES = [
    "home",
    "article_list",
    "article_search",
    "callbacks:privacy",
    "callbacks:booking_services",
    "sitemap",
    "robots_txt",
]


@pytest.fixture
def service():
    service = Service.objects.create(name="Initial assessment", duration_minutes=45)
    Practitioner.objects.create(name="Sam Physio").services.add(service)
    return service


def public_urls(articles) -> list[str]:
    return [reverse(name) for name in PUBLIC_URL_NAMES] + [articles[0].get_absolute_url()]


def test_public_pages_carry_validators_and_a_short_public_cache_lifetime(client, articles, settings):
    settings.CLINIC_PUBLIC_PAGE_MAX_AGE = 45
    for url in public_urls(articles):
        for attempt in ("rendered", "from memory"):
            response = client.get(url)
            assert response.status_code == 200, (url, attempt)
            assert response["Cache-Control"] == "public, max-age=45", (url, attempt)
            assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"]), (url, attempt)
            assert response["Last-Modified"].endswith(" GMT"), (url, attempt)
            assert not response.cookies, (url, attempt)


def test_a_known_etag_or_date_gets_304_without_a_body(client, articles):
    for url in public_urls(articles):
        first = client.get(url)
        by_etag = client.get(url, headers={"If-None-Match": first["ETag"]})
        assert by_etag.status_code == 304, url
        assert by_etag.content == b""
        assert by_etag["ETag"] == first["ETag"]
        assert by_etag["Cache-Control"] == first["Cache-Control"]
        by_date = client.get(url, headers={"If-Modified-Since": first["Last-Modified"]})
        assert by_date.status_code == 304, url
        assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_head_is_answered_from_memory_too(client, articles):
    url = reverse("home")
    etag = client.get(url)["ETag"]
    head = client.head(url)
    assert head.status_code == 200
    assert head["ETag"] == etag
    assert head.content == b""


def test_an_ignored_query_string_gets_the_same_page(client, articles):
    plain = client.get(reverse("home"))
    from_newsletter = client.get(reverse("home") + "?utm_source=newsletter&utm_medium=email")
    assert from_newsletter["ETag"] == plain["ETag"]
    assert from_newsletter.content == plain.content


def test_a_search_with_a_query_is_never_stored(client, articles):
    response = client.get(reverse("article_search"), {"q": "spasm"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert not response.has_header("ETag")
    assert articles[0].title in response.content.decode()


@pytest.mark.parametrize("url_name", ["home", "article_list", "callbacks:booking_services", "callbacks:privacy"])
def test_staff_get_fresh_no_store_pages(admin_client, articles, url_name):
    response = admin_client.get(reverse(url_name))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert not response.has_header("ETag")


def test_a_patient_in_the_middle_of_a_request_gets_no_store_pages(client, articles):
    client.post(reverse("callbacks:request"), step_data(NO_RED_FLAGS["safety"]))
    assert "sessionid" in client.cookies
    for url in public_urls(articles):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "no-store", url
        assert not response.has_header("ETag"), url


def test_every_other_page_is_no_store(client, admin_client):
    assert client.get("/articles/no-such-article/")["Cache-Control"] == "no-store"
    assert admin_client.get(reverse("admin:index"))["Cache-Control"] == "no-store"
    redirect = client.post(reverse("callbacks:request"), step_data(NO_RED_FLAGS["safety"]))
    assert redirect.status_code == 302
    assert redirect["Cache-Control"] == "no-store"


def test_the_form_page_from_memory_carries_each_visitors_own_working_token(articles):
    url = reverse("callbacks:request")
    Client().get(url)  # renders and keeps the page
    tokens = []
    for _ in range(2):
        visitor = Client(enforce_csrf_checks=True)
        page = visitor.get(url)
        assert page.status_code == 200
        assert page["Cache-Control"] == "no-store"
        assert not page.has_header("ETag")
        assert "csrftoken" in page.cookies
        html = page.content.decode()
        assert "csrf-token-of-this-visitor" not in html
        token = re.search(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"', html).group(1)
        tokens.append(token)
        sent = visitor.post(url, {**step_data(NO_RED_FLAGS["safety"]), "csrfmiddlewaretoken": token})
        assert sent.status_code == 302, "the token in the stored page must be this visitor's"
    assert tokens[0] != tokens[1]


def test_a_pending_message_is_shown_on_the_form_page(client, articles):
    client.get(reverse("callbacks:request"))  # the page is in memory
    expired = client.get(reverse("callbacks:step", kwargs={"flow": "not-a-flow", "step": "health"}), follow=True)
    assert EXPIRED_MESSAGE in expired.content.decode()


def test_an_article_edit_changes_the_pages_and_their_etags(client, articles, django_capture_on_commit_callbacks):
    article = articles[0]
    before = {url: client.get(url)["ETag"] for url in (reverse("home"), article.get_absolute_url())}
    article.title = "Back spasms, a fresh title"
    with django_capture_on_commit_callbacks(execute=True):
        article_save(article=article)
    for url, etag in before.items():
        response = client.get(url, headers={"If-None-Match": etag})
        assert response.status_code == 200, url
        assert response["ETag"] != etag
        assert "Back spasms, a fresh title" in response.content.decode()


def _rename(service, practitioner):
    service.name = "First visit"
    service.save()


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        (_rename, "First visit"),
        (lambda service, practitioner: practitioner.services.remove(service), "Online booking is not available"),
        (lambda service, practitioner: practitioner.delete(), "Online booking is not available"),
    ],
    ids=["service renamed", "practitioner stops offering it", "practitioner deleted"],
)
def test_a_booking_change_shows_at_once_on_the_service_list(
    client, service, change, shown, django_capture_on_commit_callbacks
):
    url = reverse("callbacks:booking_services")
    practitioner = service.practitioners.get()
    before = client.get(url)
    assert "Initial assessment" in before.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        change(service, practitioner)
    after = client.get(url, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert shown in after.content.decode()
    assert "Initial assessment" not in after.content.decode()


def test_an_unchanged_save_keeps_answering_304(client, service, django_capture_on_commit_callbacks):
    """The ETag is the page's content: a save that changes nothing shown leaves browsers' copies valid."""
    url = reverse("callbacks:booking_services")
    etag = client.get(url)["ETag"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        service.save()
    assert callbacks, "the save still refreshes the stored pages"
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_another_processs_edit_shows_here_within_the_recheck_time(client, service, monkeypatch):
    """Another web process changes the database and the shared version; this process notices on its recheck."""
    from django.core.cache import cache

    url = reverse("callbacks:booking_services")
    now = [1000.0]
    monkeypatch.setattr(public_pages.time, "monotonic", lambda: now[0])
    first = client.get(url)
    Service.objects.filter(pk=service.pk).update(name="First visit")  # no signal: another process did it
    cache.set(public_pages.VERSION_KEY, "1900000000-another-process", timeout=None)
    now[0] += 1
    assert "Initial assessment" in client.get(url).content.decode(), "kept until the recheck"
    now[0] += public_pages.VERSION_RECHECK_SECONDS
    second = client.get(url)
    assert "First visit" in second.content.decode()
    assert second["Last-Modified"] == "Sun, 17 Mar 2030 17:46:40 GMT"
    assert second["ETag"] != first["ETag"]


def test_a_page_from_memory_keeps_the_security_headers_of_the_first_render(client, articles):
    for url in public_urls(articles):
        rendered, remembered = client.get(url), client.get(url)
        for header in (
            "Content-Type",
            "Content-Security-Policy",
            "X-Frame-Options",
            "X-Content-Type-Options",
            "Referrer-Policy",
        ):
            assert remembered.has_header(header), (url, header)
            assert remembered[header] == rendered[header], (url, header)


def test_an_unknown_host_is_refused_even_for_a_page_in_memory(client, articles):
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("home"), headers={"Host": "evil.example"}).status_code == 400


# The proxy looks up only the public pages in its cache (deploy/nginx/clinic/http.conf, $clinic_not_kept)

HTTP_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "clinic" / "http.conf"


def proxy_looks_up(path: str) -> bool:
    """Whether nginx's `map $uri $clinic_not_kept` gives "" (looked up in the cache) for `path`: exact entries
    first, then the regular expressions in order, as nginx's map does."""
    block = re.search(r"map \$uri \$clinic_not_kept \{(.*?)\n\}", HTTP_CONF.read_text(), re.S).group(1)
    entries = [line.split(None, 1) for line in block.strip().splitlines()]
    entries = [(key, value.rstrip(";").strip()) for key, value in entries if not key.startswith("#")]
    exact = {key: value for key, value in entries if not key.startswith("~") and key != "default"}
    if path in exact:
        return exact[path] == '""'
    for key, value in entries:
        if key.startswith("~") and re.search(key[1:], path):
            return value == '""'
    return dict(entries)["default"] == '""'


def public_page_paths(patterns=None, prefix: str = "") -> list[str]:
    """A path for every URL pattern whose view is marked @public_page (converters given a sample value)."""
    from django.urls import URLResolver, get_resolver

    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += public_page_paths(pattern.url_patterns, route)
            continue
        view = pattern.callback
        while view is not None and not getattr(view, "is_public_page", False):
            view = getattr(view, "__wrapped__", None)
        if view is not None:
            found.append("/" + re.sub(r"<(?:\w+:)?\w+>", "sample", route).lstrip("^").rstrip("$"))
    return found


def test_the_proxy_looks_up_every_public_page_and_nothing_else():
    paths = public_page_paths()
    assert {"/", "/articles/", "/articles/sample/", "/privacy/", "/book/", "/robots.txt"} <= set(paths)
    assert [path for path in paths if not proxy_looks_up(path)] == []
    assert proxy_looks_up("/static/clinic/css/site.css")
    for form_or_staff in (
        "/request-a-callback/",
        "/request-a-callback/abc/your-details/",
        "/book/3/",
        "/your-questions/token/",
        "/admin/login/",
        "/healthz",
    ):
        assert not proxy_looks_up(form_or_staff), form_or_staff
