"""Answers are never overwritten (issue 24, item 7).

A finished request (the clinic has spoken with the patient, or closed it) keeps its link working: it says what
was sent and when, and how to change something, and no page of it stores anything. Before that, a part sent
again is a correction: the answers it replaces are kept as an earlier version that staff see beside the new one,
and the new version is screened for red flags as every version is.
"""

import re
from unittest import mock

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callbacks.models import CallbackRequest, Priority
from callbacks.requests.services import RequestAnswersFinished, callback_request_questionnaire_step_save
from callbacks.rules.requests import RequestStatus, status_takes_answers
from intake.selectors import Definition
from tests.callbacks.web.test_intake_flow import prepare_link, send_request
from tests.callbacks.web.test_prepare import saved
from tests.callbacks.web.test_redflag_recheck import BOTH_LEGS, CAUDA_EQUINA_WORDS, answer_every_step
from tests.factories import UserFactory
from tests.support.questionnaire import NO_RED_FLAGS

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def staff_page(request) -> str:
    user = UserFactory(username="clinician")
    user.groups.add(Group.objects.get(name="Triage staff"))
    staff = Client()
    staff.force_login(user)
    return text(staff.get(reverse("admin:callbacks_callbackrequest_change", args=[request.pk])))


def finish(request, status):
    outcome = "advice" if status == RequestStatus.CLOSED else ""
    CallbackRequest.objects.filter(pk=request.pk).update(status=status, outcome=outcome)


@pytest.mark.parametrize(
    ("status", "takes"),
    [
        (RequestStatus.NEW, True),
        (RequestStatus.IN_PROGRESS, True),
        (RequestStatus.BOOKED, True),
        (RequestStatus.CONTACTED, False),
        (RequestStatus.CLOSED, False),
    ],
)
def test_a_request_is_finished_for_answers_once_the_clinic_has_spoken_with_the_patient_or_closed_it(status, takes):
    assert status_takes_answers(status) is takes


@pytest.mark.parametrize("status", [RequestStatus.CONTACTED, RequestStatus.CLOSED])
def test_a_finished_requests_link_shows_what_was_sent_and_takes_no_change(client, sent, status, settings):
    settings.CLINIC_PHONE = "020 7946 0000"
    request, link = sent
    assert saved(client, f"{link}where/", NO_RED_FLAGS["where"]).status_code == 302
    response = request.questionnaire_response
    response.refresh_from_db()
    finish(request, status)

    page = Client().get(link)
    assert page.status_code == 200
    html = text(page)
    sent_on = timezone.localtime(response.answered_at).strftime("%-d %B %Y")
    assert f"You sent these answers on {sent_on}. To change something, call us on" in html
    assert 'href="tel:+442079460000"' in html
    sent_parts = re.findall(r"<li>([^<]+)</li>", html.split('id="parts-sent"')[1].split("</ul>")[0])
    assert sent_parts == ["First, a few safety questions", "Your age and general health", "Where it hurts"]
    # Read-only: no form, no way into a part, and still no answer or detail of the patient's.
    assert "<form" not in html.split("<main")[1]
    assert f"{link}when/" not in html
    for detail in (request.name, request.reference, "Lower back"):
        assert detail not in html

    # A part's page leads back to that summary; a part sent anyway stores nothing and says why.
    assert client.get(f"{link}when/")["Location"] == link
    refused = saved(client, f"{link}when/", NO_RED_FLAGS["when"])
    assert refused.status_code == 302 and refused["Location"] == link
    assert "we have not changed your answers" in text(client.get(link))
    again = saved(client, f"{link}where/", {"pain_areas": ["neck"], "pain_feel": ["ache"]})
    assert again["Location"] == link
    response.refresh_from_db()
    assert not response.answers.filter(question_id="duration").exists()
    assert response.answers.get(question_id="pain_areas").value == ["lower_back_centre", "buttock_left"]
    assert response.version == 1 and not response.revisions.exists()


@pytest.mark.parametrize("status", [RequestStatus.IN_PROGRESS, RequestStatus.BOOKED])
def test_a_request_not_yet_finished_still_takes_the_rest_of_the_answers(client, sent, status):
    request, link = sent
    CallbackRequest.objects.filter(pk=request.pk).update(status=status)
    assert "Still to answer" in text(client.get(link))
    assert saved(client, f"{link}when/", NO_RED_FLAGS["when"])["Location"] != link
    assert request.questionnaire_response.answers.filter(question_id="duration").exists()


def test_a_page_sent_as_staff_close_the_request_stores_nothing(sent):
    """The status is read under the request's row lock: a page that arrives just after closing changes nothing."""
    request, _link = sent
    finish(request, RequestStatus.CLOSED)
    definition: Definition = request.questionnaire_response.definition
    when = next(step for step in definition.steps if step.id == "when")
    with pytest.raises(RequestAnswersFinished):
        callback_request_questionnaire_step_save(
            request_id=request.pk, step=when, step_answers={"duration": "under_1_week"}
        )
    assert not request.questionnaire_response.answers.filter(question_id="duration").exists()


