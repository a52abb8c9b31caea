"""Hostile input against every public form and URL: never a 500, nothing half-saved, nothing run in the admin.

Hand-picked payloads (markup, script, unicode oddities, a NUL byte, SQL-ish text, very long text) and
hypothesis-generated text go into every free-text field of the questionnaire and of the details form, into the
article search, into hidden fields and URLs. Run in both passes: PostgreSQL refuses a NUL byte in text, so a
NUL that slipped past a form would be a 500 there and not on SQLite.
"""

import io
import re
import secrets
import unicodedata
import uuid
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from callbacks.models import CallbackRequest, Notification
from callbacks.notifications.delivery import notification_send
from callbacks.web.flow import SESSION_FLOWS_KEY
from clinic.rates import Rate
from clinic.text import HIDDEN_CHARACTERS_MESSAGE, text_has_hidden_characters, text_without_invisible_characters
from intake.models import Answer, QuestionnaireResponse
from tests.callbacks.web.test_forms import form_data
from tests.factories import ArticleFactory, CallbackRequestFactory
from tests.support.questionnaire import NO_RED_FLAGS, PREPARE_STEPS, SCREENING_STEPS, step_data

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE_BREAK = '"><img src=x onerror=alert(1)>'
NUL = "\x00"
PAYLOADS = [
    pytest.param(SCRIPT, id="script"),
    pytest.param(ATTRIBUTE_BREAK, id="attribute-break"),
    pytest.param("'; DROP TABLE callbacks_callbackrequest;--", id="sql"),
    pytest.param("1' OR '1'='1", id="sql-or"),
    pytest.param("Ann\u202eevil\u202c Lee", id="rtl-override"),
    pytest.param("Zoe\u200b\u200d\ufeff Park", id="zero-width"),
    pytest.param("Back pain 😖🔥 ok 👍🏽", id="emoji"),
    pytest.param("Bj\u00f6rk \u0645\u0631\u062d\u0628\u0627 \u4f60\u597d", id="scripts"),
    pytest.param("a" * 5000, id="long"),
    pytest.param("{{ 7*7 }} {% debug %} ${7*7}", id="template"),
    pytest.param(f"ok{NUL}then", id="nul"),
    pytest.param("\r\n\tTab\x0bvt\x1f", id="controls"),
]
HTML_PAYLOADS = [SCRIPT, ATTRIBUTE_BREAK]
NUL_MESSAGE = "Null characters are not allowed."
# The questions with a free-text answer, and the answers on their steps that make them appear.
TEXT_STEPS = {
    "when": ({"onset": "injury"}, ["injury_details"]),
    "pain": ({"eases": ["heat", "other"], "worsens": ["sitting", "other"]}, ["eases_other", "worsens_other"]),
    "treatment": (
        {"tried": ["rest", "other"], "takes_medicines": "yes", "has_conditions": "yes"},
        ["tried_other", "medicines", "conditions", "goals", "anything_else"],
    ),
}
CONDITIONAL_TEXT = {"injury_details", "eases_other", "worsens_other", "tried_other", "medicines", "conditions"}
CONTACT_TEXT_FIELDS = ["name", "phone", "email", "preferred_date", "preferred_time", "reason"]


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """Hostile input, not floods: the limits have their own tests (tests/callbacks/test_abuse.py)."""
    unlimited = Rate(10**9, 3600)
    settings.CLINIC_RATE_LIMIT_FORM_POSTS = unlimited
    settings.CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS = unlimited
    settings.CLINIC_RATE_LIMIT_REQUESTS_PER_PHONE = unlimited


def assert_nothing_half_saved():
    """A request exists exactly when its answers and its notifications do."""
    for request in CallbackRequest.objects.all():
        assert request.questionnaire_response_id is not None, request.reference
        assert request.notifications.exists(), request.reference
    assert not QuestionnaireResponse.objects.filter(callback_request__isnull=True).exists()
    assert not Answer.objects.filter(response__callback_request__isnull=True).exists()


def walk(client, overrides=None, *, until=None):
    """Answer the screening steps in order (with per-step overrides and "shown" lists); the last response."""
    overrides = overrides or {}
    url = reverse("callbacks:request")
    response = None
    for step in SCREENING_STEPS:
        answers, shown = overrides.get(step, ({}, ()))
        response = client.post(url, step_data({**NO_RED_FLAGS[step], **answers}, shown))
        assert response.status_code == 302, (step, response.content.decode()[:3000])
        url = response["Location"]
        if step == until:
            break
    return response


