"""Delivery receipts for the texts we sent: stored per message, counted once, acted on once.

Guarantees:
- a receipt (message, status) is one row however often the provider sends it (a unique constraint; the
  message's outbox row is locked while a receipt is recorded, so two copies arriving together queue up);
- the message's outbox row keeps its latest delivery status: receipts can arrive out of order ("delivered"
  before "sent"), so a status only ever moves forward (queued, then sent, then a final one);
- a text to the patient of an emergency or urgent request that the provider reports failed or undelivered
  alerts staff at the urgent address, once per message (only the first final status of a message can), in the
  urgent lane; so does one the provider refuses on the send call itself (`text_refused_alert`, called by
  `callbacks.notifications.delivery`: Twilio's 21610 after STOP, 21211 for an invalid number).
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from callbacks.models import Notification, TextReceipt
from callbacks.notifications.outbox import notifications_enqueue_on_commit
from callbacks.notifications.routing import notification_goes_to_patient, text_failed_recipient
from callbacks.rules.requests import priority_is_urgent

logger = logging.getLogger(__name__)

Status = TextReceipt.Status

# How far along a message is: a receipt never moves its message back.
STATUS_RANK = {Status.QUEUED: 0, Status.SENT: 1, Status.DELIVERED: 2, Status.UNDELIVERED: 2, Status.FAILED: 2}
FAILED_STATUSES = frozenset({Status.FAILED, Status.UNDELIVERED})


def receipt_status_known(status: str) -> bool:
    """Whether ``status`` is one we store (the provider also reports others, such as "accepted" or "sending")."""
    return status in STATUS_RANK


@transaction.atomic
def text_receipt_record(
    *, provider_message_id: str, status: str, error_code: str = "", notification_id: int | None = None
) -> TextReceipt | None:
    """Store the provider's receipt ``status`` for the message ``provider_message_id`` and act on it once.

    The message is our outbox row with that provider id; or, when the worker has not recorded the provider's id
    yet (a receipt can overtake it), the row ``notification_id`` that the receipt's address names.
    Returns the stored receipt (the earlier row when it was stored before), or None for a status we do not
    store. Acting on it: the message's latest delivery status moves forward, and a failure of a patient's text
    on an emergency or urgent request queues one alert to staff (after commit)."""
    if not receipt_status_known(status):
        return None
    rows = Notification.objects.select_for_update(of=("self",)).select_related("request")
    notification = rows.filter(provider_message_id=provider_message_id).first()
    if notification is None and notification_id is not None:
        notification = rows.filter(pk=notification_id, channel=Notification.Channel.SMS).first()
        if notification is not None and notification.provider_message_id not in ("", provider_message_id):
            notification = None  # a receipt for an earlier sending of a text sent again since
    try:
        with transaction.atomic():
            receipt = TextReceipt.objects.create(
                provider_message_id=provider_message_id,
                status=status,
                error_code=error_code[:10],
                notification=notification,
            )
    except IntegrityError:
        logger.info("a %s receipt stored before: nothing done again", status)
        return TextReceipt.objects.get(provider_message_id=provider_message_id, status=status)
    if notification is None:
        logger.warning("receipt %s (id %s) for a text we have no record of", status, receipt.pk)
        return receipt
    current = notification.delivery_status
    if current and STATUS_RANK[Status(current)] >= STATUS_RANK[Status(status)]:
        return receipt
    notification.delivery_status = status
    notification.delivery_status_at = receipt.received_at
    notification.save(update_fields=["delivery_status", "delivery_status_at"])
    if status in FAILED_STATUSES:
        text_failed_alert(notification)
    logger.info("notification %s: text %s (receipt %s)", notification.pk, status, receipt.pk)
    return receipt


def text_refused_alert(notification: Notification) -> Notification | None:
    """The provider refused the text on the send call itself, or every attempt failed: the same alert as a failed
    receipt, once per message (none when the message has one already). Call in the transaction that records it."""
    if Notification.objects.filter(failed_text=notification).exists():
        return None
    return text_failed_alert(notification)


def text_failed_alert(notification: Notification) -> Notification | None:
    """Staff at the urgent address hear that a text to the patient of an emergency or urgent request failed
    (written, and queued after commit, in the urgent lane); None for any other text."""
    request = notification.request
    if request is None or not notification_goes_to_patient(notification.kind):
        return None
    if not priority_is_urgent(request.priority):
        return None
    alert = Notification.objects.create(
        request=request,
        kind=Notification.Kind.TEXT_FAILED,
        channel=Notification.Channel.EMAIL,
        recipient=text_failed_recipient(),
        failed_text=notification,
        created_at=timezone.now(),
    )
    notifications_enqueue_on_commit([alert])
    return alert
