import contextlib
import datetime as dt
import json
import smtplib
import urllib.error
from unittest import mock

import pytest
from django.core import mail
from django.db import OperationalError
from django.utils import timezone

from callbacks.models import FollowUp, Notification, Priority
from callbacks.notifications import delivery, outbox
from callbacks.notifications.delivery import notification_send
from callbacks.notifications.outbox import notification_resend, outbox_requeue_stale
from callbacks.notifications.transports import TransientSendError
from callbacks.requests.followups import follow_ups_stop
from tests.factories import FollowUpFactory, NotificationFactory

pytestmark = pytest.mark.django_db


def test_staff_email_has_reference_window_and_admin_link_but_no_patient_details():
    notification = NotificationFactory(request__name="Jo Bloggs", request__reason="numb saddle area")
    assert notification_send(notification_id=notification.pk) == "sent"
    (message,) = mail.outbox
    request = notification.request
    assert message.to == ["frontdesk@clinic.test"]
    assert request.reference in message.subject
    assert request.reference in message.body
    assert f"http://127.0.0.1:8000/admin/callbacks/callbackrequest/{request.pk}/change/" in message.body
    local_start = timezone.localtime(request.window_start)
    assert local_start.strftime("%H:%M") in message.body
    for private in ("Jo Bloggs", "numb", str(request.phone)):
        assert private not in message.body
        assert private not in message.subject
    assert message.extra_headers["Message-ID"] == f"<notification-{notification.pk}@localhost>"
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 1)
    assert notification.sent_at is not None


def test_patient_confirmation_has_reference_and_safety_net_advice():
    notification = NotificationFactory(kind=Notification.Kind.PATIENT_CONFIRMATION, recipient="pat@example.com")
    notification_send(notification_id=notification.pk)
    (message,) = mail.outbox
    assert notification.request.reference in message.body
    assert "Call 999" in message.body
    assert notification.request.reason not in message.body


def test_an_emergency_patients_confirmation_leads_with_the_emergency_advice(settings):
    settings.CLINIC_EMERGENCY_NUMBER = "999"
    notification = NotificationFactory(
        kind=Notification.Kind.PATIENT_CONFIRMATION, recipient="pat@example.com", request__priority=Priority.EMERGENCY
    )
    notification_send(notification_id=notification.pk)
    (message,) = mail.outbox
    lines = [line for line in message.body.splitlines() if line.strip()]
    assert lines[0] == "GET MEDICAL HELP NOW"
    assert "999" in lines[1]
    # No routine promise of a call window, and no link to more questions: help now comes first.
    assert "We aim to call" not in message.body
    assert "as soon as we can" in message.body
    assert "/your-questions/" not in message.body
    assert notification.request.reference in message.body


def test_an_urgent_patients_confirmation_leads_with_see_a_doctor_today():
    notification = NotificationFactory(
        kind=Notification.Kind.PATIENT_CONFIRMATION, recipient="pat@example.com", request__priority=Priority.URGENT
    )
    request = notification.request
    request.deadline = request.window_start - dt.timedelta(hours=20)
    request.save(update_fields=["deadline"])
    notification_send(notification_id=notification.pk)
    (message,) = mail.outbox
    assert message.body.lstrip().startswith("SEE A DOCTOR TODAY")
    # The same time as staff are held to: the sooner deadline the priority demands, not the window chosen.
    called_by = timezone.localtime(request.deadline).strftime("%H:%M")
    assert "We aim to call you by: " in message.body and called_by in message.body
    assert "We aim to call: " not in message.body


def test_a_sent_notification_is_never_sent_again():
    notification = NotificationFactory()
    notification_send(notification_id=notification.pk)
    assert notification_send(notification_id=notification.pk) == "sent"
    assert notification_send(notification_id=notification.pk) == "sent"
    assert len(mail.outbox) == 1


def test_a_missing_row_is_ignored():
    assert notification_send(notification_id=987654) == "missing"


