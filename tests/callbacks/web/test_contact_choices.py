"""The details page's choice of channels: texts ticked by default, recorded like the data consent, e-mail optional;
a UK text-relay prefix accepted and kept as given."""

import re

import pytest

from callbacks.models import Notification
from callbacks.requests.consent import CURRENT_TEXT_CONSENT_VERSION, text_consent_hint, text_consent_label
from callbacks.requests.phone import phone_relay_split, phone_to_dial
from callbacks.web.forms import CallbackRequestForm
from tests.callbacks.web.test_forms import form_data
from tests.callbacks.web.test_intake_flow import complete_questionnaire, send_request

pytestmark = pytest.mark.django_db


def test_texts_are_offered_ticked_with_what_they_carry_as_a_hint(client):
    html = client.get(complete_questionnaire(client)).content.decode()
    box = re.search(r'<input type="checkbox" name="texts"[^>]*>', html).group(0)
    assert "checked" in box
    label = re.search(r'<label[^>]*for="id_texts"[^>]*>\s*(.*?)\s*(?:<span|</label>)', html, re.S).group(1)
    assert label == text_consent_label() == "Send me text messages about my request"
    hint_id = re.search(r'aria-describedby="([^"]+)"', box).group(1).split()[0]
    hint = re.search(rf'id="{hint_id}"[^>]*>(.*?)</', html, re.S).group(1)
    assert text_consent_hint() in hint and "Reply STOP" in hint


def test_a_patient_who_keeps_texts_has_the_wording_and_time_recorded_and_is_texted(
    client, django_capture_on_commit_callbacks
):
    request, _ = send_request(client, django_capture_on_commit_callbacks, texts="on")
    assert request.text_consent_version == CURRENT_TEXT_CONSENT_VERSION
    assert request.text_consent_given_at == request.consent_given_at
    assert request.notifications.filter(kind=Notification.Kind.PATIENT_CONFIRMATION, channel="sms").exists()


def test_a_patient_who_unticks_texts_gets_none(client, django_capture_on_commit_callbacks):
    request, _ = send_request(client, django_capture_on_commit_callbacks)
    assert (request.text_consent_version, request.text_consent_given_at) == ("", None)
    assert not request.notifications.filter(channel="sms").exists()


@pytest.mark.parametrize("value", ["no", "false", "0", ""])
def test_only_a_ticked_box_means_texts(value):
    form = CallbackRequestForm(form_data(texts=value))
    assert form.is_valid(), form.errors
    assert form.contact_choices()["text_consent_version"] == ""


@pytest.mark.parametrize(
    ("typed", "prefix", "stored", "dialled"),
    [
        ("18001 07400 123456", "18001", "+447400123456", "18001 07400 123456"),
        ("18002 07400123456", "18002", "+447400123456", "18002 07400 123456"),
        ("18001-020 7946 0123", "18001", "+442079460123", "18001 020 7946 0123"),
        ("07400 123456", "", "+447400123456", "+447400123456"),
    ],
)
def test_a_text_relay_prefix_is_accepted_and_kept_as_given(typed, prefix, stored, dialled):
    form = CallbackRequestForm(form_data(phone=typed))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone"] == stored
    assert form.contact_choices()["phone_relay_prefix"] == prefix
    assert phone_to_dial(stored, prefix) == dialled


def test_a_number_that_only_starts_like_a_prefix_keeps_its_digits():
    assert phone_relay_split("+1 800 123 4567", region="US") == ("", "+1 800 123 4567")
    assert phone_relay_split("18001234567", region="US") == ("", "18001234567")


def test_the_relay_prefix_is_stored_on_the_request(client, django_capture_on_commit_callbacks):
    request, _ = send_request(client, django_capture_on_commit_callbacks, phone="18001 07400 123456", texts="on")
    assert (request.phone_relay_prefix, str(request.phone)) == ("18001", "+447400123456")
    # Texts go to the number itself: Relay UK is for calls.
    assert request.notifications.get(channel="sms").recipient == "+447400123456"
