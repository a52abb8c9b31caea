"""Log lines name a request by the route it matched: no query string, token, search or red-flag page."""

import io
import logging
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from clinic.logs import PRIVATE_ROUTE, UNMATCHED, GunicornLogger, RequestPathFilter, loggable_path

TOKEN = "Tk9zLmFiY2RlZmdoaWprbG1ub3Bx"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/book/cancel/{TOKEN}/", "/book/cancel/<str:token>/"),
        ("/request-a-callback/f3a9c1/get-help-now/", PRIVATE_ROUTE),
        ("/request-a-callback/f3a9c1/before-you-send/", PRIVATE_ROUTE),
        ("/your-questions/eyJyIjoxfQ:1xYI3O:k5H-sQx/a-quick-check/", PRIVATE_ROUTE),
        ("/articles/search/?q=cauda+equina", "/articles/search/"),
        ("/admin/callbacks/callbackrequest/?q=07400987654", "/admin/callbacks/callbackrequest/"),
        ("/admin/callbacks/callbackrequest/12/change/", "/admin/callbacks/callbackrequest/<path:object_id>/change/"),
        ("/request-a-callback/f3a9c1/questions/pain/", "/request-a-callback/<slug:flow>/questions/<slug:step>/"),
        ("/static/site.abc123.css", "/static/*"),
        (f"/no-such-page/{TOKEN}", UNMATCHED),
        ("/", "/"),
    ],
)
def test_loggable_path_is_the_route_never_the_values(path, logged):
    assert loggable_path(path) == logged


@pytest.mark.django_db
def test_djangos_request_warnings_name_the_route_not_the_path(client):
    """The site's own console handler (settings.LOGGING) carries the filter: a 404 on a cancel link is logged
    without its token."""
    (handler,) = [h for h in logging.getLogger().handlers if any(isinstance(f, RequestPathFilter) for f in h.filters)]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        response = client.get(f"/book/cancel/{TOKEN}/?from=email")
        client.get("/request-a-callback/abc/get-help-now/?q=saddle")
    finally:
        handler.setStream(previous)
    assert response.status_code == 404
    written = stream.getvalue()
    assert "Not Found: /book/cancel/<str:token>/" in written
    assert TOKEN not in written
    assert "get-help-now" not in written and "saddle" not in written


def test_gunicorn_access_log_atoms_carry_no_address_query_referrer_or_header():
    logger = GunicornLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/book/cancel/{TOKEN}/?utm=1",
        "PATH_INFO": f"/book/cancel/{TOKEN}/",
        "QUERY_STRING": "utm=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "198.51.100.66",
        "HTTP_REFERER": "https://clinic.test/articles/search/?q=sciatica",
        "HTTP_USER_AGENT": "Mozilla",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[("Location", f"/book/cancel/{TOKEN}/")])
    request = SimpleNamespace(headers=[("X-FORWARDED-FOR", "203.0.113.7")])
    duration = SimpleNamespace(seconds=0, microseconds=1500)
    atoms = logger.atoms(response, request, environ, duration)
    text = " ".join(str(value) for value in atoms.values())
    for secret in (TOKEN, "utm", "198.51.100.66", "203.0.113.7", "sciatica", "Mozilla"):
        assert secret not in text
    assert atoms["r"] == "GET /book/cancel/<str:token>/ HTTP/1.1"
    assert atoms["U"] == "/book/cancel/<str:token>/"
