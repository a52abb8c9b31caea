"""The privacy notice says what is kept, why, for how long, and how to get a copy or have it deleted."""

import hashlib

import pytest
from django.urls import reverse

from callbacks.models import CallbackRequest
from callbacks.requests.consent import CURRENT_CONSENT_VERSION, consent_text
from tests.callbacks.web.test_forms import form_data
from tests.callbacks.web.test_intake_flow import complete_questionnaire

pytestmark = pytest.mark.django_db


def test_the_notice_gives_the_retention_period_the_contact_and_every_consent_wording(client, settings):
    settings.CLINIC_RETENTION_DAYS = 90
    settings.CLINIC_PRIVACY_EMAIL = "dpo@clinic.test"
    html = client.get(reverse("callbacks:privacy")).content.decode()
    for expected in ("What we keep", "Why we keep it", "How long we keep it", "Your rights", "90 days"):
        assert expected in html
    assert 'href="mailto:dpo@clinic.test"' in html
    assert f"Version {CURRENT_CONSENT_VERSION} (current)" in html
    assert consent_text(CURRENT_CONSENT_VERSION) in html


def test_every_page_links_to_the_notice_and_the_consent_box_points_to_it(client):
    assert reverse("callbacks:privacy") in client.get(reverse("home")).content.decode()
    form_page = client.get(complete_questionnaire(client)).content.decode()
    assert form_page.count(f'href="{reverse("callbacks:privacy")}"') >= 2  # footer and consent box


def test_a_request_records_the_version_time_and_hash_of_the_wording_agreed_to(client):
    client.post(complete_questionnaire(client), form_data())
    request = CallbackRequest.objects.get()
    assert request.consent_version == CURRENT_CONSENT_VERSION
    assert request.consent_text_sha256 == hashlib.sha256(consent_text().encode()).hexdigest()
    assert request.consent_given_at is not None
