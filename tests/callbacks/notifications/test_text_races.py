"""Issue 25, items 4, 5 and 7 on PostgreSQL: a reply and a signed link at the same instant end one way; the
provider's duplicates (a text, a receipt) arriving at the same instant are stored and acted on once.

The patient texts X as their cancel link is pressed (in another browser, or by the patient twice): both go
through `appointment_cancel`, which decides under the appointment's row lock. Each round releases the two at
once from a barrier in two threads, each with its own database connection.
"""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from callbacks.booking.links import appointment_cancel_token
from callbacks.booking.slots import slots_free
from callbacks.models import Appointment, InboundText, Notification, RequestEvent
from callbacks.notifications.replies import inbound_text_receive
from tests.callbacks.booking.test_booking import book

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5


def appointments(service, practitioner, count):
    slots = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=3), days=1)
    return [
        book(service, practitioner, slot.starts_at, phone=f"+4474001{n:05d}")
        for n, slot in enumerate(slots[::2][:count])
    ]


def race(*calls):
    barrier = Barrier(len(calls), timeout=30)

    def run(call):
        try:
            barrier.wait()
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_a_cancel_reply_and_the_cancel_link_at_once_cancel_once(service, practitioner):
    for n, appointment in enumerate(appointments(service, practitioner, ROUNDS)):
        phone = str(appointment.request.phone)
        link = f"/book/cancel/{appointment_cancel_token(appointment)}/"

        def reply(n=n, phone=phone):
            return inbound_text_receive(provider_sid=f"SM{n:032x}", from_phone=phone, body="X").outcome

        def press(link=link):
            page = Client().post(link).content.decode()
            return "cancelled" if "Your appointment is cancelled" in page else "closed"

        replied, pressed = race(reply, press)
        appointment.refresh_from_db()
        assert appointment.status == Appointment.Status.CANCELLED
        # Exactly one of the two cancelled it; the other was told there was nothing left to cancel.
        assert (replied == InboundText.Outcome.CANCELLED) != (pressed == "cancelled"), (replied, pressed)
        for kind in (Notification.Kind.BOOKING_CANCELLED, Notification.Kind.BOOKING_CANCELLED_BY_PATIENT):
            assert Notification.objects.filter(request=appointment.request, kind=kind).count() == 1


def test_two_cancel_texts_at_once_cancel_once_and_are_both_kept(service, practitioner):
    [appointment] = appointments(service, practitioner, 1)
    phone = str(appointment.request.phone)

    def reply(sid):
        return lambda: inbound_text_receive(provider_sid=sid, from_phone=phone, body="cancel").outcome

    outcomes = sorted(race(reply("SM" + "d" * 32), reply("SM" + "e" * 32)))
    assert outcomes == sorted([InboundText.Outcome.CANCELLED, InboundText.Outcome.NO_APPOINTMENT])
    assert InboundText.objects.count() == 2
    assert Notification.objects.filter(kind=Notification.Kind.BOOKING_CANCELLED).count() == 1


def test_the_providers_retry_at_the_same_instant_is_stored_and_acted_on_once(service, practitioner):
    [appointment] = appointments(service, practitioner, 1)
    phone = str(appointment.request.phone)
    sid = "SM" + "f" * 32

    def reply():
        return inbound_text_receive(provider_sid=sid, from_phone=phone, body="C").pk

    first, second = race(reply, reply)
    assert first == second and InboundText.objects.count() == 1
    assert RequestEvent.objects.filter(request=appointment.request, field="appointment").count() == 1


def test_the_same_failed_receipt_at_the_same_instant_is_one_row_and_one_alert():
    """Issue 25, item 7: the provider sends the same receipt twice (here four copies at once)."""
    from callbacks.models import CallbackRequest, Priority, TextReceipt
    from callbacks.notifications.receipts import text_receipt_record
    from tests.factories import CallbackRequestFactory, NotificationFactory

    sid = "SM" + "7" * 32
    text = NotificationFactory(
        request=CallbackRequestFactory(priority=Priority.EMERGENCY),
        kind=Notification.Kind.PATIENT_CONFIRMATION,
        channel=Notification.Channel.SMS,
        recipient="+447400123456",
        provider_message_id=sid,
        status=Notification.Status.SENT,
        sent_at=timezone.now(),
    )

    def deliver_receipt():
        return text_receipt_record(provider_message_id=sid, status="undelivered", error_code="30003").pk

    ids = race(*[deliver_receipt] * 4)
    assert len(set(ids)) == 1
    assert TextReceipt.objects.count() == 1
    assert Notification.objects.filter(kind=Notification.Kind.TEXT_FAILED, failed_text=text).count() == 1
    assert CallbackRequest.objects.get(pk=text.request_id).priority == Priority.EMERGENCY


def test_a_burst_of_duplicated_receipts_through_the_webhook_is_counted_once(settings):
    """docs/RELIABILITY.md's figure: 40 texts to urgent patients, each reported queued, sent and then failed or
    delivered, every receipt posted twice, shuffled, by 8 threads through the signed webhook at once."""
    import random
    import time

    from twilio.request_validator import RequestValidator

    from callbacks.models import Priority, TextReceipt
    from tests.factories import CallbackRequestFactory, NotificationFactory

    settings.TWILIO_AUTH_TOKEN, settings.SMS_WEBHOOK_BASE_URL = "burst-token", "https://clinic.example.org"
    texts = 40
    rows = [
        NotificationFactory(
            request=CallbackRequestFactory(priority=Priority.URGENT),
            kind=Notification.Kind.PATIENT_CONFIRMATION,
            channel=Notification.Channel.SMS,
            recipient="+447400123456",
            provider_message_id=f"SM{n:032x}",
            status=Notification.Status.SENT,
            sent_at=timezone.now(),
        )
        for n in range(texts)
    ]
    posts = []
    for n, row in enumerate(rows):
        final = "failed" if n % 4 == 0 else "delivered"
        for status in ("queued", "sent", final):
            params = {"MessageSid": row.provider_message_id, "MessageStatus": status}
            signature = RequestValidator("burst-token").compute_signature(
                "https://clinic.example.org/texts/status/", params
            )
            posts += [(params, signature)] * 2
    random.Random(25).shuffle(posts)
    chunks = [posts[i::8] for i in range(8)]

    def post_all(chunk):
        client = Client()
        return [client.post("/texts/status/", p, HTTP_X_TWILIO_SIGNATURE=s).status_code for p, s in chunk]

    started = time.monotonic()
    answers = [code for codes in race(*[lambda c=c: post_all(c) for c in chunks]) for code in codes]
    elapsed = time.monotonic() - started
    assert answers == [200] * len(posts)
    assert TextReceipt.objects.count() == texts * 3
    failed = texts // 4
    assert Notification.objects.filter(pk__in=[r.pk for r in rows], delivery_status="failed").count() == failed
    assert (
        Notification.objects.filter(pk__in=[r.pk for r in rows], delivery_status="delivered").count() == texts - failed
    )
    assert Notification.objects.filter(kind=Notification.Kind.TEXT_FAILED).count() == failed
    print(f"\n{len(posts)} receipt posts ({texts * 3} distinct) in {elapsed:.2f} s")
