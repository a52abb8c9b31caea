"""/metrics: refused without the token, and with it the figures an operator acts on, read from the database."""

import datetime as dt

import pytest
from prometheus_client.parser import text_string_to_metric_families

from callbacks.models import CallbackRequest, FollowUp, InboundText, Notification, Priority, TextReceipt
from clinic.models import Heartbeat
from tests.factories import CallbackRequestFactory, FollowUpFactory, NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db

TOKEN = "a-long-random-scrape-token"
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _token(settings):
    settings.METRICS_TOKEN = TOKEN


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


def scrape(client, token=TOKEN):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def ago(**kwargs):
    return NOW - dt.timedelta(**kwargs)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer wrong-token"},
        {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}x"},
        {"HTTP_AUTHORIZATION": f"Basic {TOKEN}"},
        {"HTTP_AUTHORIZATION": TOKEN},
    ],
    ids=["no header", "wrong token", "longer token", "other scheme", "no scheme"],
)
def test_refused_without_the_right_token(client, headers):
    CallbackRequestFactory()
    response = client.get("/metrics", **headers)
    assert response.status_code == 404
    assert b"clinic_requests_open" not in response.content


def test_refused_with_a_404_not_a_redirect_on_any_host_in_production(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["clinic.example.org"]
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token", HTTP_HOST="web:8000")
    assert response.status_code == 404


def test_off_when_no_token_is_set(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    assert client.get("/metrics").status_code == 404


def test_answers_any_host_so_prometheus_can_scrape_a_web_process_by_its_service_name(client, settings):
    settings.ALLOWED_HOSTS = ["clinic.example.org"]
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_HOST="web:8000")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_requests_by_priority_and_overdue_by_priority(client, frozen):
    for _ in range(2):
        CallbackRequestFactory(priority=Priority.EMERGENCY, deadline=ago(minutes=20))  # overdue
    CallbackRequestFactory(priority=Priority.EMERGENCY, deadline=NOW + dt.timedelta(minutes=5))
    CallbackRequestFactory(
        priority=Priority.URGENT, deadline=ago(hours=1), status=CallbackRequest.Status.CONTACTED
    )  # reached: not overdue
    CallbackRequestFactory(priority=Priority.ROUTINE, deadline=ago(days=1), status=CallbackRequest.Status.IN_PROGRESS)
    CallbackRequestFactory(
        priority=Priority.ROUTINE, deadline=ago(days=3), status=CallbackRequest.Status.CLOSED, outcome="advice"
    )  # closed: neither

    samples = scrape(client)

    assert {
        p: samples["clinic_requests_open", (("priority", p),)] for p in ("emergency", "urgent", "review", "routine")
    } == {
        "emergency": 3,
        "urgent": 1,
        "review": 0,
        "routine": 1,
    }
    assert {
        p: samples["clinic_requests_overdue", (("priority", p),)] for p in ("emergency", "urgent", "review", "routine")
    } == {"emergency": 2, "urgent": 0, "review": 0, "routine": 1}


def test_outbox_by_lane_oldest_age_failed_and_the_emergency_alert_age(client, frozen):
    emergency = CallbackRequestFactory(priority=Priority.EMERGENCY)
    urgent = CallbackRequestFactory(priority=Priority.URGENT)
    routine = CallbackRequestFactory(priority=Priority.ROUTINE)
    NotificationFactory(request=emergency, created_at=ago(seconds=150))  # urgent lane, the emergency's staff alert
    NotificationFactory(request=urgent, created_at=ago(seconds=40))  # urgent lane
    # The emergency's patient confirmation travels in the routine lane, and is not a staff alert.
    NotificationFactory(request=emergency, kind=Notification.Kind.PATIENT_CONFIRMATION, created_at=ago(seconds=900))
    NotificationFactory(request=routine, created_at=ago(seconds=60))
    # A notification about no request at all (a staff account): routine lane.
    NotificationFactory(
        request=None,
        staff_user=UserFactory(),
        wrong_codes=5,
        kind=Notification.Kind.STAFF_SIGN_IN_ALERT,
        created_at=ago(hours=2),
    )
    # Sent ones are not waiting, however old.
    NotificationFactory(
        request=urgent, kind=Notification.Kind.ESCALATION, created_at=ago(days=2), status="sent", sent_at=ago(days=2)
    )
    NotificationFactory(request=routine, kind=Notification.Kind.ESCALATION, status="failed", created_at=ago(days=1))
    NotificationFactory(
        request=CallbackRequestFactory(priority=Priority.EMERGENCY), status="failed", created_at=ago(days=1)
    )

    samples = scrape(client)

    assert samples["clinic_notifications_pending", (("lane", "urgent"),)] == 2
    assert samples["clinic_notifications_pending", (("lane", "routine"),)] == 3
    assert samples["clinic_notifications_pending_oldest_age_seconds", (("lane", "urgent"),)] == 150
    assert samples["clinic_notifications_pending_oldest_age_seconds", (("lane", "routine"),)] == 7200
    assert samples["clinic_notifications_failed", (("lane", "urgent"),)] == 1
    assert samples["clinic_notifications_failed", (("lane", "routine"),)] == 1
    assert samples["clinic_staff_alerts_pending_oldest_age_seconds", (("priority", "emergency"),)] == 150
    assert samples["clinic_staff_alerts_pending_oldest_age_seconds", (("priority", "urgent"),)] == 40


def test_an_empty_outbox_reads_zero_not_missing(client, frozen):
    samples = scrape(client)
    for lane in ("urgent", "routine"):
        assert samples["clinic_notifications_pending_oldest_age_seconds", (("lane", lane),)] == 0
        assert samples["clinic_notifications_failed", (("lane", lane),)] == 0
    assert samples["clinic_staff_alerts_pending_oldest_age_seconds", (("priority", "emergency"),)] == 0
    assert samples["clinic_follow_ups_due", ()] == 0


def test_follow_ups_due(client, frozen):
    due = {"status": FollowUp.Status.SCHEDULED, "sent_at": None, "due_at": ago(hours=1)}
    FollowUpFactory(**due)
    FollowUpFactory(**due, weeks=6)
    FollowUpFactory(status=FollowUp.Status.SCHEDULED, sent_at=None, due_at=NOW + dt.timedelta(days=1))  # not yet
    FollowUpFactory(due_at=ago(days=1))  # already sent
    stopped = CallbackRequestFactory(email="p@example.test", follow_ups_stopped_at=ago(days=2))
    FollowUpFactory(**due, request=stopped)  # the patient stopped them

    assert scrape(client)["clinic_follow_ups_due", ()] == 2


def test_heartbeat_ages(client, frozen):
    Heartbeat.objects.create(source="beat", at=ago(seconds=20))
    Heartbeat.objects.create(source="worker:urgent", at=ago(seconds=5))

    samples = scrape(client)

    assert samples["clinic_beat_heartbeat_age_seconds", ()] == 20
    assert samples["clinic_worker_heartbeat_age_seconds", (("queue", "urgent"),)] == 5
    assert samples["clinic_worker_heartbeat_age_seconds", (("queue", "routine"),)] == float("inf")


def test_no_name_reference_or_reason_in_the_exposition(client, frozen):
    request = CallbackRequestFactory(name="Zebedee Quux", priority=Priority.EMERGENCY, reason="Numb saddle area")
    NotificationFactory(request=request)
    body = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    assert "clinic_requests_open" in body
    for private in (request.name, request.reference, "saddle", str(request.pk) + '"'):
        assert private not in body


def test_a_scrape_costs_six_queries_however_many_rows(client, frozen, django_assert_num_queries):
    def seed():
        for priority in Priority.values:
            NotificationFactory(request=CallbackRequestFactory(priority=priority, deadline=ago(hours=1)))
        FollowUpFactory(status=FollowUp.Status.SCHEDULED, sent_at=None, due_at=ago(hours=1))
        TextReceipt.objects.create(provider_message_id=f"SM{TextReceipt.objects.count():032x}", status="sent")
        InboundText.objects.create(
            provider_sid=f"SM{InboundText.objects.count():032x}",
            from_phone="+447400123456",
            intent="other",
            outcome="for_staff",
        )

    seed()
    with django_assert_num_queries(6):
        scrape(client)
    for _ in range(5):
        seed()
    with django_assert_num_queries(6):
        samples = scrape(client)
    assert samples["clinic_requests_open", (("priority", "emergency"),)] == 6


def test_text_receipts_by_status_each_counted_once_and_texts_unread(client, frozen):
    """Issue 28, item 5: text-message receipts, by status; the same receipt sent twice counts once."""
    from callbacks.notifications.receipts import text_receipt_record

    for n, status in enumerate(["delivered", "delivered", "failed", "undelivered", "sent"]):
        TextReceipt.objects.create(provider_message_id=f"SM{n:032x}", status=status, received_at=ago(minutes=10))
    TextReceipt.objects.create(provider_message_id="SM" + "e" * 32, status="failed", received_at=ago(hours=3))
    text_receipt_record(provider_message_id="SM" + "f" * 32, status="delivered")
    text_receipt_record(provider_message_id="SM" + "f" * 32, status="delivered")  # the provider's duplicate
    InboundText.objects.create(
        provider_sid="SM" + "1" * 32,
        from_phone="+447400123456",
        intent="other",
        outcome="for_staff",
        received_at=ago(minutes=20),
    )
    InboundText.objects.create(
        provider_sid="SM" + "2" * 32,
        from_phone="+447400123456",
        intent="other",
        outcome="for_staff",
        received_at=ago(hours=2),
        seen_at=ago(hours=1),
    )

    samples = scrape(client)

    def receipts(status, name="clinic_text_receipts"):
        return samples[name, (("status", status),)]

    assert [receipts(s) for s in ("queued", "sent", "delivered", "undelivered", "failed")] == [0, 1, 3, 1, 2]
    last_hour = "clinic_text_receipts_last_hour"
    assert [receipts(s, last_hour) for s in ("queued", "sent", "delivered", "undelivered", "failed")] == [0, 1, 3, 1, 1]
    assert samples["clinic_texts_not_delivered_last_hour", ()] == 2
    assert samples["clinic_texts_from_patients_unread", ()] == 1
    assert samples["clinic_texts_from_patients_unread_oldest_age_seconds", ()] == 20 * 60


def test_a_text_held_for_quiet_hours_is_pending_but_not_an_old_backlog(client, frozen):
    """At night a routine text waits for the morning: it counts as pending, but its age would page someone every
    night (OutboxOlderThan10Minutes) though nothing is stuck. Only rows already due age."""
    routine = CallbackRequestFactory(priority=Priority.ROUTINE)
    NotificationFactory(
        request=routine,
        kind=Notification.Kind.BOOKING_REMINDER,
        channel=Notification.Channel.SMS,
        recipient="+447400123456",
        created_at=ago(hours=3),
        next_attempt_at=NOW + dt.timedelta(hours=9),  # held until 08:00
    )
    NotificationFactory(request=routine, created_at=ago(seconds=30))
    samples = scrape(client)
    assert samples["clinic_notifications_pending", (("lane", "routine"),)] == 2
    assert samples["clinic_notifications_pending_oldest_age_seconds", (("lane", "routine"),)] == 30
