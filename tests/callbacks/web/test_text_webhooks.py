"""Issue 25, items 2, 4 and 5: the text provider's webhooks. Signatures are computed by Twilio's own SDK
(`RequestValidator.compute_signature`) over the public address, as Twilio computes them; nothing is stored
without a valid one, and nothing posted is ever answered with a 500."""

import logging

import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from callbacks.models import InboundText, Notification, Priority, TextReceipt
from tests.factories import CallbackRequestFactory, NotificationFactory

pytestmark = pytest.mark.django_db

TOKEN = "twilio-auth-token-for-tests"
PUBLIC = "https://clinic.example.org"
INBOUND = "/texts/inbound/"
STATUS = "/texts/status/"
SID = "SM" + "a" * 32
OTHER_SID = "SM" + "b" * 32
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response />'


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.SMS_WEBHOOK_BASE_URL = PUBLIC


def signed_post(client, path, params, *, url=None, token=TOKEN):
    """Post as Twilio does: the signature of the public address (path and query) and the form parameters."""
    signature = RequestValidator(token).compute_signature(url or PUBLIC + path, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def inbound(body="Thanks, see you then", sid=SID, phone="+447400123456"):
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "To": "+441234567890",
        "Body": body,
        "NumMedia": "0",
    }


def test_a_signed_text_is_stored_and_answered_with_empty_twiml(client):
    request = CallbackRequestFactory(phone="+447400123456")
    response = signed_post(client, INBOUND, inbound())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode() == TWIML
    [text] = InboundText.objects.all()
    assert (text.provider_sid, text.from_phone, text.body, text.request) == (
        SID,
        "+447400123456",
        "Thanks, see you then",
        request,
    )


@pytest.mark.parametrize(
    "how",
    ["missing", "another token", "another address", "a changed body", "another path"],
)
def test_without_a_valid_signature_nothing_is_stored_and_the_answer_is_403(client, how):
    params = inbound()
    if how == "missing":
        response = client.post(INBOUND, params)
    elif how == "another token":
        response = signed_post(client, INBOUND, params, token="not-the-token")
    elif how == "another address":
        response = signed_post(client, INBOUND, params, url="https://attacker.example" + INBOUND)
    elif how == "a changed body":
        signature = RequestValidator(TOKEN).compute_signature(PUBLIC + INBOUND, params)
        response = client.post(INBOUND, {**params, "Body": "X"}, HTTP_X_TWILIO_SIGNATURE=signature)
    else:
        response = signed_post(client, INBOUND, params, url=PUBLIC + STATUS)
    assert response.status_code == 403
    assert not InboundText.objects.exists()


def test_the_signature_is_checked_against_the_public_address_not_the_one_behind_the_proxy(client, settings):
    # Behind nginx this process sees http://web:8000/...; Twilio signed https://clinic.example.org/...
    response = signed_post(client, INBOUND, inbound(), url="http://testserver" + INBOUND)
    assert response.status_code == 403
    settings.SMS_WEBHOOK_BASE_URL = "http://testserver"
    assert signed_post(client, INBOUND, inbound(), url="http://testserver" + INBOUND).status_code == 200


def test_without_an_auth_token_every_post_is_refused(client, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    assert signed_post(client, INBOUND, inbound(), token="").status_code == 403
    assert not InboundText.objects.exists()


def test_only_post(client):
    assert client.get(INBOUND).status_code == 405
    assert client.get(STATUS).status_code == 405


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"MessageSid": "nonsense", "From": "+447400123456", "Body": "hi"},
        {"MessageSid": SID, "From": "<script>", "Body": "hi"},
        {"MessageSid": SID, "From": "+447400123456", "Body": "x" * 1601},
        {"MessageSid": SID + "0", "From": "+447400123456", "Body": "hi"},
    ],
)
def test_signed_nonsense_is_a_400_not_a_500_and_stores_nothing(client, params):
    assert signed_post(client, INBOUND, params).status_code == 400
    assert not InboundText.objects.exists()


def test_the_providers_retry_of_a_text_is_stored_once(client):
    CallbackRequestFactory(phone="+447400123456")
    for _ in range(3):
        assert signed_post(client, INBOUND, inbound()).status_code == 200
    assert InboundText.objects.count() == 1


def test_no_words_or_number_of_a_text_in_the_logs(client, caplog):
    CallbackRequestFactory(phone="+447400123456")
    with caplog.at_level(logging.DEBUG):
        signed_post(client, INBOUND, inbound("my legs feel numb and heavy"))
    assert "numb" not in caplog.text and "7400123456" not in caplog.text
    assert f"text {InboundText.objects.get().pk} received" in caplog.text


# Receipts ----------------------------------------------------------------------------------------------------


def receipt(status, sid=SID, error=""):
    params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "AccountSid": "AC" + "0" * 32}
    if error:
        params["ErrorCode"] = error
    return params


