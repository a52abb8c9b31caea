""" "Help us prepare for your call": the rest of the questionnaire after the reference, by a signed link.

Each page is saved to the stored request when sent and re-triaged (a tier rises, never falls; a rise tells staff
again and shows the patient the advice at once). The link works on any device and never shows an answer given
or the patient's details; it expires. Once the request is finished it takes no change
(tests/callbacks/web/test_finished_answers.py).
"""

import datetime as dt
import re
from pathlib import Path
from unittest import mock

import pytest
import yaml
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.urls import reverse

from callbacks.models import Notification, Priority
from callbacks.notifications.delivery import notification_send
from callbacks.requests.links import questionnaire_continue_token
from intake.definitions import BACK_PAIN, DEFINITIONS_DIR
from tests.callbacks.web.test_intake_flow import post_step, prepare_link, send_request
from tests.factories import UserFactory
from tests.support.questionnaire import NO_RED_FLAGS, PREPARE_STEPS

pytestmark = pytest.mark.django_db


def saved(client, url, answers, shown=()):
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        return post_step(client, url, answers, shown)


def test_the_link_opens_on_another_device_and_lists_only_what_remains(sent):
    request, link = sent
    other_device = Client()
    page = other_device.get(link)
    assert page.status_code == 200
    html = page.content.decode()
    assert "0 of 5 parts answered" in html
    remaining = re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', html.split('id="parts-remaining"')[1])
    assert [url.rstrip("/").rsplit("/", 1)[1] for url, _ in remaining] == PREPARE_STEPS
    assert saved(other_device, f"{link}where/", NO_RED_FLAGS["where"]).status_code == 302
    html = other_device.get(link).content.decode()
    assert "1 of 5 parts answered" in html
    assert f"{link}where/" not in html
    assert request.questionnaire_response.answers.filter(question_id="pain_areas").exists()


def test_the_link_never_shows_answers_given_or_the_patients_details(client, sent):
    request, link = sent
    assert (
        saved(
            client,
            f"{link}when/",
            {**NO_RED_FLAGS["when"], "onset": "injury", "injury_details": "Fell off"},
            shown=["injury_details"],
        ).status_code
        == 302
    )
    stranger = Client()
    pages = [stranger.get(link)] + [stranger.get(f"{link}{step}/") for step in PREPARE_STEPS]
    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        for detail in (request.name, "7400", request.reference, "Fell off", "Spasms in my lower back"):
            assert detail not in html, detail
        # Every page starts empty: no answer is ticked or filled in.
        assert " checked" not in html
    when = stranger.get(f"{link}when/").content.decode()
    assert 'value="injury"' in when and not re.search(r'value="injury"[^>]*checked', when)
    # The safety questions were answered with the request: the link cannot reach them.
    assert stranger.get(f"{link}safety/")["Location"] == link


@pytest.mark.parametrize("how", ["tampered", "expired", "unknown"])
def test_a_tampered_expired_or_unknown_link_changes_nothing(client, sent, how, settings):
    request, link = sent
    token = link.rstrip("/").rsplit("/", 1)[1]
    if how == "tampered":
        link = link.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    elif how == "expired":
        settings.CLINIC_CONTINUE_LINK_DAYS = 1
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1, minutes=1)
        with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
            response = client.get(link)
        assert response.status_code == 404
        return
    else:
        request.pk = 10**6
        link = reverse("callbacks:prepare", kwargs={"token": questionnaire_continue_token(request)})
    page = client.get(link)
    assert page.status_code == 404
    assert "This link no longer works" in page.content.decode()
    assert saved(client, f"{link}where/", NO_RED_FLAGS["where"]).status_code == 404
    assert not request.questionnaire_response.answers.filter(question_id="pain_areas").exists()


def test_every_later_page_saved_marks_the_response_complete_and_the_link_says_so(client, sent):
    request, link = sent
    for step in PREPARE_STEPS:
        response = saved(client, f"{link}{step}/", NO_RED_FLAGS[step])
        assert response.status_code == 302
    # Each page led to the next one still open, and the last to the overview.
    assert response["Location"] == link
    request.questionnaire_response.refresh_from_db()
    assert request.questionnaire_response.is_complete
    assert "that is everything" in client.get(link).content.decode()
    # Routine answers raise nothing: no second notification to staff.
    assert not Notification.objects.filter(kind=Notification.Kind.STAFF_PRIORITY_RAISED).exists()


