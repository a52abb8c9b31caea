"""Texts through Twilio's Programmable Messaging API, with Twilio's own SDK (`twilio`).

Twilio takes no idempotency key on a new message. So the message's StatusCallback address carries our id, and
before a text whose earlier attempt has no recorded outcome is sent again, Twilio's list of messages to that
number is read for one with the same body created since that attempt (`find_sent`). docs/RELIABILITY.md says where
that guarantee ends.
"""

import datetime as dt

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from callbacks.notifications.transports.errors import PermanentSendError, TransientSendError

TWILIO_API = "https://api.twilio.com"
# How many of the newest messages to the number are read when looking for an earlier attempt's text.
FIND_SENT_LOOKBACK = 50


def sms_status_callback_url(message_id: str) -> str:
    """Where the provider reports the text's delivery (its receipts): SMS_STATUS_CALLBACK_URL with our message id
    added; empty when no public address is set."""
    base = settings.SMS_STATUS_CALLBACK_URL
    if not base:
        return ""
    return f"{base}{'&' if '?' in base else '?'}message={message_id}"


class _BaseUrlHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, pointed at TWILIO_API_BASE_URL (Twilio's by default; the tests' fake on loopback)."""

    def __init__(self, *, base_url: str, timeout: float):
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if self.base_url != TWILIO_API and url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


class TwilioSmsProvider:
    name = "twilio"

    def __init__(self, *, account_sid: str, auth_token: str, sender: str, base_url: str, timeout: float):
        self.client = Client(
            account_sid, auth_token, http_client=_BaseUrlHttpClient(base_url=base_url, timeout=timeout)
        )
        self.sender = sender

    @classmethod
    def from_settings(cls) -> "TwilioSmsProvider":
        return cls(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            sender=settings.TWILIO_MESSAGING_SERVICE_SID or settings.TWILIO_FROM_NUMBER,
            base_url=settings.TWILIO_API_BASE_URL,
            timeout=settings.SMS_TIMEOUT,
        )

    def _sender_args(self) -> dict:
        if self.sender.startswith("MG"):
            return {"messaging_service_sid": self.sender}
        return {"from_": self.sender}

    def send(self, *, to: str, body: str, our_message_id: str) -> str:
        arguments = {"to": to, "body": body, **self._sender_args()}
        callback = sms_status_callback_url(our_message_id)
        if callback:
            arguments["status_callback"] = callback
        try:
            message = self.client.messages.create(**arguments)
        except TwilioRestException as exc:
            raise _error_sort(exc) from exc
        except requests.RequestException as exc:
            # A timeout after the request left may come after Twilio took the text: the next attempt asks first.
            raise TransientSendError(type(exc).__name__) from exc
        return message.sid

    def find_sent(self, *, to: str, body: str, our_message_id: str, since: dt.datetime) -> str | None:
        try:
            # Newest first. Not filtered by DateSent: a text Twilio took but has not sent yet has none.
            messages = self.client.messages.list(to=to, limit=FIND_SENT_LOOKBACK, page_size=FIND_SENT_LOOKBACK)
        except TwilioRestException as exc:
            raise _error_sort(exc) from exc
        except requests.RequestException as exc:
            raise TransientSendError(type(exc).__name__) from exc
        for message in messages:
            if message.body == body and (message.date_created is None or message.date_created >= since):
                return message.sid
        return None


def _error_sort(exc: TwilioRestException) -> Exception:
    """Twilio's 429 and 5xx are worth another try; any other refusal (a bad or unsubscribed number: 21211,
    21610) will be the same next time."""
    description = f"Twilio HTTP {exc.status}" + (f" error {exc.code}" if exc.code else "")
    if exc.status == 429 or exc.status >= 500:
        return TransientSendError(description)
    return PermanentSendError(description)
