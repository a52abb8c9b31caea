"""Issue 25, item 5 and item 7's duplicate receipt: delivery receipts stored per message, counted once, acted on
once; a failed text to an urgent or emergency patient alerts staff, once per message, in the urgent lane."""

import pytest
from django.conf import settings
from django.core import mail

from callbacks.models import Notification, Priority, TextReceipt
from callbacks.notifications.delivery import notification_send
from callbacks.notifications.lanes import ROUTINE, URGENT, notification_lane
from callbacks.notifications.outbox import notification_resend
from callbacks.notifications.receipts import text_receipt_record
from tests.factories import CallbackRequestFactory, NotificationFactory

pytestmark = pytest.mark.django_db

SID = "SM" + "1" * 32


def sms_to_patient(priority=Priority.ROUTINE, sid=SID, **fields):
    return NotificationFactory(
        request=CallbackRequestFactory(priority=priority),
        kind=Notification.Kind.PATIENT_CONFIRMATION,
        channel=Notification.Channel.SMS,
        recipient="+447400123456",
        provider_message_id=sid,
        **fields,
    )


def alerts():
    return Notification.objects.filter(kind=Notification.Kind.TEXT_FAILED)


def test_each_receipt_is_stored_and_the_latest_status_is_kept_on_the_message():
    text = sms_to_patient()
    for status in ("queued", "sent", "delivered"):
        text_receipt_record(provider_message_id=SID, status=status)
    text.refresh_from_db()
    assert text.delivery_status == "delivered" and text.delivery_status_at is not None
    assert list(text.receipts.values_list("status", flat=True)) == ["queued", "sent", "delivered"]


def test_a_receipt_sent_twice_is_one_row_and_one_effect():
    text = sms_to_patient(priority=Priority.URGENT)
    first = text_receipt_record(provider_message_id=SID, status="delivered")
    second = text_receipt_record(provider_message_id=SID, status="delivered")
    assert first.pk == second.pk
    assert TextReceipt.objects.count() == 1
    text.refresh_from_db()
    assert text.delivery_status == "delivered"
    text_receipt_record(provider_message_id=SID, status="failed")
    text_receipt_record(provider_message_id=SID, status="failed")
    assert TextReceipt.objects.count() == 2


def test_receipts_out_of_order_never_move_a_message_back():
    text = sms_to_patient()
    text_receipt_record(provider_message_id=SID, status="delivered")
    text_receipt_record(provider_message_id=SID, status="sent")
    text_receipt_record(provider_message_id=SID, status="queued")
    text.refresh_from_db()
    assert text.delivery_status == "delivered"
    assert TextReceipt.objects.count() == 3


def test_a_receipt_for_a_message_we_do_not_know_is_kept_without_one():
    receipt = text_receipt_record(provider_message_id="SM" + "9" * 32, status="failed", error_code="30003")
    assert receipt.notification is None and receipt.error_code == "30003"


def test_statuses_we_do_not_keep_store_nothing():
    sms_to_patient()
    assert text_receipt_record(provider_message_id=SID, status="accepted") is None
    assert not TextReceipt.objects.exists()


@pytest.mark.parametrize("status", ["failed", "undelivered"])
@pytest.mark.parametrize("priority", [Priority.EMERGENCY, Priority.URGENT])
def test_a_failed_text_to_an_urgent_patient_alerts_staff_once(status, priority, django_capture_on_commit_callbacks):
    text = sms_to_patient(priority=priority)
    with django_capture_on_commit_callbacks(execute=False):
        text_receipt_record(provider_message_id=SID, status=status, error_code="30003")
        # The provider sends it again, and then the other final status: still one alert.
        text_receipt_record(provider_message_id=SID, status=status, error_code="30003")
        text_receipt_record(provider_message_id=SID, status="failed" if status == "undelivered" else "undelivered")
    [alert] = alerts()
    assert (alert.request, alert.recipient, alert.failed_text) == (text.request, settings.CLINIC_URGENT_EMAIL, text)
    assert notification_lane(kind=alert.kind, priority=priority) == URGENT
    mail.outbox.clear()
    notification_send(notification_id=alert.pk)
    [message] = mail.outbox
    assert message.to == [settings.CLINIC_URGENT_EMAIL]
    assert text.request.reference in message.subject and "not delivered" in message.subject
    assert text.request.name not in message.body and "+447400123456" not in message.body


@pytest.mark.parametrize("priority", [Priority.REVIEW, Priority.ROUTINE])
def test_a_failed_text_to_a_routine_patient_alerts_nobody(priority):
    sms_to_patient(priority=priority)
    text_receipt_record(provider_message_id=SID, status="failed")
    assert not alerts().exists()


def test_a_delivered_text_alerts_nobody():
    sms_to_patient(priority=Priority.EMERGENCY)
    text_receipt_record(provider_message_id=SID, status="delivered")
    assert not alerts().exists()


def test_a_failed_text_sent_again_and_failed_again_alerts_again():
    """Once per message: the text sent again is a new message at the provider."""
    text = sms_to_patient(priority=Priority.URGENT, status=Notification.Status.SENT, sent_at="2026-12-01T10:00Z")
    text_receipt_record(provider_message_id=SID, status="undelivered")
    assert notification_resend(notification=text)
    text.refresh_from_db()
    assert (text.status, text.provider_message_id, text.delivery_status) == (Notification.Status.PENDING, "", "")
    Notification.objects.filter(pk=text.pk).update(
        status=Notification.Status.SENT, sent_at="2026-12-01T11:00Z", provider_message_id="SM" + "2" * 32
    )
    text_receipt_record(provider_message_id="SM" + "2" * 32, status="failed")
    assert alerts().count() == 2
    assert text.receipts.count() == 2


def test_resend_refuses_a_delivered_text():
    text = sms_to_patient(status=Notification.Status.SENT, sent_at="2026-12-01T10:00Z")
    text_receipt_record(provider_message_id=SID, status="delivered")
    assert not notification_resend(notification=text)


def test_a_staff_alert_kind_in_the_routine_lane_when_not_urgent():
    assert notification_lane(kind=Notification.Kind.TEXT_FAILED, priority=Priority.ROUTINE) == ROUTINE
