"""Delivering one message by its channel: e-mail (`email`), a chat webhook (`webhook`) or a text message through
the configured provider (`sms`), with failures sorted into worth-retrying or not (`errors`)."""

from callbacks.models import Notification
from callbacks.notifications.transports.email import email_deliver
from callbacks.notifications.transports.errors import PermanentSendError, TransientSendError, error_describe
from callbacks.notifications.transports.webhook import WEBHOOK_TIMEOUT, webhook_deliver

__all__ = [
    "WEBHOOK_TIMEOUT",
    "PermanentSendError",
    "TransientSendError",
    "error_describe",
    "notification_deliver",
]


def notification_deliver(notification: Notification) -> None:
    """Send an e-mail or webhook row. Text messages are sent by `callbacks.notifications.delivery`, which asks the
    provider first whether an earlier attempt's text went out."""
    if notification.channel == Notification.Channel.WEBHOOK:
        webhook_deliver(notification)
    elif notification.channel == Notification.Channel.EMAIL:
        email_deliver(notification)
    else:
        raise ValueError(f"{notification.channel!r} is not sent by notification_deliver")
