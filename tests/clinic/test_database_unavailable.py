"""When the database does not answer (a restart, a failover), a patient gets "please try again in a moment" with
what they sent kept in the page, never a bare 500; "Try again" sends it once more and it is stored once."""

import re
from html import unescape
from unittest import mock

import pytest
from django.db import IntegrityError, OperationalError
from django.test import Client, RequestFactory
from django.urls import reverse

from callbacks.models import CallbackRequest
from clinic.errors import database_unavailable
from tests.callbacks.web.test_forms import form_data
from tests.callbacks.web.test_intake_flow import complete_questionnaire
from tests.support.questionnaire import NO_RED_FLAGS, step_data

pytestmark = pytest.mark.django_db

DOWN = OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")


@pytest.fixture
def patient():
    return Client(raise_request_exception=False)


def hidden_fields(html: str) -> list[tuple[str, str]]:
    return [
        (unescape(name), unescape(value))
        for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', html)
    ]


def test_a_details_page_sent_while_the_database_is_down_is_kept_and_sent_again_once(patient, caplog):
    details_url = complete_questionnaire(patient)
    data = form_data(name="Ada <Lovelace> & Co", reason='Spasm "again"')
    with mock.patch("callbacks.web.callback.flow_load", side_effect=DOWN):
        response = patient.post(details_url, data)
    assert response.status_code == 503
    assert response["Retry-After"] == "10" and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert "Please try again in a moment" in page and "Nothing was lost" in page
    assert f'action="{details_url}"' in page
    kept = hidden_fields(page)
    assert ("name", "Ada <Lovelace> & Co") in kept and ("reason", 'Spasm "again"') in kept
    assert 'href="tel:999"' in page, "the emergency advice is on the page"
    assert CallbackRequest.objects.count() == 0
    # The database is back: "Try again" sends the same fields to the same address.
    patient.raise_request_exception = True
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        again = patient.post(details_url, dict(_as_lists(kept)))
    assert again.status_code == 302 and again["Location"] == reverse("callbacks:done")
    assert CallbackRequest.objects.get().name == "Ada <Lovelace> & Co"
    # The log names the route, never what was typed.
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "database unavailable: POST" in logged and "Lovelace" not in logged


def _as_lists(pairs):
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    return grouped


def test_a_questionnaire_step_keeps_every_answer_and_every_value_of_a_repeated_field(patient):
    data = step_data(NO_RED_FLAGS["safety"], shown=["urine_trouble", "both_legs"])
    with mock.patch("callbacks.web.callback.flow_save", side_effect=DOWN):
        response = patient.post(reverse("callbacks:request"), data)
    assert response.status_code == 503
    kept = hidden_fields(response.content.decode())
    assert [value for name, value in kept if name == "shown"] == ["urine_trouble", "both_legs"]
    assert {name: value for name, value in kept if name.startswith("q-")} == {
        key: value for key, value in data.items() if key.startswith("q-")
    }


def test_a_page_read_while_the_database_is_down_asks_to_reload_it(patient):
    url = complete_questionnaire(patient)  # the details page: its flow is read from the session, in the database
    with mock.patch("callbacks.web.callback.flow_load", side_effect=DOWN):
        response = patient.get(url)
    assert response.status_code == 503
    page = response.content.decode()
    assert "Reload the page" in page and f'href="{url}"' in page and "<form" not in page
    assert patient.get(url).status_code == 200, "back at once when the database is"


def test_any_other_failure_is_still_the_plain_500(patient):
    details_url = complete_questionnaire(patient)
    with mock.patch("callbacks.web.callback.flow_load", side_effect=RuntimeError("bug")):
        response = patient.post(details_url, form_data())
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_a_bug_in_the_database_layer_is_not_called_a_restart(patient):
    details_url = complete_questionnaire(patient)
    with mock.patch("callbacks.web.callback.flow_load", side_effect=IntegrityError("duplicate key")):
        response = patient.post(details_url, form_data())
    assert response.status_code == 500 and "Try again" not in response.content.decode()


def test_a_password_or_a_code_is_never_written_into_the_page(patient, settings):
    details_url = complete_questionnaire(patient)
    with mock.patch("callbacks.web.callback.flow_load", side_effect=DOWN):
        response = patient.post(details_url, {**form_data(), "password": "hunter2", "otp_token": "424242"})
    page = response.content.decode()
    assert response.status_code == 503 and "hunter2" not in page and "424242" not in page
    assert ("name", form_data()["name"]) in hidden_fields(page)
    # A staff sign-in while the database is down: the plain "reload" page, nothing of what was sent.
    staff = database_unavailable(
        RequestFactory().post(f"/{settings.ADMIN_URL_PATH}login/", {"username": "jo", "password": "hunter2"})
    )
    page = staff.content.decode()
    assert staff.status_code == 503 and "hunter2" not in page and '"jo"' not in page and "<form" not in page
