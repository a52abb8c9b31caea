"""Delivering a staff alert to the clinic's chat webhook: reference, priority and the admin link, nothing else."""

import json
import urllib.error
import urllib.request

from callbacks.models import Notification, Priority
from callbacks.notifications.emails import admin_url_for
from callbacks.notifications.transports.errors import PermanentSendError, TransientSendError

WEBHOOK_TIMEOUT = 10


def webhook_deliver(notification: Notification) -> None:
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
