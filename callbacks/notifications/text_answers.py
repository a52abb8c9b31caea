"""What the clinic writes in answer to a patient's own text (`callbacks.notifications.replies` reads the texts):
the urgent address's alert for a red flag from a number no request has, the advice texted back to a red-flag
text, and the answer to a "C" or "X" that could mean more than one appointment. Each is one row per text (unique
on the text), written in the transaction that read it and queued after commit (`notifications_enqueue_on_commit`).
"""

from callbacks.models import CallbackRequest, Notification
from callbacks.notifications.outbox import notifications_enqueue_on_commit
from callbacks.notifications.routing import request_text_recipient, text_advice_recipient, text_red_flag_recipient


def notification_for_text_red_flag(*, inbound_text_id: int) -> Notification:
    """Write and queue (after commit, in the urgent lane) the e-mail telling the urgent address that the patient's
    text ``inbound_text_id``, from a number no request has, raised a red flag. It names the text's id only: staff
    read the words in the list of texts from patients. Call in the transaction that stored the text."""
    row = Notification.objects.create(
        inbound_text_id=inbound_text_id,
        kind=Notification.Kind.TEXT_RED_FLAG,
        channel=Notification.Channel.EMAIL,
        recipient=text_red_flag_recipient(),
    )
    notifications_enqueue_on_commit([row])
    return row


def notification_for_text_advice(
    *, inbound_text_id: int, phone: str, emergency: bool, request: CallbackRequest | None = None
) -> Notification | None:
    """Write and queue (after commit, in the urgent lane) the text telling the patient who sent the red-flag text
    ``inbound_text_id`` from ``phone`` what to do now: the emergency advice, or the urgent one. Once per text; None
    when no text can go (texts switched off, a number that cannot take texts). Call in the transaction that
    screened the text."""
    number = text_advice_recipient(phone)
    if not number:
        return None
    kind = Notification.Kind.TEXT_EMERGENCY_ADVICE if emergency else Notification.Kind.TEXT_URGENT_ADVICE
    return _answer_text_write(inbound_text_id=inbound_text_id, kind=kind, request=request, number=number)


def notification_for_text_reply_unclear(*, inbound_text_id: int, request: CallbackRequest) -> Notification | None:
    """Write and queue (after commit) the text telling the patient whose "C" or "X" ``inbound_text_id`` could mean
    more than one appointment that nothing changed and that we will call: without it they would believe they had
    cancelled (or confirmed). Once per text; None when no text can go to ``request``'s number (no texts chosen,
    STOP, not a mobile). Call in the transaction that read the reply."""
    kind = Notification.Kind.TEXT_REPLY_UNCLEAR
    number = request_text_recipient(request, kind)
    if not number:
        return None
    return _answer_text_write(inbound_text_id=inbound_text_id, kind=kind, request=request, number=number)


def _answer_text_write(
    *, inbound_text_id: int, kind: str, request: CallbackRequest | None, number: str
) -> Notification:
    """The text of ``kind`` answering ``inbound_text_id``, written once (a provider's retry of the same text finds
    it) and queued after commit."""
    row, created = Notification.objects.get_or_create(
        inbound_text_id=inbound_text_id,
        kind=kind,
        channel=Notification.Channel.SMS,
        defaults={"request": request, "recipient": number},
    )
    if created:
        notifications_enqueue_on_commit([row])
    return row
