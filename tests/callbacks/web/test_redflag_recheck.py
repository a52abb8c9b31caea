"""End to end through the real views: red flags in a patient's own words or marks, asked again, seen by staff.

A patient who says "no" to every safety question and then writes a cauda equina symptom, or marks on the body
diagram what they denied, on the pages after the request was sent ("help us prepare for your call"), is asked
that question again on the very next page; whatever they answer, the stored request is at least urgent with a
"possible red flag" reason that staff see on its page and in the queue, and no health detail goes to the logs,
the notifications' arguments or the e-mails. The details page's reason box is screened before sending.
"""

import logging
import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.urls import reverse

from callbacks.models import CallbackRequest, Notification, Priority
from callbacks.notifications.delivery import notification_send
from tests.callbacks.web.test_forms import form_data
from tests.factories import UserFactory
from tests.support.questionnaire import NO_RED_FLAGS, PREPARE_STEPS, SCREENING_STEPS, step_data

pytestmark = pytest.mark.django_db

CAUDA_EQUINA_WORDS = "Since Friday I keep wetting myself"
BOTH_LEGS = ["lower_back_centre", "thigh_left", "lower_leg_right"]


def answer_every_step(client, overrides):
    """The short path to a stored request (every safety question "no"), then each later page through the
    link, until a page leads somewhere other than the next page; that response."""
    url = reverse("callbacks:request")
    for step in SCREENING_STEPS:
        response = client.post(url, step_data({**NO_RED_FLAGS[step], **overrides.get(step, {})}))
        assert response.status_code == 302, response.content.decode()[:2000]
        url = response["Location"]
    sent = client.post(url, form_data())
    assert sent.status_code == 302, sent.content.decode()[:2000]
    link = re.search(r'id="prepare-start" href="([^"]+)"', client.get(sent["Location"]).content.decode()).group(1)
    response = None
    for step in PREPARE_STEPS:
        response = client.post(f"{link}{step}/", step_data({**NO_RED_FLAGS[step], **overrides.get(step, {})}))
        assert response.status_code == 302, response.content.decode()[:2000]
        if response["Location"].endswith("/a-quick-check/"):
            break
    return response


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def staff_client():
    user = UserFactory(username="clinician")
    user.groups.add(Group.objects.get(name="Triage staff"))
    client = Client()
    client.force_login(user)
    return client


def staff_sees_the_possible_red_flag(staff_client, request_obj, words):
    page = text(staff_client.get(reverse("admin:callbacks_callbackrequest_change", args=[request_obj.pk])))
    assert "Possible red flag: check with the patient today" in page
    assert words in page
    queue = staff_client.get(reverse("admin:callbacks_callbackrequest_changelist"))
    row = next(line for line in text(queue).split("<tr") if request_obj.reference in line)
    assert "triage-badge--possible" in row and "Possible red flag" in row


def no_health_detail_leaves(caplog, request_obj, words):
    for notification in Notification.objects.filter(request=request_obj):
        notification_send(notification_id=notification.pk)
    assert mail.outbox, "the staff notification was sent"
    for message in mail.outbox:
        assert words not in message.body and words not in message.subject
        assert "possible red flag" not in message.body.lower()
    assert words not in caplog.text


def test_a_patient_who_denies_everything_but_writes_a_cauda_equina_symptom_is_asked_again_and_flagged(
    client, staff_client, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=False):
        last = answer_every_step(client, {"treatment": {"anything_else": CAUDA_EQUINA_WORDS}})
    check_url = last["Location"]
    assert check_url.endswith("/a-quick-check/")
    # The words alone already make the stored request urgent, and staff were told again.
    stored = CallbackRequest.objects.get()
    assert stored.priority == Priority.URGENT
    assert Notification.objects.filter(kind=Notification.Kind.STAFF_PRIORITY_RAISED).count() == 1
    page = text(client.get(check_url))
    assert "You wrote \u2018Since Friday I keep wetting myself\u2019." in page
    assert "Is this loss of control of your bladder or bowels new in the last two weeks?" in page
    assert 'name="recheck_bladder_bowel_control"' in page
    # Someone else holding the link is not shown what the patient wrote.
    stranger = Client().get(check_url)
    assert stranger.status_code == 302 and CAUDA_EQUINA_WORDS not in text(Client().get(stranger["Location"]))
    # An unanswered question is shown again with its message, tied to the question.
    unanswered = text(client.post(check_url, {}))
    assert "Please answer yes or no before we send your request." in unanswered
    assert 'aria-describedby="id_recheck_bladder_bowel_control-error"' in unanswered
    answered = client.post(check_url, {"recheck_bladder_bowel_control": "no"})
    assert answered.status_code == 302
    # "No" gives the patient no advice (they said it is not so), while a clinician still looks the same day: the
    # question is one of an emergency rule (docs/CLINICAL_SAFETY.md, asked_again_denied).
    assert "See a doctor today" not in text(client.get(answered["Location"]))
    stored.refresh_from_db()
    assert stored.priority == Priority.URGENT
    reasons = stored.questionnaire_response.triage_reasons
    [flag] = [reason for reason in reasons if reason["rule_id"] == "possible_red_flag.bladder_bowel_control"]
    assert flag["tier"] == "urgent"
    assert "Since Friday I keep wetting myself" in flag["text"]
    assert "asked again: no" in flag["text"]
    staff_sees_the_possible_red_flag(staff_client, stored, CAUDA_EQUINA_WORDS)
    no_health_detail_leaves(caplog, stored, CAUDA_EQUINA_WORDS)


