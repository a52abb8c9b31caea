"""Issue 25 for staff, in a real browser at 1280 and 360 px with axe: the queue marks a request with a new text
from the patient; its page shows the text in the timeline and each text sent with its receipts; a member of
staff with the permission sends an undelivered one again."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from callbacks.models import Notification, Priority
from callbacks.notifications.receipts import text_receipt_record
from callbacks.notifications.replies import inbound_text_receive
from tests.browser.test_front_desk import no_axe_violations, sign_in
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH, screenshot
from tests.factories import CallbackRequestFactory, NotificationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = "+447400123456"


def patient_with_texts():
    request = CallbackRequestFactory(name="Robin Texter", phone=PHONE, priority=Priority.URGENT)
    delivered = NotificationFactory(
        request=request,
        kind=Notification.Kind.PATIENT_CONFIRMATION,
        channel=Notification.Channel.SMS,
        recipient=PHONE,
        provider_message_id="SM" + "1" * 32,
        status=Notification.Status.SENT,
        sent_at="2026-12-01T10:00Z",
    )
    undelivered = NotificationFactory(
        request=request,
        kind=Notification.Kind.BOOKING_REMINDER,
        channel=Notification.Channel.SMS,
        recipient=PHONE,
        provider_message_id="SM" + "2" * 32,
        status=Notification.Status.SENT,
        sent_at="2026-12-01T11:00Z",
    )
    for status in ("queued", "sent", "delivered"):
        text_receipt_record(provider_message_id=delivered.provider_message_id, status=status)
    text_receipt_record(provider_message_id=undelivered.provider_message_id, status="queued")
    text_receipt_record(provider_message_id=undelivered.provider_message_id, status="undelivered", error_code="30003")
    inbound_text_receive(provider_sid="SM" + "3" * 32, from_phone=PHONE, body="Can you ring me after 3pm please?")
    return request, undelivered


@pytest.mark.parametrize("width", [DESKTOP_WIDTH, PHONE_WIDTH])
def test_texts_and_receipts_read_well_at_both_widths(open_page, settings, width):
    request, undelivered = patient_with_texts()
    page, staff = sign_in(open_page, settings, width)
    staff.user_permissions.add(Permission.objects.get(codename="change_notification"))

    page.goto(reverse("admin:callbacks_callbackrequest_changelist") + "?new_text=yes")
    row = page.get_by_role("row").filter(has_text=request.reference)
    assert row.get_by_text("New text").count() == 1
    screenshot(page, "admin-queue-new-text", width)
    no_axe_violations(page, "queue filtered on new texts")

    page.goto(reverse("admin:callbacks_callbackrequest_change", args=[request.pk]))
    page.get_by_text("1 new text from the patient").wait_for()
    assert page.get_by_text("Can you ring me after 3pm please?").count() == 1
    texts = page.locator("#texts")
    assert texts.get_by_text("Delivered", exact=True).count() == 1
    assert texts.get_by_text("Undelivered", exact=True).count() == 1
    texts.scroll_into_view_if_needed()
    screenshot(page, "admin-request-texts", width)
    no_axe_violations(page, "request page with texts and receipts")

    texts.get_by_role("button", name="Send the appointment reminder (patient) text again").click()
    page.get_by_text("Queued the notification again.").wait_for()
    undelivered.refresh_from_db()
    assert undelivered.status == Notification.Status.PENDING
    no_axe_violations(page, "request page after sending a text again")
