"""Pages with a patient's data are never kept by the browser's cache; every page sends a Permissions-Policy."""

import re

import pytest
from django.urls import reverse

from tests.callbacks.web.test_forms import form_data
from tests.factories import ArticleFactory, CallbackRequestFactory
from tests.support.questionnaire import NO_RED_FLAGS, SCREENING_STEPS, step_data

pytestmark = pytest.mark.django_db


def assert_not_stored(response):
    assert "no-store" in response.get("Cache-Control", ""), response.get("Cache-Control")


def test_every_page_of_the_patient_flow_is_no_store(client):
    url = reverse("callbacks:request")
    assert_not_stored(client.get(url))
    for step in SCREENING_STEPS:
        response = client.post(url, step_data(NO_RED_FLAGS[step]))
        assert response.status_code == 302
        url = response["Location"]
        page = client.get(url)
        assert page.status_code == 200
        assert_not_stored(page)
    # The details page shown again with its errors carries what the patient typed.
    refused = client.post(url, form_data(name="Robin Example", phone="12"))
    assert refused.status_code == 200
    assert "Robin Example" in refused.content.decode()
    assert_not_stored(refused)
    sent = client.post(url, form_data(name="Robin Example"))
    assert sent.status_code == 302
    done = client.get(sent["Location"])
    assert "CB-" in done.content.decode()
    assert_not_stored(done)
    # The later questions, reached by the signed link, are never kept by a cache either.
    link = re.search(r'id="prepare-start" href="([^"]+)"', done.content.decode()).group(1)
    assert_not_stored(client.get(link))
    assert_not_stored(client.get(f"{link}where/"))


def test_staff_pages_with_a_request_are_no_store(admin_client):
    request = CallbackRequestFactory()
    for url in (
        reverse("admin:callbacks_callbackrequest_changelist"),
        reverse("admin:callbacks_callbackrequest_change", args=[request.pk]),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert_not_stored(response)


@pytest.mark.parametrize("path", ["/", "/articles/", "/articles/search/?q=spasm", "/privacy/", "/no-such-page/"])
def test_every_page_sends_a_permissions_policy(client, path):
    ArticleFactory()
    response = client.get(path)
    policy = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy


def test_article_page_sends_a_permissions_policy(client):
    article = ArticleFactory()
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    assert "camera=()" in response["Permissions-Policy"]
