"""The follow-up page a patient reaches from the e-mail: the questions, the answers kept, the link spent,
red flags acted on, and a stop link that only a POST from its page uses."""

import datetime as dt
import re
import smtplib
from unittest import mock

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callbacks.models import FollowUp, Notification, Priority, RequestEvent
from callbacks.notifications.delivery import notification_send
from callbacks.notifications.outbox import notification_resend
from callbacks.requests.followup_links import (
    ANSWER_LINK_SALT,
    follow_up_answer_path,
    follow_ups_stop_path,
    request_from_stop_token,
)
from callbacks.rules.requests import status_awaits_response
from tests.factories import CallbackRequestFactory, FollowUpFactory
from tests.support.questionnaire import NO_RED_FLAGS, step_data

pytestmark = pytest.mark.django_db

# The follow-up asks the emergency questions and the urgent symptom questions of the intake.
SAFE = {
    **NO_RED_FLAGS["safety"],
    **{key: NO_RED_FLAGS["health"][key] for key in ("fever", "weight_loss", "back_lump", "rest_night_pain")},
}
ANSWERS = {
    **SAFE,
    "pain_now": "3",
    "pain_worst_week": "6",
    "psfs_activity_1": "Putting on socks",
    "psfs_rating_1": "4",
    "psfs_activity_2": "Lifting my grandson",
    "psfs_rating_2": "7",
    "global_change": "better",
}
SHOWN = ["psfs_rating_2", "psfs_rating_3"]


def send(client, follow_up, answers=ANSWERS):
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        return client.post(follow_up_answer_path(follow_up), step_data(answers, SHOWN))


def test_link_shows_the_questionnaire_and_answers_are_stored_with_their_version():
    follow_up = FollowUpFactory()
    page = Client().get(follow_up_answer_path(follow_up))
    assert page.status_code == 200
    html = page.content.decode()
    # The safety questions come first, then the measures; the stop link is on the page.
    order = [html.index(f'id="section-{step}"') for step in ("safety", "health", "pain", "activities", "change")]
    assert order == sorted(order)
    # The page's stop link names this request (compared by what it decodes to: the token carries the second
    # it was signed, so a path signed again here may differ).
    stop_token = re.search(r'href="/how-is-your-back/stop/([^/"]+)/"', html).group(1)
    assert request_from_stop_token(stop_token) == follow_up.request
    response = send(Client(), follow_up)
    assert response.status_code == 302 and response["Location"] == reverse("callbacks:follow_up_done")
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.ANSWERED and follow_up.answered_at is not None
    stored = follow_up.questionnaire_response
    assert (stored.questionnaire, stored.definition_version) == ("outcomes", 1)
    assert {item["instrument"]: item["scores"] for item in stored.scores}["psfs"] == {"psfs_mean": 5.5}
    # The link is spent: a second visit says so, plainly.
    again = Client().get(follow_up_answer_path(follow_up))
    assert again.status_code == 410 and "already been answered" in again.content.decode()
    assert send(Client(), follow_up).status_code == 410
    assert FollowUp.objects.get(pk=follow_up.pk).questionnaire_response == stored


def test_the_page_marks_its_emergency_questions_for_the_inline_advice_script(settings):
    html = Client().get(follow_up_answer_path(FollowUpFactory())).content.decode()
    marked = re.search(r'data-emergency-questions="([^"]+)"', html).group(1).split()
    # The emergency questions of the safety step, as at intake; the urgent ones (fever, ...) are not marked.
    assert marked == list(NO_RED_FLAGS["safety"])
    # The same advice block as the intake pages, hidden until the script shows it.
    assert re.search(r'<div class="emergency-advice[^"]*" id="emergency-inline"[^>]*hidden>', html)
    assert "Press Send my answers to send your answers" in html and settings.CLINIC_EMERGENCY_NUMBER in html


def test_a_spent_expired_tampered_or_unknown_link_gets_a_clear_page(settings):
    follow_up = FollowUpFactory()
    path = follow_up_answer_path(follow_up)
    tampered = path.replace(path.rstrip("/").rsplit(":", 1)[1], "AAAAAAAAAAAAAAAAAAAAAAAAAAA")
    unknown = reverse(
        "callbacks:follow_up", kwargs={"token": signing.TimestampSigner(salt=ANSWER_LINK_SALT).sign_object({"f": 99})}
    )
    pages = {
        "tampered": Client().get(tampered),
        "unknown": Client().get(unknown),
        "garbage": Client().get("/how-is-your-back/x/"),
    }
    for page in pages.values():
        assert page.status_code == 404 and "This link does not work" in page.content.decode()
    with mock.patch("django.core.signing.time.time", return_value=dt.datetime.now().timestamp() + 15 * 86400):
        expired = Client().get(path)
    assert expired.status_code == 410 and "has expired" in expired.content.decode()
    FollowUp.objects.filter(pk=follow_up.pk).update(status=FollowUp.Status.STOPPED)
    stopped = Client().get(path)
    assert stopped.status_code == 410 and "have been stopped" in stopped.content.decode()