def test_a_later_answer_never_lowers_the_tier(client, django_capture_on_commit_callbacks):
    request, confirmation = send_request(client, django_capture_on_commit_callbacks, {"health": {"fever": "yes"}})
    assert request.priority == Priority.URGENT
    link = prepare_link(confirmation)
    for step in PREPARE_STEPS:
        assert saved(client, f"{link}{step}/", NO_RED_FLAGS[step]).status_code == 302
    request.refresh_from_db()
    request.questionnaire_response.refresh_from_db()
    assert request.priority == Priority.URGENT
    assert request.questionnaire_response.tier == "urgent"
    assert [r["rule_id"] for r in request.questionnaire_response.triage_reasons] == ["fever"]


@pytest.fixture
def definition_with_a_later_urgent_rule(settings, tmp_path):
    """back-pain v3 plus a v4 in which a later answer ("I can hardly walk") is urgent, as a clinic might add."""
    raw = yaml.safe_load((DEFINITIONS_DIR / BACK_PAIN / "v3.yaml").read_text())
    raw["version"] = 4
    raw["rules"].append(
        {
            "id": "cannot_walk",
            "tier": "urgent",
            "when": {"question": "walking", "equals": "cannot_walk"},
            "reason": "Hardly able to walk (test rule).",
            "source": "Test definition",
        }
    )
    folder = Path(tmp_path) / "defs" / BACK_PAIN
    folder.mkdir(parents=True)
    (folder / "v4.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    settings.INTAKE_DEFINITION_DIRS = [DEFINITIONS_DIR, tmp_path / "defs"]


def test_a_rise_in_tier_shows_the_advice_at_once_and_tells_staff_again(
    client, django_capture_on_commit_callbacks, definition_with_a_later_urgent_rule, settings
):
    request, confirmation = send_request(client, django_capture_on_commit_callbacks)
    assert request.questionnaire_response.definition_version == 4
    routine_deadline = request.deadline
    link = prepare_link(confirmation)
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async") as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = post_step(client, f"{link}daily_life/", {**NO_RED_FLAGS["daily_life"], "walking": "cannot_walk"})
    assert response.status_code == 302
    raised = Notification.objects.get(kind=Notification.Kind.STAFF_PRIORITY_RAISED)
    assert raised.recipient == settings.CLINIC_URGENT_EMAIL
    # Only the row's id goes to the broker, after commit.
    assert queued.call_args.kwargs["args"] == [raised.pk]
    request.refresh_from_db()
    assert request.priority == Priority.URGENT
    assert request.deadline < routine_deadline
    # The very next page carries the advice, once.
    next_page = client.get(response["Location"]).content.decode()
    assert "See a doctor today" in next_page
    assert "See a doctor today" not in client.get(response["Location"]).content.decode()
    # A stranger holding the link is not shown it.
    assert "See a doctor today" not in Client().get(link).content.decode()
    notification_send(notification_id=raised.pk)
    [message] = mail.outbox
    assert message.subject.startswith("[Urgent] Priority raised")
    assert request.reference in message.body and "walk" not in message.body.lower()


def test_staff_see_a_patient_who_stopped_halfway_with_what_they_answered(client, sent):
    request, link = sent
    assert saved(client, f"{link}where/", NO_RED_FLAGS["where"]).status_code == 302
    assert saved(client, f"{link}when/", NO_RED_FLAGS["when"]).status_code == 302
    # ... and the patient stops here.
    user = UserFactory(username="desk")
    user.groups.add(Group.objects.get(name="Triage staff"))
    staff = Client()
    staff.force_login(user)
    queue = staff.get(reverse("admin:callbacks_callbackrequest_changelist")).content.decode()
    assert request.reference in queue
    page = staff.get(reverse("admin:callbacks_callbackrequest_change", args=[request.pk])).content.decode()
    # The two safety parts came with the request; two of the five later parts followed.
    assert "4 of 7 parts answered" in page
    assert "Still open: How much it hurts, Your day-to-day life, What you have tried, and your health." in page
    assert "Lower back, middle" in page  # an answer from "Where it hurts"
    assert "Less than a week" in page  # and one from "When and how it started"


def test_the_confirmation_e_mail_carries_the_link_to_continue(client, sent, settings):
    confirmation = Notification.objects.get(kind=Notification.Kind.PATIENT_CONFIRMATION)
    notification_send(notification_id=confirmation.pk)
    [message] = mail.outbox
    url = re.search(r"(https?://\S+/your-questions/\S+/)", message.body).group(1)
    assert url.startswith(settings.SITE_URL)
    assert Client().get(url.removeprefix(settings.SITE_URL)).status_code == 200
    assert "We aim to call:" in message.body