def test_a_yes_when_asked_again_follows_the_emergency_rule_and_its_advice(client, settings):
    settings.CLINIC_EMERGENCY_NUMBER = "999"
    last = answer_every_step(client, {"treatment": {"anything_else": CAUDA_EQUINA_WORDS}})
    answered = client.post(last["Location"], {"recheck_bladder_bowel_control": "yes"})
    page = text(client.get(answered["Location"]))
    assert "Get medical help now" in page and "999" in page
    stored = CallbackRequest.objects.get()
    assert stored.priority == Priority.EMERGENCY
    rule_ids = [reason["rule_id"] for reason in stored.questionnaire_response.triage_reasons]
    assert rule_ids[:2] == ["bladder_bowel_control", "possible_red_flag.bladder_bowel_control"]
    assert "asked again: yes" in stored.questionnaire_response.triage_reasons[1]["text"]
    # Staff heard of both rises (to urgent, then to emergency) at the urgent address.
    raised = Notification.objects.filter(kind=Notification.Kind.STAFF_PRIORITY_RAISED)
    assert [n.recipient for n in raised] == [settings.CLINIC_URGENT_EMAIL] * 2


def test_a_body_diagram_that_contradicts_the_both_legs_answer_is_asked_again_and_flagged(client, staff_client):
    last = answer_every_step(client, {"where": {"pain_areas": BOTH_LEGS, "pain_feel": ["ache"]}})
    check_url = last["Location"]
    assert check_url.endswith("/a-quick-check/")
    page = text(client.get(check_url))
    assert "You marked pain in both legs on the body diagram." in page
    assert "Is this in both of your legs, and is it new or worse in the last two weeks?" in page
    client.post(check_url, {"recheck_both_legs": "no"})
    stored = CallbackRequest.objects.get()
    assert stored.priority == Priority.URGENT
    [flag] = stored.questionnaire_response.triage_reasons
    assert flag["rule_id"] == "possible_red_flag.both_legs"
    assert flag["text"].startswith("Marked pain in both legs on the body diagram.")
    staff_sees_the_possible_red_flag(staff_client, stored, "Marked pain in both legs on the body diagram")


def test_the_reason_box_is_screened_when_the_details_are_sent_and_asked_again_on_the_same_page(client):
    url = reverse("callbacks:request")
    for step in SCREENING_STEPS:
        url = client.post(url, step_data(NO_RED_FLAGS[step]))["Location"]
    details_url = url
    assert details_url.endswith("/your-details/")
    first = client.post(details_url, form_data(reason="Back spasms and my legs keep giving way"))
    assert first.status_code == 200
    assert not CallbackRequest.objects.exists()
    page = text(first)
    assert "Before we send your request" in page
    assert "You wrote \u2018my legs keep giving way\u2019." in page
    assert 'value="Alex Example"' in page, "the details are kept"
    second = client.post(
        details_url, form_data(reason="Back spasms and my legs keep giving way", recheck_both_legs="no")
    )
    assert second.status_code == 302
    stored = CallbackRequest.objects.get()
    assert stored.priority == Priority.URGENT
    [flag] = stored.questionnaire_response.triage_reasons
    assert flag["rule_id"] == "possible_red_flag.both_legs"
    assert "in the request's reason" in flag["text"] and "asked again: no" in flag["text"]
    # The reason is not asked about again when the later pages are saved.
    link = re.search(r'id="prepare-start" href="([^"]+)"', client.get(second["Location"]).content.decode()).group(1)
    saved = client.post(f"{link}where/", step_data(NO_RED_FLAGS["where"]))
    assert not saved["Location"].endswith("/a-quick-check/")