def test_activities_named_first_are_shown_on_later_follow_ups():
    request = CallbackRequestFactory(email="patient@example.test")
    first = FollowUpFactory(request=request, weeks=2)
    assert send(Client(), first).status_code == 302
    later = FollowUpFactory(request=request, weeks=6)
    html = Client().get(follow_up_answer_path(later)).content.decode()
    assert re.search(r'id="activities-named">.*Putting on socks.*Lifting my grandson', html, re.S)
    assert ">Putting on socks</textarea>" in html and ">Lifting my grandson</textarea>" in html


def test_bad_input_is_shown_next_to_the_field_and_nothing_is_stored():
    follow_up = FollowUpFactory()
    response = send(Client(), follow_up, {**ANSWERS, "pain_now": "eleven", "psfs_activity_1": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    # The message sits with its field, tied to it by aria-describedby.
    assert 'id="id_q-pain_now-error"' in html and 'aria-describedby="id_q-pain_now-help id_q-pain_now-error"' in html
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.SENT and follow_up.questionnaire_response is None


def test_the_global_rating_of_change_is_asked_from_week_2_on(settings):
    early = FollowUpFactory(weeks=1)
    assert 'id="section-change"' not in Client().get(follow_up_answer_path(early)).content.decode()
    answers = {key: value for key, value in ANSWERS.items() if key != "global_change"}
    assert send(Client(), early, answers).status_code == 302


def test_stop_link_get_changes_nothing_and_post_stops():
    follow_up = FollowUpFactory(status=FollowUp.Status.SCHEDULED, sent_at=None)
    path = follow_ups_stop_path(follow_up.request)
    page = Client().get(path)
    assert page.status_code == 200 and "Yes, stop these e-mails" in page.content.decode()
    follow_up.request.refresh_from_db()
    assert follow_up.request.follow_ups_stopped_at is None
    done = Client().post(path)
    assert done.status_code == 200 and "are stopped" in done.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.STOPPED
    assert follow_up.request.__class__.objects.get(pk=follow_up.request_id).follow_ups_stopped_at is not None
    assert Client().get(path[:-5] + "xxxx/").status_code == 404


def test_a_routine_follow_up_leaves_the_priority_alone(django_capture_on_commit_callbacks):
    follow_up = FollowUpFactory(request=CallbackRequestFactory(email="p@example.test", priority=Priority.URGENT))
    with django_capture_on_commit_callbacks(execute=True):
        send(Client(), follow_up)
    follow_up.request.refresh_from_db()
    assert follow_up.request.priority == Priority.URGENT
    assert not Notification.objects.filter(kind=Notification.Kind.STAFF_PRIORITY_RAISED).exists()


def test_an_emergency_answer_on_a_follow_up_shows_the_advice_tells_staff_and_is_in_the_history(
    django_capture_on_commit_callbacks, settings
):
    follow_up = FollowUpFactory()
    client = Client()
    # The emergency is acted on even though the rest of the page is unanswered.
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async") as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            follow_up_answer_path(follow_up), step_data({**SAFE, "bladder_bowel_control": "yes"}, SHOWN)
        )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Get medical help now" in page and settings.CLINIC_EMERGENCY_NUMBER in page
    request = follow_up.request
    request.refresh_from_db()
    assert request.priority == Priority.EMERGENCY and request.deadline is not None
    raised = Notification.objects.get(kind=Notification.Kind.STAFF_PRIORITY_RAISED)
    assert raised.recipient == settings.CLINIC_URGENT_EMAIL
    assert queued.call_args.kwargs["args"] == [raised.pk]
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.ANSWERED and follow_up.questionnaire_response.is_complete is False
    history = {event.field: event for event in RequestEvent.objects.filter(request=request)}
    assert "Emergency" in history["follow_up"].after and history["priority"].after == "Emergency"
    assert history["priority"].actor.username == "patient-signed-link"


def test_an_urgent_answer_on_a_follow_up_shows_see_a_doctor_today(django_capture_on_commit_callbacks):
    # A patient whose request was closed when the appointment was made: it comes back to the staff queue.
    request = CallbackRequestFactory(email="p@example.test", status="closed", outcome="appointment")
    follow_up = FollowUpFactory(request=request)
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = send(client, follow_up, {**ANSWERS, "fever": "yes"})
    assert "See a doctor today" in client.get(response["Location"]).content.decode()
    assert Notification.objects.filter(kind=Notification.Kind.STAFF_PRIORITY_RAISED, request=request).exists()
    request.refresh_from_db()
    assert request.status == "in_progress" and request.priority == Priority.URGENT


WET = "Getting out of bed, and I wet myself last night without noticing"


def send_rechecked(client, follow_up, recheck: dict, answers=None):
    """Send the page again with the safety question it asked again answered (``recheck``: field -> answer)."""
    data = {**step_data(answers or {**ANSWERS, "psfs_activity_1": WET}, SHOWN), **recheck}
    data["rechecks_shown"] = " ".join(key.removeprefix("recheck_") for key in recheck) or "bladder_bowel_control"
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        return client.post(follow_up_answer_path(follow_up), data)


def test_a_red_flag_phrase_in_an_activity_asks_the_safety_question_again_quoting_it_before_storing():
    follow_up = FollowUpFactory()
    page = send(Client(), follow_up, {**ANSWERS, "psfs_activity_1": WET})
    assert page.status_code == 200
    html = page.content.decode()
    # Asked again at the top of the page, their words quoted, with intake's question; not shown as a mistake.
    assert 'id="section-recheck"' in html and html.index('id="section-recheck"') < html.index('id="section-safety"')
    assert "You wrote \u2018" in html and "wet myself" in html
    assert "Is this loss of control of your bladder or bowels new in the last two weeks?" in html
    assert 'name="recheck_bladder_bowel_control"' in html and 'name="rechecks_shown"' in html
    assert "<title>Error:" not in html and "Please answer yes or no" not in html
    # The patient's other answers are still on the page, and nothing is stored yet.
    assert WET in html and 'value="3"' in html
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.SENT and follow_up.questionnaire_response is None
    # Sent again without an answer to it: now it is missing, and still nothing is stored.
    again = send_rechecked(Client(), follow_up, {})
    assert again.status_code == 200 and "Please answer yes or no" in again.content.decode()
    assert "<title>Error:" in again.content.decode()
    follow_up.refresh_from_db()
    assert follow_up.questionnaire_response is None


def test_no_to_the_safety_question_asked_again_stores_the_answers_with_it_for_staff(
    django_capture_on_commit_callbacks,
):
    follow_up = FollowUpFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = send_rechecked(Client(), follow_up, {"recheck_bladder_bowel_control": "no"})
    assert response.status_code == 302 and response["Location"] == reverse("callbacks:follow_up_done")
    follow_up.refresh_from_db()
    stored = follow_up.questionnaire_response
    assert follow_up.status == FollowUp.Status.ANSWERED and stored.is_complete
    # Kept the way intake keeps it, next to the possible red flag that staff read.
    assert stored.rechecks == {"bladder_bowel_control": False}
    assert any(reason["rule_id"].startswith("possible_red_flag.") for reason in stored.triage_reasons)
    assert Notification.objects.filter(kind=Notification.Kind.STAFF_PRIORITY_RAISED, request=follow_up.request).exists()
    follow_up.request.refresh_from_db()
    assert follow_up.request.priority == Priority.URGENT


def test_yes_to_the_safety_question_asked_again_is_an_emergency(django_capture_on_commit_callbacks, settings):
    follow_up = FollowUpFactory()
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = send_rechecked(client, follow_up, {"recheck_bladder_bowel_control": "yes"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Get medical help now" in page and settings.CLINIC_EMERGENCY_NUMBER in page
    follow_up.refresh_from_db()
    stored = follow_up.questionnaire_response
    assert stored.rechecks == {"bladder_bowel_control": True}
    assert stored.answers.get(question_id="bladder_bowel_control").value is True
    request = follow_up.request
    request.refresh_from_db()
    assert request.priority == Priority.EMERGENCY
    raised = Notification.objects.get(kind=Notification.Kind.STAFF_PRIORITY_RAISED, request=request)
    assert raised.recipient == settings.CLINIC_URGENT_EMAIL
    assert "Emergency" in RequestEvent.objects.get(request=request, field="follow_up").after


def test_a_phrase_about_a_question_answered_yes_is_not_asked_again():
    follow_up = FollowUpFactory()
    response = send(
        Client(), follow_up, {**ANSWERS, "fever": "yes", "psfs_activity_1": "Sleeping, I am hot and shivery"}
    )
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.questionnaire_response.rechecks == {}


@pytest.mark.parametrize("status", ["booked", "contacted"])
def test_a_red_flag_from_a_booked_or_contacted_patient_awaits_a_response_again(
    status, django_capture_on_commit_callbacks
):
    # Weeks after the request was answered: its old deadline lies in the past and staff saw it "responded".
    long_ago = timezone.now() - dt.timedelta(weeks=6)
    request = CallbackRequestFactory(email="p@example.test", status=status, priority=Priority.URGENT, deadline=long_ago)
    follow_up = FollowUpFactory(request=request, weeks=6)
    with django_capture_on_commit_callbacks(execute=True):
        send(Client(), follow_up, {**ANSWERS, "fever": "yes"})
    request.refresh_from_db()
    assert request.status == "in_progress" and status_awaits_response(request.status)
    assert request.priority == Priority.URGENT, "already urgent: the same priority, news all the same"
    assert request.deadline > timezone.now(), "the deadline runs from the red flag, not from weeks ago"
    assert Notification.objects.filter(kind=Notification.Kind.STAFF_PRIORITY_RAISED, request=request).exists()
    changes = {event.field: event for event in RequestEvent.objects.filter(request=request)}
    assert changes["status"].before.lower() == status and changes["status"].after == "In progress"
    assert changes["deadline"].actor.username == "patient-signed-link"


def test_a_routine_follow_up_leaves_a_booked_request_booked(django_capture_on_commit_callbacks):
    request = CallbackRequestFactory(email="p@example.test", status="booked")
    follow_up = FollowUpFactory(request=request)
    with django_capture_on_commit_callbacks(execute=True):
        send(Client(), follow_up)
    request.refresh_from_db()
    assert request.status == "booked"
    assert not RequestEvent.objects.filter(request=request, field__in=["status", "deadline", "priority"]).exists()


# Erasure (security review 27, finding 11)


def answered_in_a_browser(settings):
    follow_up = FollowUpFactory()
    client = Client()
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        response = client.post(
            follow_up_answer_path(follow_up), step_data({**SAFE, "bladder_bowel_control": "yes"}, SHOWN)
        )
    page = client.get(response["Location"]).content.decode()
    assert follow_up.request.reference in page and "Get medical help now" in page
    return client, follow_up.request


def test_erasure_deletes_the_session_that_answered_a_follow_up(settings):
    from django.contrib.auth.models import Group
    from django.contrib.sessions.models import Session

    from callbacks.privacy.services import callback_request_erase
    from tests.factories import UserFactory

    client, request = answered_in_a_browser(settings)
    officer = UserFactory(username="dpo")
    officer.groups.add(Group.objects.get(name="Privacy officer"))
    callback_request_erase(request=request, actor=officer)
    assert not Session.objects.filter(session_key=client.session.session_key).exists()
    after = client.get(reverse("callbacks:follow_up_done"))
    assert after.status_code == 302 and request.reference not in after.content.decode()


def test_the_page_after_a_follow_up_is_gone_once_its_request_is_(settings):
    """Whatever else reached the session: the page checks that its request still exists on every read."""
    client, request = answered_in_a_browser(settings)
    request.delete()
    after = client.get(reverse("callbacks:follow_up_done"))
    assert after.status_code == 302 and after["Location"] == reverse("home")
    assert "callbacks_follow_up_done" not in client.session


def test_a_patient_whose_email_was_marked_failed_but_arrived_can_still_answer_and_it_is_not_resent_after():
    # A mail server can fail the reply after it took the message: the patient has the link and uses it.
    follow_up = FollowUpFactory()
    notification = Notification.objects.create(
        request=follow_up.request, follow_up=follow_up, kind=Notification.Kind.FOLLOW_UP, recipient="p@example.test"
    )
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=smtplib.SMTPDataError(554, b"rejected")):
        notification_send(notification_id=notification.pk)
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.FAILED
    assert Client().get(follow_up_answer_path(follow_up)).status_code == 200
    assert send(Client(), follow_up).status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.ANSWERED
    # Its link is spent: the failed e-mail is not sent again.
    notification.refresh_from_db()
    assert notification_resend(notification=notification) is False
