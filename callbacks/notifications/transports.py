"""The notification outbox: rows written with the request, sent by a Celery worker, never lost, never sent twice.

Guarantees (docs/RELIABILITY.md shows how the tests prove them):
- a notification row is committed in the same transaction as the request it announces;
- only its id travels through the broker; a failed publish leaves the row pending for the beat job;
- sending happens while the row is locked, and a row that is no longer pending is never sent again.
"""

import json
import logging
import smtplib
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from callbacks.models import CallbackRequest, Notification, Priority
from callbacks.notifications.routing import admin_url_for

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


def _email_message(notification: Notification) -> EmailMessage:
    request = notification.request
    context = {
        "request": request,
        "notification": notification,
        "admin_url": admin_url_for(request),
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "emergency_number": settings.CLINIC_EMERGENCY_NUMBER,
        "urgent_advice_number": settings.CLINIC_URGENT_ADVICE_NUMBER,
        "time_zone": settings.TIME_ZONE,
    }
    if request.kind == CallbackRequest.Kind.BOOKING:
        from callbacks.booking.emails import booking_email_context  # booking imports the outbox

        context.update(booking_email_context(notification))
    template = f"callbacks/email/{notification.kind}"
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}_body.txt", context)
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    # A fixed Message-ID per row: should a crash ever repeat a send, mail systems can see it is the same message.
    headers = {"Message-ID": f"<notification-{notification.pk}@{domain}>"}
    message = EmailMessage(subject, body, to=[notification.recipient], headers=headers)
    if context.get("ics"):
        message.attach("appointment.ics", context["ics"], "text/calendar")
    return message


def _deliver_email(notification: Notification) -> None:
    message = _email_message(notification)
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