def test_asked_again_on_the_details_page_a_question_reads_as_a_question_at_the_top_and_a_yes_can_advise_at_once(
    client,
):
    url = reverse("callbacks:request")
    for step in SCREENING_STEPS:
        url = client.post(url, step_data(NO_RED_FLAGS[step]))["Location"]
    first = text(client.post(url, form_data(reason="Back spasms, and my legs keep giving way. Hot and shivery too")))
    # A question, not an error: no "Error:" title, no error summary, no "please answer" message yet.
    assert "<title>Error" not in first
    assert "Please answer yes or no" not in first and 'id="error-summary"' not in first
    # At the top of the form, before the patient's details.
    assert first.index("Before we send your request") < first.index("About you")
    assert "Is this in both of your legs" in first and "Have you had a high temperature" in first
    # The browser script shows the advice under a "yes" at once: the form says which answers call for which.
    assert 'data-emergency-questions="both_legs"' in first and 'data-urgent-questions="fever"' in first
    assert 'id="emergency-inline"' in first and 'id="urgent-inline"' in first
    assert "Press \u201cSend my request\u201d to send your request" in first
    assert 'name="rechecks_shown" value="both_legs fever"' in first
    # Sent again without an answer (the browser sends the page's hidden list back), it is an error by the question.
    again = text(
        client.post(
            url,
            form_data(
                reason="Back spasms, and my legs keep giving way. Hot and shivery too", rechecks_shown="both_legs fever"
            ),
        )
    )
    assert "Please answer yes or no before we send your request." in again
    assert not CallbackRequest.objects.exists()


def test_a_yes_on_the_quick_check_page_is_followed_by_its_advice_and_the_page_can_show_it_at_once(client):
    last = answer_every_step(client, {"treatment": {"anything_else": "I keep shivering and sweating at night"}})
    check_url = last["Location"]
    page = text(client.get(check_url))
    assert 'data-urgent-questions="fever"' in page and 'id="urgent-inline"' in page
    assert 'data-question="fever"' in page
    answered = client.post(check_url, {"recheck_fever": "yes"})
    assert "See a doctor today" in text(client.get(answered["Location"]))


def test_a_routine_patient_meets_no_extra_question(client):
    last = answer_every_step(client, {})
    assert not last["Location"].endswith("/a-quick-check/")
    stored = CallbackRequest.objects.get()
    assert stored.priority == Priority.ROUTINE
    assert stored.questionnaire_response.is_complete


def details_page(client):
    """The details page after the short path's safety questions, every one answered "no"."""
    url = reverse("callbacks:request")
    for step in SCREENING_STEPS:
        url = client.post(url, step_data(NO_RED_FLAGS[step]))["Location"]
    assert url.endswith("/your-details/")
    return url


def test_the_patients_words_are_quoted_escaped(client, staff_client):
    reason = "I wet myself <script>alert(2)</script>"
    details_url = details_page(client)
    details = client.post(details_url, form_data(reason=reason)).content.decode()
    assert "<script>alert" not in details and "I wet myself &lt;script&gt;alert" in details
    sent = client.post(details_url, form_data(reason=reason, recheck_bladder_bowel_control="no"))
    link = re.search(r'id="prepare-start" href="([^"]+)"', client.get(sent["Location"]).content.decode()).group(1)
    words = "my legs are numb <script>alert(1)</script>"
    check = client.post(f"{link}treatment/", step_data({**NO_RED_FLAGS["treatment"], "anything_else": words}))
    page = client.get(check["Location"]).content.decode()
    assert "<script>alert" not in page and "You wrote \u2018my legs are numb &lt;script&gt;alert\u2019." in page
    client.post(check["Location"], {"recheck_both_legs": "no"})
    stored = CallbackRequest.objects.get()
    staff_page = staff_client.get(reverse("admin:callbacks_callbackrequest_change", args=[stored.pk])).content.decode()
    assert "<script>alert" not in staff_page and "my legs are numb &lt;script&gt;alert" in staff_page


def test_a_yes_to_an_urgent_question_asked_again_gives_the_urgent_advice(client):
    last = answer_every_step(client, {"treatment": {"anything_else": "I have had night sweats all week"}})
    assert last["Location"].endswith("/a-quick-check/")
    after = client.post(last["Location"], {"recheck_fever": "yes"})["Location"]
    stored = CallbackRequest.objects.get()
    assert stored.priority == Priority.URGENT
    assert [reason["rule_id"] for reason in stored.questionnaire_response.triage_reasons] == [
        "fever",
        "possible_red_flag.fever",
    ]
    assert stored.questionnaire_response.answers.get(question_id="fever").value is True
    assert "See a doctor today" in client.get(after).content.decode()


def test_a_yes_on_the_details_page_stores_an_emergency_and_the_confirmation_gives_the_emergency_advice(client):
    details_url = details_page(client)
    reason = "Back pain and I can't feel my bum"
    done = client.post(details_url, form_data(reason=reason, recheck_saddle_numbness="yes"))
    assert done.status_code == 302
    stored = CallbackRequest.objects.get()
    assert stored.priority == Priority.EMERGENCY
    assert stored.questionnaire_response.answers.get(question_id="saddle_numbness").value is True
    page = text(client.get(done["Location"]))
    assert "Do not wait for our call" in page