def send_request(client, **contact) -> str:
    """The short path to a stored request; the link to the rest of the questionnaire ("help us prepare")."""
    response = client.post(walk(client)["Location"], form_data(**contact))
    assert response.status_code == 302, response.content.decode()[:3000]
    page = client.get(response["Location"]).content.decode()
    return re.search(r'id="prepare-start" href="([^"]+)"', page).group(1)


def prepare(client, link, overrides=None):
    """Answer every later step through the link (with per-step overrides and "shown" lists)."""
    overrides = overrides or {}
    for step in PREPARE_STEPS:
        answers, shown = overrides.get(step, ({}, ()))
        response = client.post(f"{link}{step}/", step_data({**NO_RED_FLAGS[step], **answers}, shown))
        assert response.status_code == 302, (step, response.content.decode()[:3000])


def visible(text: str) -> str:
    """What the details form keeps of a free-text answer: stripped, and nothing if only invisible characters."""
    text = text_without_invisible_characters(text).strip()
    return text if any(not unicodedata.category(char).startswith(("C", "Z")) for char in text) else ""


def text_answers(payload):
    """Overrides that put ``payload`` into every free-text question of the questionnaire."""
    return {
        step: ({**reveal, **dict.fromkeys(fields, payload)}, [f for f in fields if f in CONDITIONAL_TEXT])
        for step, (reveal, fields) in TEXT_STEPS.items()
    }