def test_a_part_sent_again_is_a_new_version_and_staff_see_both(client, sent):
    request, link = sent
    assert saved(client, f"{link}when/", NO_RED_FLAGS["when"]).status_code == 302
    assert saved(client, f"{link}where/", NO_RED_FLAGS["where"]).status_code == 302
    response = request.questionnaire_response
    response.refresh_from_db()
    # Adding parts corrects nothing: still the first version.
    assert response.version == 1 and not response.revisions.exists()

    # Back to "When and how it started": the page says that sending it again keeps the earlier answers.
    page = text(client.get(f"{link}when/"))
    assert "You have already sent this part." in page and "keeps the ones you sent before" in page
    assert text(client.get(f"{link}pain/")).count("You have already sent this part.") == 0
    assert saved(client, f"{link}when/", {**NO_RED_FLAGS["when"], "duration": "1_to_3_months"}).status_code == 302

    response.refresh_from_db()
    assert response.version == 2
    assert response.answers.get(question_id="duration").value == "1_to_3_months"
    [earlier] = response.revisions.all()
    assert earlier.version == 1
    assert earlier.answers["duration"] == "under_1_week"
    # The earlier version is the whole account as it stood, not just the changed answer.
    assert earlier.answers["pain_areas"] == ["lower_back_centre", "buttock_left"]
    assert earlier.answers["saddle_numbness"] is False

    page = staff_page(request)
    current, history = page.split("Earlier version of these answers")
    assert "One to three months" in current and "Less than a week" not in current
    assert "The answers above are version 2" in history
    assert "Version 1: sent" in history and "replaced" in history
    changed_row = next(row for row in history.split("<tr") if "How long have you had this back pain?" in row)
    assert "Changed later" in changed_row and "Less than a week" in changed_row
    unchanged_row = next(row for row in history.split("<tr") if "How did it start?" in row)
    assert "Changed later" not in unchanged_row


def test_the_same_part_sent_twice_unchanged_is_no_new_version(client, sent):
    request, link = sent
    for _ in range(2):
        assert saved(client, f"{link}where/", NO_RED_FLAGS["where"]).status_code == 302
    response = request.questionnaire_response
    response.refresh_from_db()
    assert response.version == 1 and not response.revisions.exists()
    assert "Earlier version" not in staff_page(request)


def test_a_correction_that_adds_a_red_flag_is_screened_and_raises_the_priority(client, sent):
    request, link = sent
    assert saved(client, f"{link}where/", NO_RED_FLAGS["where"]).status_code == 302
    request.refresh_from_db()
    assert request.priority == Priority.ROUTINE
    # Corrected: the body diagram now shows pain in both legs, against the "no" to the both-legs safety question.
    corrected = saved(client, f"{link}where/", {"pain_areas": BOTH_LEGS, "pain_feel": ["ache"]})
    assert corrected["Location"].endswith("/a-quick-check/")
    request.refresh_from_db()
    response = request.questionnaire_response
    response.refresh_from_db()
    assert request.priority == Priority.URGENT
    assert [reason["rule_id"] for reason in response.triage_reasons] == ["possible_red_flag.both_legs"]
    assert response.version == 2
    [earlier] = response.revisions.all()
    assert earlier.tier == "routine" and earlier.answers["pain_areas"] == ["lower_back_centre", "buttock_left"]


def test_a_correction_never_lowers_the_priority_and_staff_keep_the_red_flag_answer(
    client, django_capture_on_commit_callbacks
):
    request, confirmation = send_request(client, django_capture_on_commit_callbacks, {"health": {"fever": "yes"}})
    assert request.priority == Priority.URGENT
    link = prepare_link(confirmation)
    assert saved(client, f"{link}where/", NO_RED_FLAGS["where"]).status_code == 302
    # A recheck of "fever" is not reachable by a link (the safety steps are not), so the correction is a later part;
    # whatever the patient changes, the urgent tier and its reason stay, and the first version stays readable.
    assert saved(client, f"{link}where/", {"pain_areas": ["neck"], "pain_feel": ["ache"]}).status_code == 302
    request.refresh_from_db()
    response = request.questionnaire_response
    response.refresh_from_db()
    assert request.priority == Priority.URGENT and response.tier == "urgent"
    assert [reason["rule_id"] for reason in response.triage_reasons] == ["fever"]
    [earlier] = response.revisions.all()
    assert earlier.tier == "urgent" and earlier.answers["fever"] is True
    page = staff_page(request)
    assert "(triage then: Urgent" in page.split("Earlier version of these answers")[1]


def test_a_yes_to_a_safety_question_asked_again_is_a_new_version_beside_the_first_no(client):
    last = answer_every_step(client, {"treatment": {"anything_else": CAUDA_EQUINA_WORDS}})
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        assert client.post(last["Location"], {"recheck_bladder_bowel_control": "yes"}).status_code == 302
    request = CallbackRequest.objects.get()
    assert request.priority == Priority.EMERGENCY
    response = request.questionnaire_response
    assert response.answers.get(question_id="bladder_bowel_control").value is True
    [earlier] = response.revisions.all()
    assert earlier.answers["bladder_bowel_control"] is False and earlier.tier == "urgent"
    history = staff_page(request).split("Earlier version of these answers")[1]
    row = next(r for r in history.split("<tr") if "Changed later" in r)
    assert "No" in row