def sms(**fields):
    return NotificationFactory(
        kind=Notification.Kind.PATIENT_CONFIRMATION,
        channel=Notification.Channel.SMS,
        recipient="+447400123456",
        **fields,
    )


def test_a_signed_receipt_is_stored_on_its_message(client):
    text = sms(provider_message_id=SID)
    response = signed_post(client, STATUS, receipt("delivered"))
    assert response.status_code == 200 and response.content.decode() == TWIML
    [stored] = TextReceipt.objects.all()
    assert (stored.notification, stored.status) == (text, "delivered")
    text.refresh_from_db()
    assert text.delivery_status == "delivered"


def test_a_receipt_that_overtakes_the_worker_finds_its_message_by_our_id_in_the_signed_address(client):
    text = sms()  # the worker has not recorded Twilio's id yet
    path = f"{STATUS}?message=notification-{text.pk}"
    assert signed_post(client, path, receipt("sent"), url=PUBLIC + path).status_code == 200
    assert TextReceipt.objects.get().notification == text
    # The query is part of what Twilio signs: another id in the address is refused.
    forged = f"{STATUS}?message=notification-{text.pk + 1}"
    assert signed_post(client, forged, receipt("delivered"), url=PUBLIC + path).status_code == 403


def test_a_receipt_without_a_signature_stores_nothing(client):
    sms(provider_message_id=SID)
    assert client.post(STATUS, receipt("failed", error="30003")).status_code == 403
    assert not TextReceipt.objects.exists()


def test_statuses_we_do_not_keep_are_acknowledged_and_ignored(client):
    sms(provider_message_id=SID)
    for status in ("accepted", "sending", "read", "receiving"):
        assert signed_post(client, STATUS, receipt(status)).status_code == 200
    assert not TextReceipt.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"MessageSid": SID, "MessageStatus": "<b>"},
        {"MessageSid": "x", "MessageStatus": "sent"},
        {"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "12345678901"},
    ],
)
def test_signed_nonsense_receipts_are_a_400(client, params):
    assert signed_post(client, STATUS, params).status_code == 400
    assert not TextReceipt.objects.exists()


def test_the_same_receipt_twice_is_one_row(client):
    sms(provider_message_id=SID)
    for _ in range(2):
        assert signed_post(client, STATUS, receipt("delivered")).status_code == 200
    assert TextReceipt.objects.count() == 1
    assert signed_post(client, STATUS, receipt("delivered", sid=OTHER_SID)).status_code == 200
    assert TextReceipt.objects.count() == 2


def test_a_text_sent_through_the_sdk_gets_its_receipts_at_the_address_it_carried(client, settings):
    """The whole way: the outbox sends a text with Twilio's SDK (to the fake on loopback), which records the
    StatusCallback address our text carried; then Twilio's receipts come to that address, signed, the
    "undelivered" one twice. One row per status, one alert to staff (an urgent patient)."""
    from django.core import mail

    from callbacks.notifications.delivery import text_send
    from callbacks.requests.consent import CURRENT_TEXT_CONSENT_VERSION
    from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

    with FakeTwilio() as fake:
        settings.SMS_BACKEND = "twilio"
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
        settings.TWILIO_FROM_NUMBER, settings.TWILIO_API_BASE_URL = FROM_NUMBER, fake.url
        settings.SMS_STATUS_CALLBACK_URL = PUBLIC + STATUS
        settings.CLINIC_TEXT_QUIET_HOURS = ""
        request = CallbackRequestFactory(
            phone="+447400123456",
            priority=Priority.URGENT,
            text_consent_version=CURRENT_TEXT_CONSENT_VERSION,
            text_consent_given_at=timezone.now(),
        )
        text = Notification.objects.create(
            request=request,
            kind=Notification.Kind.PATIENT_CONFIRMATION,
            channel=Notification.Channel.SMS,
            recipient="+447400123456",
        )
        assert text_send(notification_id=text.pk) == "sent"
        [message] = fake.messages
    callback = message["_status_callback"]
    path = callback.removeprefix(PUBLIC)
    params = {"MessageSid": message["sid"], "AccountSid": ACCOUNT_SID, "To": "+447400123456"}
    for status in ("queued", "sent", "undelivered", "undelivered"):
        signature = RequestValidator(AUTH_TOKEN).compute_signature(
            callback, {**params, "MessageStatus": status, "ErrorCode": "30003" if status == "undelivered" else ""}
        )
        response = client.post(
            path,
            {**params, "MessageStatus": status, "ErrorCode": "30003" if status == "undelivered" else ""},
            HTTP_X_TWILIO_SIGNATURE=signature,
        )
        assert response.status_code == 200
    text.refresh_from_db()
    assert text.delivery_status == "undelivered"
    assert list(text.receipts.values_list("status", flat=True)) == ["queued", "sent", "undelivered"]
    [alert] = Notification.objects.filter(kind=Notification.Kind.TEXT_FAILED)
    assert alert.failed_text == text
    assert mail.outbox == []  # queued after commit, sent by the worker
