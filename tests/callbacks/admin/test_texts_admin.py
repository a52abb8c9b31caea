"""Issue 25, items 4 and 5 for staff: a patient's texts in the request's timeline and the queue, texts from
unknown numbers in a list of their own, and each text sent with its receipts and a "send again"."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from callbacks.models import InboundText, Notification, Priority, PrivacyLogEntry
from callbacks.notifications.receipts import text_receipt_record
from callbacks.notifications.replies import inbound_text_receive
from tests.factories import CallbackRequestFactory, NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db

PHONE = "+447400123456"
SID = "SM" + "1" * 32
QUEUE = reverse("admin:callbacks_callbackrequest_changelist")


@pytest.fixture
def triage_client():
    user = UserFactory(username="frontdesk", first_name="Fran", last_name="Desk")
    user.groups.add(Group.objects.get(name="Triage staff"))
    client = Client()
    client.force_login(user)
    return client


def page(response) -> str:
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def change_url(request):
    return reverse("admin:callbacks_callbackrequest_change", args=[request.pk])


_sids = iter(range(1, 10**6))


def receive(body, phone=PHONE):
    return inbound_text_receive(provider_sid=f"SM{next(_sids):032x}", from_phone=phone, body=body)


def test_a_new_text_marks_the_request_in_the_queue_until_someone_opens_it(triage_client):
    request = CallbackRequestFactory(phone=PHONE)
    quiet = CallbackRequestFactory()
    receive("Can you call after 3pm?")
    queue = page(triage_client.get(QUEUE))
    assert queue.count("New text") >= 1
    filtered = triage_client.get(QUEUE + "?new_text=yes")
    assert [row.pk for row in filtered.context["cl"].result_list] == [request.pk]
    opened = page(triage_client.get(change_url(request)))
    assert "1 new text from the patient" in opened
    assert "Text from the patient: For staff to read" in opened and "Can you call after 3pm?" in opened
    # Read now: it leaves the filter, and the page no longer calls it new.
    assert list(triage_client.get(QUEUE + "?new_text=yes").context["cl"].result_list) == []
    assert "new text from the patient" not in page(triage_client.get(change_url(request)))
    assert InboundText.objects.get().seen_at is not None
    assert quiet.pk not in [row.pk for row in filtered.context["cl"].result_list]


def test_a_text_from_an_unknown_number_is_in_the_list_of_texts_from_patients(triage_client):
    CallbackRequestFactory(phone=PHONE)
    receive("Hello, do you treat sciatica?", phone="+447400555444")
    receive("thanks")
    listing = triage_client.get(reverse("admin:callbacks_inboundtext_changelist") + "?matched=no")
    text = page(listing)
    assert [t.body for t in listing.context["cl"].result_list] == ["Hello, do you treat sciatica?"]
    assert 'href="tel:+447400555444"' in text and "+44 7400 555444" in text


def sms(request, **fields):
    return NotificationFactory(
        request=request,
        kind=Notification.Kind.PATIENT_CONFIRMATION,
        channel=Notification.Channel.SMS,
        recipient=PHONE,
        provider_message_id=SID,
        **fields,
    )


def test_the_request_page_shows_each_text_sent_with_its_receipts(triage_client):
    request = CallbackRequestFactory(phone=PHONE)
    sms(request, status=Notification.Status.SENT, sent_at="2026-12-01T10:00Z")
    for status in ("queued", "sent", "delivered"):
        text_receipt_record(provider_message_id=SID, status=status)
    html = page(triage_client.get(change_url(request)))
    panel = html.split('id="texts"')[1].split("</section>")[0]
    assert "Confirmation (patient)" in panel
    assert 'class="triage-delivery--delivered">Delivered' in panel
    assert re.search(r"Queued .*Sent .*Delivered ", panel)
    assert "Send again" not in panel


def test_a_failed_text_can_be_sent_again_from_the_request_page(admin_client, django_capture_on_commit_callbacks):
    request = CallbackRequestFactory(phone=PHONE, priority=Priority.URGENT)
    text = sms(request, status=Notification.Status.SENT, sent_at="2026-12-01T10:00Z")
    text_receipt_record(provider_message_id=SID, status="undelivered", error_code="30003")
    html = page(admin_client.get(change_url(request)))
    panel = html.split('id="texts"')[1].split("</section>")[0]
    assert "Undelivered" in panel and "(error 30003)" in panel and "Send again" in panel
    with django_capture_on_commit_callbacks():
        response = admin_client.post(
            reverse("admin:callbacks_notification_resend"),
            {"notification": text.pk, "next": change_url(request) + "#texts"},
            follow=True,
        )
    assert response.redirect_chain[-1][0] == change_url(request) + "#texts"
    assert "Queued the notification again." in page(response)
    text.refresh_from_db()
    assert text.status == Notification.Status.PENDING and text.delivery_status == ""
    # The earlier receipts stay on record.
    assert text.receipts.count() == 1


def test_the_resend_button_refuses_staff_without_the_permission(triage_client):
    request = CallbackRequestFactory(phone=PHONE)
    text = sms(request, status=Notification.Status.SENT, sent_at="2026-12-01T10:00Z")
    text_receipt_record(provider_message_id=SID, status="failed")
    assert "Send again" not in page(triage_client.get(change_url(request)))
    response = triage_client.post(reverse("admin:callbacks_notification_resend"), {"notification": text.pk})
    assert response.status_code == 403
    text.refresh_from_db()
    assert text.status == Notification.Status.SENT


def test_the_notifications_list_shows_the_delivery_status_and_filters_on_it(admin_client):
    request = CallbackRequestFactory(phone=PHONE)
    failed = sms(request, status=Notification.Status.SENT, sent_at="2026-12-01T10:00Z")
    text_receipt_record(provider_message_id=SID, status="failed", error_code="30006")
    NotificationFactory()
    listing = admin_client.get(reverse("admin:callbacks_notification_changelist") + "?delivery_status__exact=failed")
    assert list(listing.context["cl"].result_list) == [failed]
    assert 'class="triage-delivery--failed">Failed' in page(listing)
    detail = page(admin_client.get(reverse("admin:callbacks_notification_change", args=[failed.pk])))
    assert "Failed at" in detail and "(error 30006)" in detail


def test_the_resend_action_in_the_list_sends_an_undelivered_text_again(
    admin_client, django_capture_on_commit_callbacks
):
    request = CallbackRequestFactory(phone=PHONE)
    text = sms(request, status=Notification.Status.SENT, sent_at="2026-12-01T10:00Z")
    text_receipt_record(provider_message_id=SID, status="undelivered")
    with django_capture_on_commit_callbacks():
        response = admin_client.post(
            reverse("admin:callbacks_notification_changelist"),
            {"action": "resend_failed", "_selected_action": [text.pk]},
            follow=True,
        )
    assert "Queued 1 notification(s) again." in page(response)


def test_a_red_flag_text_shows_as_a_possible_red_flag_on_the_request_page(triage_client):
    from tests.callbacks.notifications.test_replies import routine_request

    request = routine_request()
    receive("I've lost control of my bladder since this morning")
    html = page(triage_client.get(change_url(request)))
    flags = html.split('aria-labelledby="triage-possible-title"')[1].split("</section>")[0]
    assert "in a text message" in flags and "lost control of my bladder" in flags
    assert "Emergency" in html.split('aria-label="Request summary"')[1].split("</section>")[0]


def test_the_texts_from_patients_list_and_a_text_s_page_are_in_the_privacy_log(triage_client):
    request = CallbackRequestFactory(phone=PHONE)
    receive("thanks, see you then")
    receive("Hello, do you treat sciatica?", phone="+447400555444")
    unknown = InboundText.objects.get(request__isnull=True)
    page(triage_client.get(reverse("admin:callbacks_inboundtext_changelist")))
    listed = set(
        PrivacyLogEntry.objects.filter(action=PrivacyLogEntry.Action.LISTED).values_list("reference", flat=True)
    )
    assert listed == {request.reference, f"TXT-{unknown.pk}"}
    page(triage_client.get(reverse("admin:callbacks_inboundtext_change", args=[unknown.pk])))
    viewed = PrivacyLogEntry.objects.get(action=PrivacyLogEntry.Action.VIEWED)
    assert (viewed.reference, viewed.actor.username) == (f"TXT-{unknown.pk}", "frontdesk")
