"""Texts in the admin: the request's page shows the patient's choice of texts, a relay prefix as given, and its texts
beside its e-mails; the outbox lists the channel."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Notification, TextOptOut
from callbacks.notifications.optouts import text_opt_out_record
from callbacks.requests.consent import CURRENT_TEXT_CONSENT_VERSION
from tests.factories import CallbackRequestFactory, NotificationFactory

pytestmark = pytest.mark.django_db


def page(admin_client, request):
    response = admin_client.get(reverse("admin:callbacks_callbackrequest_change", args=[request.pk]))
    assert response.status_code == 200
    return response.content.decode()


def texts_row(html):
    return re.search(r"<dt>Texts</dt><dd>(.*?)</dd>", html, re.S).group(1)


def test_the_request_page_shows_the_choice_of_texts_and_its_texts(admin_client):
    request = CallbackRequestFactory(
        phone="+447400123456", text_consent_version=CURRENT_TEXT_CONSENT_VERSION, text_consent_given_at=timezone.now()
    )
    NotificationFactory(
        request=request,
        kind=Notification.Kind.PATIENT_CONFIRMATION,
        channel=Notification.Channel.SMS,
        recipient="+447400123456",
        status="sent",
        sent_at=timezone.now(),
        provider_message_id="SM0123456789abcdef0123456789abcdef",
    )
    html = page(admin_client, request)
    assert texts_row(html).startswith("Yes, agreed ")
    assert CURRENT_TEXT_CONSENT_VERSION in texts_row(html)
    assert "Text message" in html  # the channel column of the notifications sent
    assert "SM0123456789abcdef0123456789abcdef" in html
    text_opt_out_record(phone="+447400123456", source=TextOptOut.Source.REPLY)
    assert texts_row(page(admin_client, request)).startswith("Stopped: the number replied STOP")


def test_a_landline_or_no_choice_says_so(admin_client):
    assert texts_row(page(admin_client, CallbackRequestFactory())) == "Not chosen"
    landline = CallbackRequestFactory(
        phone="+442079460123", text_consent_version=CURRENT_TEXT_CONSENT_VERSION, text_consent_given_at=timezone.now()
    )
    assert "not a mobile one" in texts_row(page(admin_client, landline))


def test_a_relay_prefix_is_dialled_as_given(admin_client):
    request = CallbackRequestFactory(phone="+447400123456", phone_relay_prefix="18001")
    html = page(admin_client, request)
    assert '<a class="triage-phone" href="tel:1800107400123456">18001 07400 123456</a>' in html
    assert "Relay UK" in html


def test_the_outbox_lists_the_channel(admin_client):
    NotificationFactory(
        kind=Notification.Kind.PATIENT_CONFIRMATION, channel=Notification.Channel.SMS, recipient="+447400123456"
    )
    html = admin_client.get(reverse("admin:callbacks_notification_changelist")).content.decode()
    assert '<td class="field-channel">Text message</td>' in html
    assert "+447400123456" not in html  # a patient's number only on the request's page
