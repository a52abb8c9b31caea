"""Delivering one message: by e-mail (SMTP) or to a webhook, with failures sorted into worth-retrying or not."""

import json
import logging
import smtplib
import urllib.error
import urllib.request

from callbacks.models import Notification, Priority
from callbacks.notifications.emails import admin_url_for, notification_email

logger = logging.getLogger(__name__)

WEBHOOK_TIMEOUT = 10


class TransientSendError(Exception):
    """Worth trying again later: a server down, a timeout, a 4xx SMTP reply, an HTTP 5xx."""


class PermanentSendError(Exception):
    """Will fail the same way every time: a refused recipient, an HTTP 4xx."""


def error_describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def notification_deliver(notification: Notification) -> None:
    if notification.channel == Notification.Channel.WEBHOOK:
        _deliver_webhook(notification)
    else:
        _deliver_email(notification)


def _deliver_email(notification: Notification) -> None:
    message = notification_email(notification)
    try:
        message.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if all(code >= 500 for code in codes):
            raise PermanentSendError(f"recipient refused ({codes})") from exc
        raise TransientSendError(f"recipient deferred ({codes})") from exc
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500:
            raise PermanentSendError(f"SMTP {exc.smtp_code}") from exc
        raise TransientSendError(f"SMTP {exc.smtp_code}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientSendError(type(exc).__name__) from exc


def _deliver_webhook(notification: Notification) -> None:
    request = notification.request
    body = json.dumps(
        {
            "reference": request.reference,
            "priority": Priority(request.priority).label,
            "admin_url": admin_url_for(request),
        }
    ).encode()
    # The URL is an operator's setting, checked to be http(s) at start-up (settings.py).
    http_request = urllib.request.Request(  # noqa: S310
        notification.recipient, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(http_request, timeout=WEBHOOK_TIMEOUT):  # noqa: S310
            return
    except urllib.error.HTTPError as exc:
        if exc.code == 429 or exc.code >= 500:
            raise TransientSendError(f"HTTP {exc.code}") from exc
        raise PermanentSendError(f"HTTP {exc.code}") from exc
    except OSError as exc:
        raise TransientSendError(type(exc).__name__) from exc