def test_transient_failure_records_the_attempt_and_asks_for_a_retry():
    notification = NotificationFactory()
    with (
        mock.patch("django.core.mail.EmailMessage.send", side_effect=smtplib.SMTPServerDisconnected("gone")),
        pytest.raises(TransientSendError),
    ):
        notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == "pending"
    assert notification.attempts == 1
    assert notification.last_error == "TransientSendError: SMTPServerDisconnected"
    # The re-queue job leaves it alone until the retry is due.
    assert notification.next_attempt_at > timezone.now() + dt.timedelta(seconds=delivery.RETRY_BACKOFF_MAX - 5)


def staff_notification():
    return NotificationFactory()


def follow_up_notification():
    """A patient's outcome follow-up e-mail, handed to the outbox by the beat job as in production."""
    follow_up = FollowUpFactory()
    return NotificationFactory(
        request=follow_up.request,
        follow_up=follow_up,
        kind=Notification.Kind.FOLLOW_UP,
        recipient=follow_up.request.email,
    )


# The fault tests run for a staff notification and a patient's follow-up e-mail alike: one outbox, one path.
BOTH_KINDS = pytest.mark.parametrize("make_notification", [staff_notification, follow_up_notification])


def follow_up_status(notification):
    """The follow-up's state as staff see it on the request's page; None for a notification of no follow-up."""
    if notification.follow_up_id is None:
        return None
    return FollowUp.objects.get(pk=notification.follow_up_id).status


@BOTH_KINDS
def test_temporary_smtp_reply_is_transient_and_fails_after_the_last_attempt(settings, make_notification):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    notification = make_notification()
    error = smtplib.SMTPDataError(451, b"try later")
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=error):
        for _ in range(2):
            with pytest.raises(TransientSendError):
                notification_send(notification_id=notification.pk)
            assert follow_up_status(notification) in (None, "sent")  # still being tried
        assert notification_send(notification_id=notification.pk) == "failed"
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", 3)
    assert "451" in notification.last_error
    assert follow_up_status(notification) in (None, "failed")


@BOTH_KINDS
def test_permanent_smtp_reply_fails_at_once(make_notification):
    notification = make_notification()
    error = smtplib.SMTPRecipientsRefused({notification.recipient: (550, b"no such user")})
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=error):
        assert notification_send(notification_id=notification.pk) == "failed"
    notification.refresh_from_db()
    assert notification.attempts == 1
    assert "550" in notification.last_error
    assert follow_up_status(notification) in (None, "failed")


