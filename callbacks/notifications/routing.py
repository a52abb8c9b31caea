"""The notification outbox: rows written with the request, sent by a Celery worker, never lost, never sent twice.

Guarantees (docs/RELIABILITY.md shows how the tests prove them):
- a notification row is committed in the same transaction as the request it announces;
- only its id travels through the broker; a failed publish leaves the row pending for the beat job;
- sending happens while the row is locked, and a row that is no longer pending is never sent again.
"""

import logging

from django.conf import settings
from django.urls import reverse

from callbacks.models import CallbackRequest, Notification, Priority

logger = logging.getLogger(__name__)


def staff_address_for(priority: int) -> str:
    if priority in (Priority.EMERGENCY, Priority.URGENT):
        return settings.CLINIC_URGENT_EMAIL
    return settings.CLINIC_FRONT_DESK_EMAIL


def notifications_for_new_request(request: CallbackRequest) -> list[Notification]:
    """The outbox rows a new request needs; call inside the transaction that saves the request."""
    rows = [
        Notification(
            request=request,
            kind=Notification.Kind.STAFF_NEW_REQUEST,
            channel=Notification.Channel.EMAIL,
            recipient=staff_address_for(request.priority),
        )
    ]
    if request.priority in (Priority.EMERGENCY, Priority.URGENT) and settings.CLINIC_URGENT_WEBHOOK_URL:
        rows.append(
            Notification(
                request=request,
                kind=Notification.Kind.STAFF_NEW_REQUEST,
                channel=Notification.Channel.WEBHOOK,
                recipient=settings.CLINIC_URGENT_WEBHOOK_URL,
            )
        )
    if request.email and settings.CLINIC_PATIENT_CONFIRMATION_EMAIL:
        rows.append(
            Notification(
                request=request,
                kind=Notification.Kind.PATIENT_CONFIRMATION,
                channel=Notification.Channel.EMAIL,
                recipient=request.email,
            )
        )
    return Notification.objects.bulk_create(rows)


def admin_url_for(request: CallbackRequest) -> str:
    return settings.SITE_URL + reverse("admin:callbacks_callbackrequest_change", args=[request.pk])
