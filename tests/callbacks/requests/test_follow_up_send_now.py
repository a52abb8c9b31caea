"""Send a follow-up now (issue 26, item 10): the service, the request page's button and the management command."""

import datetime as dt
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from callbacks.models import FollowUp, Notification, PrivacyLogEntry, RequestEvent
from callbacks.requests.followup_schedule import FollowUpNotWaiting, follow_up_schedule, follow_up_send_now
from tests.factories import CallbackRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen(settings):
    """A patient seen yesterday, with follow-ups at 2 and 6 weeks waiting."""
    settings.CLINIC_FOLLOW_UP_WEEKS = (2, 6)
    request = CallbackRequestFactory(email="patient@example.test", status="booked")
    follow_up_schedule(request=request, started_at=timezone.now() - dt.timedelta(days=1))
    return request


def test_the_next_follow_up_goes_to_the_outbox_now_and_is_logged(seen, django_capture_on_commit_callbacks):
    staff = UserFactory(username="fran")
    later = FollowUp.objects.get(request=seen, weeks=6).due_at
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async") as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        follow_up = follow_up_send_now(request=seen, actor=staff)
    assert (follow_up.weeks, follow_up.status) == (2, FollowUp.Status.SENT)
    [notification] = Notification.objects.filter(kind=Notification.Kind.FOLLOW_UP)
    assert notification.follow_up == follow_up and notification.recipient == "patient@example.test"
    assert queued.call_count == 1
    # The later one keeps its date.
    assert FollowUp.objects.get(request=seen, weeks=6).due_at == later
    entry = PrivacyLogEntry.objects.get(action=PrivacyLogEntry.Action.FOLLOW_UP_SENT)
    assert (entry.reference, entry.actor) == (seen.reference, staff)
    event = RequestEvent.objects.get(request=seen, action=RequestEvent.Action.FOLLOW_UP)
    assert event.actor == staff and "2-week follow-up was sent now" in event.after
    # The next one now is the 6-week follow-up; then there is none left.
    assert follow_up_send_now(request=seen, actor=staff).weeks == 6
    with pytest.raises(FollowUpNotWaiting, match="sent already"):
        follow_up_send_now(request=seen, actor=staff)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"follow_ups_stopped_at": timezone.now()}, "stopped the follow-up"),
        ({"email": ""}, "no e-mail address"),
    ],
)
def test_refused_when_the_patient_cannot_be_sent_one(seen, change, message):
    type(seen).objects.filter(pk=seen.pk).update(**change)
    seen.refresh_from_db()
    with pytest.raises(FollowUpNotWaiting, match=message):
        follow_up_send_now(request=seen, actor=UserFactory())
    assert not Notification.objects.filter(kind=Notification.Kind.FOLLOW_UP).exists()
    assert not PrivacyLogEntry.objects.filter(action=PrivacyLogEntry.Action.FOLLOW_UP_SENT).exists()


def test_refused_before_the_first_attended_visit():
    request = CallbackRequestFactory(email="patient@example.test")
    with pytest.raises(FollowUpNotWaiting, match="marked attended"):
        follow_up_send_now(request=request, actor=UserFactory())


def test_the_request_page_button_sends_it_and_says_so(seen, admin_client):
    page = admin_client.get(reverse("admin:callbacks_callbackrequest_change", args=[seen.pk]))
    assert "Send a follow-up now" in page.content.decode()
    url = reverse("admin:callbacks_callbackrequest_workflow", args=[seen.pk, "follow_up_now"])
    response = admin_client.post(url, follow=True)
    assert "The 2-week follow-up is on its way to the patient" in response.content.decode()
    assert FollowUp.objects.get(request=seen, weeks=2).status == FollowUp.Status.SENT


def test_the_request_page_button_explains_a_refusal(seen, admin_client):
    FollowUp.objects.filter(request=seen).update(status=FollowUp.Status.SENT, sent_at=timezone.now())
    url = reverse("admin:callbacks_callbackrequest_workflow", args=[seen.pk, "follow_up_now"])
    response = admin_client.post(url)
    assert response.status_code == 200
    assert "Nothing was changed: Every follow-up of this patient has been sent already." in response.content.decode()


def test_the_command_sends_it_under_the_named_account(seen, capsys):
    UserFactory(username="fran")
    call_command("follow_up_send_now", seen.reference.lower(), "--by", "fran")
    assert "the 2-week follow-up is in the outbox" in capsys.readouterr().out
    assert PrivacyLogEntry.objects.get(action=PrivacyLogEntry.Action.FOLLOW_UP_SENT).actor.username == "fran"
    with pytest.raises(CommandError, match="No active staff account"):
        call_command("follow_up_send_now", seen.reference, "--by", "nobody")
    with pytest.raises(CommandError, match="No request has the reference"):
        call_command("follow_up_send_now", "CB-NOPE1", "--by", "fran")