@BOTH_KINDS
def test_failed_notification_can_be_resent(django_capture_on_commit_callbacks, make_notification):
    notification = make_notification()
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=smtplib.SMTPDataError(554, b"rejected")):
        assert notification_send(notification_id=notification.pk) == "failed"
    with (
        mock.patch("callbacks.notifications.outbox.notifications_enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert notification_resend(notification=notification) is True
        assert notification_resend(notification=NotificationFactory(status="sent", sent_at=timezone.now())) is False
    enqueue.assert_called_once()
    assert enqueue.call_args.args == ([notification.pk],)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("pending", 0)
    assert follow_up_status(notification) in (None, "sent")
    assert notification_send(notification_id=notification.pk) == "sent"
    assert len(mail.outbox) == 1
    assert follow_up_status(notification) in (None, "sent")


def test_a_failed_follow_up_of_a_patient_who_stopped_them_is_not_resent(django_capture_on_commit_callbacks):
    notification = follow_up_notification()
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=smtplib.SMTPDataError(554, b"rejected")):
        notification_send(notification_id=notification.pk)
    assert follow_ups_stop(request_id=notification.request_id) is True
    assert follow_up_status(notification) == "stopped"
    with (
        mock.patch("callbacks.notifications.outbox.notifications_enqueue") as enqueue,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert notification_resend(notification=notification) is False
    enqueue.assert_not_called()
    notification.refresh_from_db()
    assert notification.status == "failed"


def test_requeue_picks_only_pending_rows_whose_message_is_overdue(settings):
    old = timezone.now() - dt.timedelta(seconds=settings.OUTBOX_STALE_AFTER_SECONDS + 10)
    stale = NotificationFactory(next_attempt_at=old)
    NotificationFactory()  # just queued
    NotificationFactory(next_attempt_at=old, status="sent", sent_at=old)
    NotificationFactory(next_attempt_at=old, status="failed")
    with mock.patch("callbacks.tasks.notification_send_task.apply_async") as apply_async:
        assert outbox_requeue_stale() == 1
        assert outbox_requeue_stale() == 0, "a re-queued row is not queued again straight away"
    apply_async.assert_called_once_with(args=[stale.pk], queue="routine")


def test_enqueue_never_raises_when_the_broker_is_down():
    notification = NotificationFactory()
    with mock.patch("callbacks.tasks.notification_send_task.apply_async", side_effect=ConnectionRefusedError()):
        assert outbox.notifications_enqueue([notification.pk]) == 0


def test_webhook_sends_reference_priority_and_link_only():
    notification = NotificationFactory(
        channel="webhook", recipient="https://chat.example/hook", request__priority=Priority.URGENT
    )
    with mock.patch("urllib.request.urlopen") as urlopen:
        assert notification_send(notification_id=notification.pk) == "sent"
    sent = urlopen.call_args.args[0]
    assert json.loads(sent.data) == {
        "reference": notification.request.reference,
        "priority": "Urgent",
        "admin_url": f"http://127.0.0.1:8000/admin/callbacks/callbackrequest/{notification.request.pk}/change/",
    }


@pytest.mark.parametrize(("code", "status"), [(503, "pending"), (429, "pending"), (404, "failed"), (400, "failed")])
def test_webhook_http_errors(code, status):
    notification = NotificationFactory(channel="webhook", recipient="https://chat.example/hook")
    error = urllib.error.HTTPError(notification.recipient, code, "x", {}, None)
    with mock.patch("urllib.request.urlopen", side_effect=error), contextlib.suppress(TransientSendError):
        notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == status


def test_overdue_requests_are_escalated_once(django_capture_on_commit_callbacks, settings):
    past = timezone.now() - dt.timedelta(minutes=5)
    overdue = NotificationFactory(request__deadline=past, request__priority=Priority.URGENT).request
    NotificationFactory(request__deadline=timezone.now() + dt.timedelta(hours=1))  # not yet due
    NotificationFactory(request__deadline=past, request__status="contacted")  # patient reached
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert outbox.callback_requests_escalate_overdue() == 1
        assert outbox.callback_requests_escalate_overdue() == 0
    escalation = overdue.notifications.get(kind=Notification.Kind.ESCALATION)
    assert escalation.recipient == settings.CLINIC_ESCALATION_EMAIL
    apply_async.assert_called_once_with(args=[escalation.pk], queue="urgent")  # an urgent request: the urgent lane

    notification_send(notification_id=escalation.pk)
    (message,) = mail.outbox
    assert message.subject.startswith(f"[Overdue] Urgent request {overdue.reference}")
    assert overdue.name not in message.body
    assert f"/admin/callbacks/callbackrequest/{overdue.pk}/change/" in message.body


@pytest.mark.django_db(transaction=True)
def test_a_message_sent_just_as_the_database_goes_away_is_recorded_sent_when_it_is_back(mailoutbox):
    notification = NotificationFactory()
    calls = []

    def save_then_lose_the_database(self, *args, **kwargs):
        calls.append(1)
        raise OperationalError("server closed the connection unexpectedly")

    with mock.patch.object(Notification, "save", save_then_lose_the_database):
        assert notification_send(notification_id=notification.pk) == "sent"
    assert calls and len(mailoutbox) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("sent", 1) and notification.sent_at is not None
    # A second message for the row (the beat job, a duplicate) finds it sent: nothing more goes out.
    assert notification_send(notification_id=notification.pk) == "sent"
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_database_lost_before_anything_was_sent_leaves_the_row_pending(mailoutbox):
    notification = NotificationFactory()
    with (
        mock.patch("callbacks.notifications.delivery.notification_deliver", side_effect=AssertionError("not called")),
        mock.patch.object(Notification.objects, "select_for_update", side_effect=OperationalError("gone")),
        pytest.raises(OperationalError),
    ):
        notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == "pending" and len(mailoutbox) == 0
