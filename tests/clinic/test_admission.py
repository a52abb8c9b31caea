"""Past what the site can answer in time (clinic/admission.py), a new patient gets the busy page at once, while a
patient already filling in a form is served and nothing they send is turned away."""

import time
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from prometheus_client.parser import text_string_to_metric_families

from callbacks.models import Service
from clinic.admission import turned_away_total
from intake.models import QuestionnaireResponse
from intake.selectors import BACK_PAIN, definition_current
from tests.support.questionnaire import NO_RED_FLAGS, SCREENING_STEPS, step_data

pytestmark = pytest.mark.django_db

START = reverse("callbacks:request")
TOKEN = "scrape-token"


@pytest.fixture(autouse=True)
def _behind_a_proxy(settings):
    settings.CLINIC_PROXY_COUNT = 1
    settings.CLINIC_BUSY_WAIT_MS = 500


def stamped(waited_seconds: float) -> dict:
    """The header nginx adds: the moment it handed the request on, `waited_seconds` ago."""
    return {"HTTP_X_REQUEST_START": f"t={time.time() - waited_seconds:.3f}"}


def assert_busy_page(response, settings):
    assert response.status_code == 503
    page = response.content.decode()
    assert "We are very busy: please try again in a moment" in page
    assert f'href="{response.wsgi_request.get_full_path()}"' in page  # "Try again" comes back here
    assert "call us on <a" in page and f">{settings.CLINIC_PHONE}</a>" in page
    # Turned away before the safety questions: every one of them is on the page, with what to do now and today.
    definition = definition_current(BACK_PAIN)
    for question_id in NO_RED_FLAGS["safety"]:
        assert escape(definition.question(question_id).text) in page, question_id
    assert "Call <a" in page and f">{settings.CLINIC_EMERGENCY_NUMBER}</a> now" in page
    assert "ask your GP surgery for an urgent appointment" in page
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies, "the busy page starts no session and sets no CSRF cookie"


def test_a_new_patient_who_waited_too_long_for_a_worker_gets_the_busy_page(settings, caplog):
    before = turned_away_total()
    response = Client().get(START, **stamped(0.8))
    assert_busy_page(response, settings)
    assert turned_away_total() == before + 1
    assert "a new journey was asked to come back (waited 8" in caplog.text
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


@pytest.mark.parametrize(
    "waited",
    [
        pytest.param(0.3, id="waited-less-than-the-limit"),
        pytest.param(None, id="no-stamp"),
        pytest.param("t=soon", id="unreadable-stamp"),
        pytest.param(-5, id="stamp-in-the-future"),
        pytest.param(3600, id="stamp-older-than-the-proxy-waits"),
    ],
)
def test_otherwise_the_new_patient_gets_the_form(waited):
    headers = {"HTTP_X_REQUEST_START": waited} if isinstance(waited, str) else stamped(waited) if waited else {}
    before = turned_away_total()
    response = Client().get(START, **headers)
    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()
    assert turned_away_total() == before


def test_without_a_proxy_the_stamp_is_not_trusted(settings):
    settings.CLINIC_PROXY_COUNT = 0
    assert Client().get(START, **stamped(5)).status_code == 200


def test_a_limit_of_zero_turns_nobody_away(settings):
    settings.CLINIC_BUSY_WAIT_MS = 0
    assert Client().get(START, **stamped(5)).status_code == 200


def test_a_patient_already_under_way_is_never_turned_away():
    """Their answers are sent and their next page is shown, however long they waited for a worker."""
    patient = Client()
    patient.get(START)
    path = START
    for step in SCREENING_STEPS:
        sent = patient.post(path, step_data(NO_RED_FLAGS[step]), **stamped(5))
        assert sent.status_code == 302, step
        path = sent["Location"]
        assert patient.get(path, **stamped(5)).status_code == 200
    assert "/your-details/" in path


def test_a_browser_with_a_session_is_let_through():
    """A patient part-way through (their answers in the session) who looks at the diary again ("Change time" on
    the details page) or goes back to the first page is not a new start."""
    patient = Client()
    patient.get(START)
    assert patient.post(START, step_data(NO_RED_FLAGS["safety"])).status_code == 302
    service = Service.objects.create(name="Initial assessment", duration_minutes=45)
    diary = reverse("callbacks:booking_slots", kwargs={"service": service.pk})
    assert patient.get(diary + "?flow=abc&week=1", **stamped(5)).status_code == 200
    assert patient.get(START, **stamped(5)).status_code == 200


def test_red_flags_sent_while_the_site_is_behind_get_the_emergency_advice():
    patient = Client()
    patient.get(START)
    sent = patient.post(START, step_data({**NO_RED_FLAGS["safety"], "bladder_bowel_control": "yes"}), **stamped(5))
    assert sent.status_code == 302
    assert "/get-help-now/" in sent["Location"]
    assert patient.get(sent["Location"], **stamped(5)).status_code == 200
    assert not QuestionnaireResponse.objects.exists()  # nothing stored half-way by the busy check


def test_the_booking_diary_is_where_a_booking_begins(settings):
    service = Service.objects.create(name="Initial assessment", duration_minutes=45)
    diary = reverse("callbacks:booking_slots", kwargs={"service": service.pk}) + "?week=1"
    assert_busy_page(Client().get(diary, **stamped(2)), settings)
    assert Client().get(diary, **stamped(0.1)).status_code == 200


def test_the_operator_sees_the_count_on_metrics(client, settings):
    settings.METRICS_TOKEN = TOKEN
    for _ in range(3):
        Client().get(START, **stamped(1))
    families = text_string_to_metric_families(
        client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    )
    (family,) = [family for family in families if family.name == "clinic_new_journeys_turned_away"]
    assert family.type == "counter"
    assert family.samples[0].value == turned_away_total() >= 3


def test_a_count_the_cache_cannot_give_is_not_exported_as_zero(client, settings):
    """Prometheus would read N, 0, N as a reset and count N turn-aways again (a false page)."""
    settings.METRICS_TOKEN = TOKEN
    with mock.patch("clinic.admission.cache") as down:
        down.get.return_value = None  # the shared cache answers a failed read as a miss
        down.add.return_value = False  # ... and a failed write as "not added"
        body = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    assert "clinic_new_journeys_turned_away" not in body
    assert "clinic_requests_open" in body  # the rest of the figures are still there
