"""Delivering an e-mail through Django's mail backend (SMTP in production, files under var/mail for `make run`)."""

import smtplib

from callbacks.models import Notification
from callbacks.notifications.emails import notification_email
from callbacks.notifications.transports.errors import PermanentSendError, TransientSendError


def email_deliver(notification: Notification) -> None:
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