def errors_next_to(html: str, field_id: str) -> str:
    """The error text tied to a field by aria-describedby (the questionnaire's and the details form's)."""
    match = re.search(rf'<(\w+)[^>]*\sid="{re.escape(field_id)}[-_]error"[^>]*>(.*?)</\1>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(2)).strip() if match else ""


# The questionnaire --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_free_text_question_takes_or_refuses_a_payload_cleanly(client, payload):
    valid = NUL not in payload and not text_has_hidden_characters(payload) and len(payload.strip()) <= 300
    link = send_request(client)
    for step in PREPARE_STEPS:
        url = f"{link}{step}/"
        reveal, fields = TEXT_STEPS.get(step, ({}, []))
        shown = [f for f in fields if f in CONDITIONAL_TEXT]
        answers = {**NO_RED_FLAGS[step], **reveal, **dict.fromkeys(fields, payload)}
        response = client.post(url, step_data(answers, shown))
        if fields and not valid:
            assert response.status_code == 200
            html = response.content.decode()
            for field in fields:
                message = errors_next_to(html, f"id_q-{field}")
                assert message, f"no error next to {field}"
                if NUL in payload:
                    assert NUL_MESSAGE in message
            # The answers that were fine are kept on the page; the patient fixes the rest and goes on.
            response = client.post(
                url, step_data({**NO_RED_FLAGS[step], **reveal, **dict.fromkeys(fields, "x")}, shown)
            )
        assert response.status_code == 302, response.content.decode()[:3000]
    stored = dict(Answer.objects.values_list("question_id", "value_text").exclude(value_text=""))
    if valid:
        # Invisible format characters (the zero-width payload's) are removed, the rest kept as typed.
        assert stored["goals"] == text_without_invisible_characters(payload).strip()
        assert stored["medicines"] == text_without_invisible_characters(payload).strip()
    else:
        assert stored["goals"] == stored["medicines"] == "x"
    assert CallbackRequest.objects.get().questionnaire_response.is_complete
    assert_nothing_half_saved()


def test_the_integer_question_refuses_junk_with_a_message(client):
    url = walk(client, until="safety")["Location"]
    for junk in ["<script>", "1e9", "12; DROP TABLE x", "9" * 5000, NUL, "٣٤", "-0", "34.5", "🙂"]:
        response = client.post(url, step_data({**NO_RED_FLAGS["health"], "age": junk}))
        if response.status_code == 302:  # digits of another script are still a number
            assert junk in ("٣٤", "-0")
            continue
        assert response.status_code == 200
        assert errors_next_to(response.content.decode(), "id_q-age"), junk
    assert_nothing_half_saved()


@pytest.mark.parametrize("junk", ["maybe", "", NUL, "yes\x00", SCRIPT, "1", "True", "🙂" * 1000])
def test_choice_questions_refuse_values_they_do_not_offer(client, junk):
    response = client.post(reverse("callbacks:request"), step_data({**NO_RED_FLAGS["safety"], "chest_pain": junk}))
    assert response.status_code == 200
    assert errors_next_to(response.content.decode(), "id_q-chest_pain")
    assert not client.session.get(SESSION_FLOWS_KEY)


def test_multiple_choice_and_body_areas_refuse_unknown_values(client):
    url = f"{send_request(client)}where/"
    response = client.post(url, step_data({"pain_areas": ["lower_back_centre", SCRIPT], "pain_feel": [NUL]}))
    assert response.status_code == 200
    html = response.content.decode()
    assert errors_next_to(html, "id_q-pain_areas") and errors_next_to(html, "id_q-pain_feel")
    assert SCRIPT not in html


def test_tampered_shown_field_and_answers_for_other_steps_change_nothing(client):
    answers = {**NO_RED_FLAGS["safety"], "age": "12", "goals": SCRIPT}
    data = step_data(answers, shown=["goals", "nonexistent", SCRIPT, NUL, "x" * 10000])
    response = client.post(reverse("callbacks:request"), data)
    assert response.status_code == 302
    flow = next(iter(client.session[SESSION_FLOWS_KEY].values()))
    # Only the safety step's own questions were taken.
    assert set(flow["answers"]) == set(NO_RED_FLAGS["safety"])


def test_too_many_fields_are_a_400_not_a_500(client):
    data = step_data(NO_RED_FLAGS["safety"], shown=[f"s{n}" for n in range(2000)])
    assert client.post(reverse("callbacks:request"), data).status_code == 400


# Flow ids and step names in URLs ------------------------------------------------------------------------------


def test_random_and_foreign_flow_ids_and_unknown_steps_lead_back_to_the_start(client):
    own_flow_url = walk(client, until="safety")["Location"]
    flow = own_flow_url.split("/")[2]
    stranger = Client()
    urls = [
        reverse("callbacks:step", kwargs={"flow": flow, "step": "health"}),
        reverse("callbacks:contact", kwargs={"flow": flow}),
        reverse("callbacks:emergency", kwargs={"flow": flow}),
    ]
    for url in urls:
        for method in (stranger.get, stranger.post):
            response = method(url)
            if response.status_code == 405:  # the emergency advice is a page to read, not a form
                continue
            assert response.status_code == 302
            assert response["Location"] == reverse("callbacks:request")
    random_flow = secrets.token_urlsafe(9)
    response = client.get(reverse("callbacks:step", kwargs={"flow": random_flow, "step": "safety"}))
    assert response["Location"] == reverse("callbacks:request")
    # An unknown or not-yet-reachable step sends the patient to the step they are on.
    for step in ("no-such-step", "treatment", "0", "safety-" * 20):
        response = client.get(reverse("callbacks:step", kwargs={"flow": flow, "step": step}))
        assert response.status_code == 302
        assert response["Location"] == own_flow_url
    assert not CallbackRequest.objects.exists()


def test_a_damaged_flow_in_the_session_starts_again_instead_of_failing(client):
    url = walk(client)["Location"]
    flow = url.split("/")[2]
    damaged = [
        None,
        "x",
        {"slug": "back-pain"},
        {"slug": "nope", "version": 99, "answers": {}, "done": [], "started_at": 0},
        {"slug": "back-pain", "version": 1, "answers": {"age": SCRIPT}, "done": SCREENING_STEPS, "started_at": 9e18},
        {"slug": "back-pain", "version": 1, "answers": [], "done": "all", "started_at": "now"},
    ]
    for damage in damaged:
        session = client.session
        session[SESSION_FLOWS_KEY] = {flow: damage}
        session.save()
        response = client.post(url, form_data())
        # Back to the start, or to the step whose stored answer does not fit: never a 500, never a request.
        assert response.status_code == 302, damage
    assert_nothing_half_saved()
    assert not CallbackRequest.objects.exists()


def test_answers_planted_in_the_session_are_checked_again_before_anything_is_stored(client):
    url = walk(client)["Location"]
    flow = url.split("/")[2]
    session = client.session
    session[SESSION_FLOWS_KEY][flow]["answers"]["goals"] = "x" * 100_000
    session[SESSION_FLOWS_KEY][flow]["answers"]["age"] = SCRIPT
    session.save()
    response = client.post(url, form_data())
    assert response.status_code == 302
    assert not CallbackRequest.objects.exists()
    assert_nothing_half_saved()


# The details form -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", CONTACT_TEXT_FIELDS)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_details_field_takes_or_refuses_a_payload_cleanly(client, field, payload):
    url = walk(client)["Location"]
    response = client.post(url, form_data(**{field: payload}))
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        html = response.content.decode()
        assert errors_next_to(html, f"id_{field}"), f"no error next to {field}"
        if NUL in payload and field in ("name", "phone", "email", "reason"):
            assert NUL_MESSAGE in errors_next_to(html, f"id_{field}")
        assert not CallbackRequest.objects.exists()
    else:
        stored = CallbackRequest.objects.get()
        assert field in ("name", "reason")
        assert NUL not in stored.name + stored.reason
        if field == "reason":
            assert stored.reason == text_without_invisible_characters(payload).strip()
    assert_nothing_half_saved()


def test_a_name_of_only_invisible_characters_is_refused(client):
    url = walk(client)["Location"]
    for name in ["\u200b\u200b", "\u202e", "\ufeff \u200d", "\u2066\u2069"]:
        response = client.post(url, form_data(name=name))
        assert response.status_code == 200, repr(name)
        assert errors_next_to(response.content.decode(), "id_name"), repr(name)
    assert not CallbackRequest.objects.exists()


HIDDEN_CHARACTERS = [
    pytest.param("\u202e", id="right-to-left-override"),
    pytest.param("\x0b", id="vertical-tab"),
    pytest.param("\x1f", id="unit-separator"),
    pytest.param("\ufffe", id="noncharacter"),
    pytest.param("\u2066", id="isolate"),
    pytest.param("\x85", id="c1-next-line"),
]


@pytest.mark.parametrize("hidden", HIDDEN_CHARACTERS)
def test_hidden_control_characters_are_refused_next_to_the_field(client, hidden):
    """Security review, finding 11: a name or answer never holds a control, an override or a noncharacter."""
    url = walk(client)["Location"]
    for field in ("name", "reason"):
        response = client.post(url, form_data(**{field: f"Ann{hidden}gnol Lee"}))
        assert response.status_code == 200, field
        assert HIDDEN_CHARACTERS_MESSAGE in errors_next_to(response.content.decode(), f"id_{field}")
    assert not CallbackRequest.objects.exists()
    # The later questions, on the pages after the request is sent.
    treatment = f"{send_request(client)}treatment/"
    answers = {**NO_RED_FLAGS["treatment"], "goals": f"Walk{hidden} again"}
    response = client.post(treatment, step_data(answers))
    assert response.status_code == 200
    assert HIDDEN_CHARACTERS_MESSAGE in errors_next_to(response.content.decode(), "id_q-goals")
    assert not Answer.objects.filter(question_id="goals").exists()
    assert_nothing_half_saved()


def test_ordinary_text_in_any_script_with_its_joiners_and_marks_is_kept():
    for text in ("Zoë O'Brien-Łukasz", "أحمد\u200f علي", "Family 👨\u200d👩\u200d👧", "Line one\nline two\ttab"):
        assert not text_has_hidden_characters(text), text


# Security review 27, finding 7: invisible format characters (Unicode category Cf) and filler letters.
INVISIBLE = [
    pytest.param("\u200b", id="zero-width-space"),
    pytest.param("\u2060", id="word-joiner"),
    pytest.param("\ufeff", id="byte-order-mark"),
    pytest.param("\u00ad", id="soft-hyphen"),
    pytest.param("\U000e0041\U000e0042\U000e0043", id="tag-characters"),
    pytest.param("\u3164", id="hangul-filler"),
    pytest.param("\u115f\u1160", id="hangul-choseong-jungseong-fillers"),
    pytest.param("\u2800", id="braille-blank"),
    pytest.param("\uffa0", id="halfwidth-hangul-filler"),
    pytest.param("\u180e", id="mongolian-vowel-separator"),
]


@pytest.mark.parametrize("invisible", INVISIBLE)
def test_invisible_characters_are_removed_from_names_reasons_and_answers(client, invisible):
    link = send_request(client, name=f"Ann{invisible} Lee{invisible}", reason=f"Lower{invisible} back")
    stored = CallbackRequest.objects.get()
    assert (stored.name, stored.reason) == ("Ann Lee", "Lower back")
    treatment = f"{link}treatment/"
    answers = {**NO_RED_FLAGS["treatment"], "goals": f"Walk{invisible} again{invisible}"}
    assert client.post(treatment, step_data(answers)).status_code == 302
    assert Answer.objects.get(question_id="goals").value == "Walk again"


@pytest.mark.parametrize("invisible", INVISIBLE)
def test_a_name_of_only_invisible_or_filler_characters_gets_a_field_error(client, invisible):
    url = walk(client)["Location"]
    for name in (invisible, f"{invisible} {invisible}", f"{invisible}\u200d"):
        response = client.post(url, form_data(name=name))
        assert response.status_code == 200, repr(name)
        assert "Tell us your name" in errors_next_to(response.content.decode(), "id_name"), repr(name)
    assert not CallbackRequest.objects.exists()


def test_text_that_needs_its_joiners_marks_and_flag_tags_keeps_them():
    scotland = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    for text in (
        "Family \U0001f468\u200d\U0001f469\u200d\U0001f467",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian, with its zero-width non-joiner
        "\u0623\u062d\u0645\u062f\u200f \u0639\u0644\u064a",
        f"From Glasgow {scotland}",
        "Zo\u00eb O'Brien-\u0141ukasz",
    ):
        assert text_without_invisible_characters(text) == text, text
    assert text_without_invisible_characters(f"Hi \U000e0068\U000e0069{scotland}") == f"Hi {scotland}"


@pytest.mark.parametrize(
    "email", ["x@localhost", "x@[127.0.0.1]", "x@[IPv6:::1]", "x@127.0.0.1", "x@intranet", "x@printer.local"]
)
def test_email_addresses_that_cannot_reach_a_patient_are_refused(client, email):
    url = walk(client)["Location"]
    response = client.post(url, form_data(email=email))
    assert response.status_code == 200
    assert "Enter an e-mail address like name@example.com" in errors_next_to(response.content.decode(), "id_email")
    assert not CallbackRequest.objects.exists()
    assert client.post(url, form_data(email="ann.lee@mail.example.co.uk")).status_code == 302


def test_a_ticked_honeypot_with_a_payload_saves_nothing(client):
    url = walk(client)["Location"]
    response = client.post(url, form_data(website=SCRIPT))
    assert response.status_code == 200
    assert SCRIPT not in response.content.decode()
    assert not CallbackRequest.objects.exists()


def test_consent_must_be_the_checkbox_and_not_anything_else(client):
    url = walk(client)["Location"]
    assert client.post(url, form_data(consent=None)).status_code == 200
    for value in ("false", "0", ""):
        response = client.post(url, form_data(consent=value))
        assert response.status_code == 200, value
    assert not CallbackRequest.objects.exists()


# Invalid bytes, bodies and content types ------------------------------------------------------------------------


def public_post_urls(client):
    """The endpoints that take a POST from the public, with a live flow where one is needed."""
    client.get(reverse("callbacks:request"))  # the CSRF cookie, as a browser would have it
    if client.handler.enforce_csrf_checks:
        return [reverse("callbacks:request")]
    details = walk(client)["Location"]
    flow = details.split("/")[2]
    return [
        reverse("callbacks:request"),
        reverse("callbacks:step", kwargs={"flow": flow, "step": "health"}),
        details,
    ]


def test_invalid_utf8_and_lone_surrogate_bytes_are_not_a_500(client):
    for url in public_post_urls(client):
        for raw in (b"q-saddle_numbness=%ED%A0%80", b"name=\xed\xa0\x80&reason=\xff\xfe", b"\xc3\x28=\xa0\xa1"):
            response = client.post(url, raw, content_type="application/x-www-form-urlencoded")
            assert response.status_code in (200, 302, 400), (url, raw)
    assert_nothing_half_saved()
    assert not CallbackRequest.objects.exists()


def test_lone_surrogate_in_a_details_field_is_replaced_or_refused_never_stored_raw(client):
    url = walk(client)["Location"]
    body = "&".join(f"{key}={quote(str(value))}" for key, value in form_data().items() if key != "reason")
    response = client.post(url, body + "&reason=pain%ED%A0%80here", content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 302)
    for request in CallbackRequest.objects.all():
        request.reason.encode("utf-8")  # a lone surrogate could not be encoded (nor sent to PostgreSQL)
    assert_nothing_half_saved()


@pytest.mark.parametrize("csrf", [False, True], ids=["view", "csrf-checked"])
def test_bodies_over_the_limit_get_413_unread(csrf):
    client = Client(enforce_csrf_checks=csrf)
    # With CSRF checks on, the browser has the cookie from the page: the middleware then reads the body.
    urls = public_post_urls(client)
    big = "x" * (300 * 1024)
    for url in urls:
        response = client.post(url, {"q-saddle_numbness": "no", "name": big, "reason": big})
        assert response.status_code == 413, url
        response = client.post(url, "a=" + big, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 413, url
        response = client.post(url, big, content_type="text/plain")
        assert response.status_code == 413, url
        upload = SimpleUploadedFile("big.bin", b"x" * (1024 * 1024))  # a file: no form takes one
        response = client.post(url, {"name": "Alex", "attachment": upload})
        assert response.status_code == 413, url
        assert "too much to send" in response.content.decode().lower()
    assert not CallbackRequest.objects.exists()


class CountedBody(io.BytesIO):
    """A request body as a WSGI server streams it, counting what the application reads."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.taken = 0

    def read(self, size=-1):
        block = super().read(size)
        self.taken += len(block)
        return block


def chunked_environ(path: str, body: CountedBody) -> dict:
    """A POST as gunicorn hands it on when the client sent ``Transfer-Encoding: chunked``: no CONTENT_LENGTH."""
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": body,
        "wsgi.input_terminated": True,
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


@pytest.mark.django_db
def test_a_chunked_body_over_the_limit_gets_413_having_read_no_more_than_the_limit(settings):
    """Security review 27 (info): with no Content-Length the size check passed whatever came."""
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    body = CountedBody(b"a=" + b"x" * (3 * 1024 * 1024))
    answered = {}
    # As Django's test client does: the handler's signals would close the test's database connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        chunks = get_wsgi_application()(
            chunked_environ(reverse("callbacks:request"), body),
            lambda status, headers, exc_info=None: answered.update(status=status),
        )
        content = b"".join(chunks)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert answered["status"].startswith("413")
    assert b"too much to send" in content.lower()
    assert body.taken <= settings.REQUEST_BODY_MAX_BYTES + 1


def test_a_chunked_body_within_the_limit_is_read_as_the_form(settings):
    from django.core.handlers.wsgi import WSGIRequest
    from django.http import HttpResponse

    from clinic.limits import RequestBodyLimitMiddleware

    request = WSGIRequest(chunked_environ("/", CountedBody(b"name=Ann+Lee&reason=back")))
    response = RequestBodyLimitMiddleware(lambda request: HttpResponse(request.POST.urlencode()))(request)
    assert response.content == b"name=Ann+Lee&reason=back"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", '{"name": "<script>alert(1)</script>", "consent": true}'),
        ("application/json", "{not json"),
        ("text/plain", "name=Alex&consent=on"),
        ("application/xml", "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY y SYSTEM 'file:///etc/passwd'>]><x>&y;</x>"),
        ("multipart/form-data", "--no-boundary--"),
        ("multipart/form-data; boundary=abc", '--abc\r\nContent-Disposition: form-data; name="name"\r\n\r\nA\r\n'),
        ("application/x-www-form-urlencoded; charset=klingon", "name=Alex"),
        ("application/x-www-form-urlencoded; charset=utf-16", "name=Alex"),
    ],
)
def test_wrong_content_types_are_refused_without_a_500(client, content_type, body):
    for url in public_post_urls(client):
        response = client.generic("POST", url, body.encode(), content_type=content_type)
        assert response.status_code in (200, 302, 400), (url, response.status_code)
    assert not CallbackRequest.objects.exists()
    assert_nothing_half_saved()


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "iso-8859-15"])
def test_a_non_utf8_form_with_a_valid_csrf_cookie_is_a_400_not_a_500(charset):
    """CSRF checked for real: the middleware reads the body, Django refuses the charset, and the error pages
    must answer 400 themselves instead of running the CSRF check again and failing in turn."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.get(reverse("callbacks:request"))
    token = client.cookies["csrftoken"].value
    for url in (reverse("callbacks:request"), reverse("admin:login")):
        body = f"csrfmiddlewaretoken={token}&name=Ren%E9".encode()
        response = client.generic(
            "POST",
            url,
            body,
            content_type=f"application/x-www-form-urlencoded; charset={charset}",
            HTTP_ORIGIN="http://testserver",
        )
        assert response.status_code == 400, (url, response.status_code)
        assert "We could not read that request" in response.content.decode()
    response = client.generic(
        "POST", "/no-such-page/", b"a=%E9", content_type=f"application/x-www-form-urlencoded; charset={charset}"
    )
    assert response.status_code == 404
    assert_nothing_half_saved()


def test_a_file_sent_to_a_form_without_file_fields_is_ignored(client):
    url = public_post_urls(client)[-1]
    # Under the body limit (a larger one gets 413, see above): no form has a file field, so it is not looked at.
    upload = SimpleUploadedFile("x.html", SCRIPT.encode() * 200, content_type="text/html")
    response = client.post(url, {**form_data(), "website": upload, "reason": upload})
    # The optional reason is taken as left empty; the honeypot as not filled in.
    assert response.status_code == 302
    assert CallbackRequest.objects.get().reason == ""
    assert_nothing_half_saved()


# Every public URL, with junk in its parameters and after it ----------------------------------------------------


def public_patterns(resolver=None, prefix=""):
    """(route, converters) of every URL outside the admin."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if "admin" in str(entry.pattern) or getattr(entry, "app_name", "") == "admin":
                continue
            yield from public_patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route, entry.pattern.converters


JUNK_SEGMENTS = [
    "no-such-thing",
    "%00",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
    "%ED%A0%80",
    "%E2%80%AEevil",
    "..%2F..%2Fetc%2Fpasswd",
    "'%3B%20DROP%20TABLE%20x%3B--",
    "x" * 2000,
    "%F0%9F%98%96",
    "999999999999999999999999",
]


def junk_urls():
    urls = []
    for route, converters in public_patterns():
        for junk in JUNK_SEGMENTS:
            path = route
            for name in re.findall(r"<(?:\w+:)?(\w+)>", route):
                kind = type(converters.get(name)).__name__ if name in converters else ""
                value = "123456789" if kind == "IntConverter" else junk
                path = re.sub(rf"<(?:\w+:)?{name}>", value, path)
            urls.append("/" + path)
            urls.append("/" + path + junk + "/")
    return sorted(set(urls))


def test_get_and_post_on_every_public_url_with_junk_is_never_a_500(client):
    ArticleFactory(slug="real-article")
    CallbackRequestFactory()
    urls = junk_urls()
    assert len(urls) > 50
    bad = []
    for index, url in enumerate(urls):
        methods = ("get", "post", "head", "put", "delete", "options") if index % 7 == 0 else ("get", "post")
        for method in methods:
            response = getattr(client, method)(url, QUERY_STRING="q=%00%3Cscript%3E&flow=..%2F")
            if response.status_code >= 500:
                bad.append((method, url[:120], response.status_code))
    assert not bad
    assert CallbackRequest.objects.count() == 1


# The article search ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [*(p.values[0] for p in PAYLOADS), "%", "_", "\\", "*" * 100, " " * 5000])
def test_search_echoes_a_hostile_query_escaped(client, payload):
    ArticleFactory(title="Back spasms", body_markdown="Spasms and stretches.\n")
    response = client.get(reverse("article_search"), {"q": payload})
    assert response.status_code == 200
    html = response.content.decode()
    for raw in HTML_PAYLOADS:
        assert raw not in html


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=400))
def test_search_never_fails_on_generated_queries(client, query):
    response = client.get(reverse("article_search"), {"q": query})
    assert response.status_code == 200


# Generated text in the questionnaire and the details form --------------------------------------------------------


@hypothesis_settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(goals=st.text(max_size=600), other=st.text(max_size=400))
@example(goals=f" {SCRIPT} ", other="\u202eevil")
@example(goals=f"walk{NUL}", other="")
def test_generated_text_answers_are_kept_exactly_or_refused_with_a_message(client, goals, other):
    url = treatment_url(client)
    answers = {**NO_RED_FLAGS["treatment"], "tried": ["rest", "other"], "tried_other": other, "goals": goals}
    response = client.post(url, step_data(answers, shown=["tried_other"]))
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        stored = dict(Answer.objects.values_list("question_id", "value_text"))
        # Kept as typed, less the invisible format characters and fillers.
        assert stored.get("goals", "") == text_without_invisible_characters(goals).strip()
        assert stored.get("tried_other", "") == text_without_invisible_characters(other).strip()
    else:
        html = response.content.decode()
        assert errors_next_to(html, "id_q-goals") or errors_next_to(html, "id_q-tried_other")
        assert (
            NUL in goals + other
            or text_has_hidden_characters(goals + other)
            or len(goals.strip()) > 500
            or len(other.strip()) > 300
        )


def treatment_url(client):
    """One stored request per test; hypothesis then sends its last page again and again (each replaces the last)."""
    if not hasattr(client, "treatment_url"):
        client.treatment_url = f"{send_request(client)}treatment/"
    return client.treatment_url


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=150), reason=st.text(max_size=2100), email=st.one_of(st.just(""), st.emails(), st.text()))
@example(name=SCRIPT, reason=ATTRIBUTE_BREAK, email="")
@example(name="Ann", reason=f"pain{NUL}", email="")
def test_generated_details_save_everything_or_nothing(client, name, reason, email):
    url = details_url(client)
    before = CallbackRequest.objects.count()
    response = client.post(url, form_data(name=name, reason=reason, email=email))
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        stored = CallbackRequest.objects.order_by("-pk").first()
        assert CallbackRequest.objects.count() == before + 1
        assert stored.name == " ".join(text_without_invisible_characters(name).split())
        assert stored.reason == visible(reason)
        # The sent flow is gone from the session: the next example needs a new one.
        del client.details_url
    else:
        assert 'id="error-summary"' in response.content.decode()
        assert CallbackRequest.objects.count() == before
    assert_nothing_half_saved()


def details_url(client):
    """The details page of a finished questionnaire: walked once per test, then copied under a fresh flow id."""
    if not hasattr(client, "details_url"):
        if not hasattr(client, "finished_flow"):
            url = walk(client)["Location"]
            client.finished_flow = client.session[SESSION_FLOWS_KEY][url.split("/")[2]]
        flow = uuid.uuid4().hex
        session = client.session
        session[SESSION_FLOWS_KEY] = {flow: client.finished_flow}
        session.save()
        client.details_url = reverse("callbacks:contact", kwargs={"flow": flow})
    return client.details_url


# What staff see: escaped in the admin, absent from e-mails ---------------------------------------------------------


@pytest.mark.parametrize("payload", HTML_PAYLOADS)
def test_stored_markup_is_shown_escaped_to_staff_and_never_sent_by_email(client, payload, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    link = send_request(client, name=f"Al {payload}"[:120], reason=payload, email="al@example.org")
    prepare(client, link, text_answers(payload))
    request = CallbackRequest.objects.get()
    assert payload in request.reason and payload in request.name
    assert Answer.objects.filter(value_text=payload).count() == 8

    root = get_user_model().objects.create_superuser("root", "root@clinic.test", "x" * 20)
    staff = Client()
    staff.force_login(root)
    from callbacks.requests import workflow

    workflow.staff_note_add(request=request, text=payload, actor=root)
    pages = [
        staff.get(reverse("admin:callbacks_callbackrequest_change", args=[request.pk])),
        staff.get(reverse("admin:callbacks_callbackrequest_changelist")),
        staff.get(reverse("admin:callbacks_callbackrequest_changelist"), {"q": payload}),
        staff.get(reverse("admin:callbacks_notification_changelist")),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert payload not in html
    page = pages[0].content.decode()
    escaped = payload.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    # Shown, as text: in the name, the patient's words, each free-text answer and the note.
    assert page.count(escaped) >= 1 + 1 + 8 + 1

    for notification in Notification.objects.all():
        notification_send(notification_id=notification.pk)
    assert len(mail.outbox) == Notification.objects.count() >= 1
    for message in mail.outbox:
        text = message.subject + message.body + "".join(str(alt) for alt in getattr(message, "alternatives", []))
        for fragment in ("alert(1)", "<script", "onerror=", "<img"):
            assert fragment not in text


# PostgreSQL ----------------------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_refuses_nul_in_text_so_the_forms_must_catch_it(client):
    request = CallbackRequestFactory.build(reason=f"pain{NUL}")
    with pytest.raises((DatabaseError, ValueError)), transaction.atomic():
        request.save()
    assert connection.vendor == "postgresql"
    details = walk(client)["Location"]
    response = client.post(details, form_data(reason=f"pain{NUL}", name=f"Al{NUL}"))
    assert response.status_code == 200
    assert NUL_MESSAGE in errors_next_to(response.content.decode(), "id_reason")
    assert not CallbackRequest.objects.exists()
