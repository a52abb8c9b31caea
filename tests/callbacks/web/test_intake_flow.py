"""The callback request as a patient meets it: safety questions, the questionnaire, then contact details."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks.models import CallbackRequest, Notification, Priority
from callbacks.requests import services
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
from callbacks.rules.deadline import response_deadline
from intake.answers import AnswersInvalid
from intake.definitions import BACK_PAIN, definition_current
from intake.models import Answer, AnswerChoice, QuestionnaireResponse
from intake.services import QuestionnaireAnswers
from tests.callbacks.web.test_forms import form_data
from tests.support.questionnaire import NO_RED_FLAGS, STEPS, step_data

pytestmark = pytest.mark.django_db


def post_step(client, url, answers, shown=()):
    return client.post(url, step_data(answers, shown))


def answer_steps(client, overrides=None, *, until=None):
    """Answer the questionnaire step by step (as the browser would) and return the last response."""
    overrides = overrides or {}
    url = reverse("callbacks:request")
    response = None
    for step in STEPS:
        response = post_step(client, url, {**NO_RED_FLAGS[step], **overrides.get(step, {})})
        assert response.status_code == 302, response.content.decode()[:2000]
        url = response["Location"]
        if step == until:
            break
    return response


def complete_questionnaire(client, overrides=None) -> str:
    """The URL of the details page after answering everything with no red flags (or the given overrides)."""
    response = answer_steps(client, overrides)
    assert "/your-details/" in response["Location"]
    return response["Location"]


def flow_url(response) -> str:
    return response["Location"]


# The start and the safety questions --------------------------------------------------------------------------


def test_the_first_page_asks_the_safety_questions_before_anything_else(client):
    response = client.get(reverse("callbacks:request"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "First, a few safety questions" in html
    assert 'name="q-saddle_numbness"' in html
    # Nothing else is asked yet: not the contact details, not the rest of the questionnaire.
    assert 'name="name"' not in html
    assert 'name="q-age"' not in html


def test_an_emergency_answer_shows_the_advice_before_any_further_question(client, settings):
    settings.CLINIC_EMERGENCY_NUMBER = "911"
    settings.CLINIC_EMERGENCY_ADVICE = "Call {number} now or go to the emergency department."
    answers = {**NO_RED_FLAGS["safety"], "saddle_numbness": "yes"}
    response = post_step(client, reverse("callbacks:request"), answers)
    assert response.status_code == 302
    assert "/get-help-now/" in response["Location"]
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Get medical help now" in html
    assert "Call 911 now or go to the emergency department." in html
    assert 'href="tel:911"' in html
    assert "q-age" not in html
    # The next questions cannot be reached by typing their address.
    flow = re.search(r"/request-a-callback/([^/]+)/", response["Location"]).group(1)
    skipped = client.get(reverse("callbacks:step", kwargs={"flow": flow, "step": "health"}))
    assert skipped.status_code == 302
    assert skipped["Location"] == response["Location"]
    assert QuestionnaireResponse.objects.count() == 0


def test_sending_after_the_emergency_advice_saves_an_emergency_request(client, django_capture_on_commit_callbacks):
    answers = {**NO_RED_FLAGS["safety"], "both_legs": "yes", "urine_trouble": "yes"}
    advice = post_step(client, reverse("callbacks:request"), answers)["Location"]
    contact_url = advice.replace("get-help-now", "your-details")
    page = client.get(contact_url)
    assert page.status_code == 200
    assert "Please get emergency help first." in page.content.decode()
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        done = client.post(contact_url, form_data())
    assert done.status_code == 302
    request = CallbackRequest.objects.get()
    assert request.priority == Priority.EMERGENCY
    response = request.questionnaire_response
    assert response.tier == "emergency"
    assert response.is_complete is False
    assert {reason["rule_id"] for reason in response.triage_reasons} == {"both_legs", "urine_trouble"}
    # Staff hear about it on the urgent address at once.
    assert Notification.objects.get(kind="staff_new").recipient == "urgent@clinic.localhost"
    confirmation = client.get(done["Location"]).content.decode()
    assert "Do not wait for our call" in confirmation
    assert request.reference in confirmation


def test_changing_a_mistaken_emergency_answer_continues_the_questionnaire(client):
    advice = post_step(client, reverse("callbacks:request"), {**NO_RED_FLAGS["safety"], "chest_pain": "yes"})
    flow = re.search(r"/request-a-callback/([^/]+)/", advice["Location"]).group(1)
    safety_url = reverse("callbacks:step", kwargs={"flow": flow, "step": "safety"})
    page = client.get(safety_url).content.decode()
    # The earlier answers are shown as given.
    assert re.search(r'name="q-chest_pain"[^>]*value="yes"[^>]*checked', page)
    response = post_step(client, safety_url, NO_RED_FLAGS["safety"])
    assert response["Location"] == reverse("callbacks:step", kwargs={"flow": flow, "step": "health"})


# The whole way through ---------------------------------------------------------------------------------------


def test_routine_path_end_to_end_saves_the_response_with_its_version_answers_and_reasons(
    client, django_capture_on_commit_callbacks
):
    overrides = {"health": {"age": "58"}, "when": {"history": "first_time"}}
    contact_url = complete_questionnaire(client, overrides)
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        done = client.post(contact_url, form_data())
    assert done.status_code == 302
    request = CallbackRequest.objects.get()
    response = request.questionnaire_response
    assert (response.questionnaire, response.definition_version, response.is_complete) == ("back-pain", 1, True)
    assert response.tier == "review"
    assert request.priority == Priority.REVIEW
    [reason] = response.triage_reasons
    assert reason["rule_id"] == "age_over_50_new_pain"
    assert reason["source"] == "NICE NG59"
    answers = {answer.question_id: answer.value for answer in response.answers.all()}
    assert answers["age"] == 58
    assert answers["saddle_numbness"] is False
    assert answers["pain_areas"] == ["lower_back_centre", "buttock_left"]
    assert answers["pain_now"] == 4
    assert answers["goals"] == "Walk the dog again."
    # Hidden follow-up questions were not stored.
    assert "medicines" not in answers
    assert set(AnswerChoice.objects.filter(question_id="pain_areas").values_list("value", flat=True)) == {
        "lower_back_centre",
        "buttock_left",
    }
    with_buttock = QuestionnaireResponse.objects.filter(
        answers__question_id="pain_areas", answers__choices__value="buttock_left"
    )
    assert list(with_buttock) == [response]
    confirmation = client.get(done["Location"]).content.decode()
    assert request.reference in confirmation
    assert "See a doctor today" not in confirmation
    # The answers left the session once they were stored.
    assert not client.session.get("callbacks_intake_flows")


def test_urgent_answers_show_see_a_doctor_today_on_the_confirmation(client, django_capture_on_commit_callbacks):
    contact_url = complete_questionnaire(client, {"health": {"fever": "yes"}})
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        done = client.post(contact_url, form_data())
    request = CallbackRequest.objects.get()
    assert request.priority == Priority.URGENT
    html = client.get(done["Location"]).content.decode()
    assert "See a doctor today" in html
    assert "call 111" in html


def test_progress_counts_the_steps_and_back_links_lead_to_the_previous_step_with_its_answers(client):
    response = answer_steps(client, until="health")
    where_url = response["Location"]
    page = client.get(where_url).content.decode()
    assert "part 3 of 8" in page
    back = re.search(r'<a class="back-link" href="([^"]+)"', page).group(1)
    assert back.endswith("/questions/health/")
    health = client.get(back).content.decode()
    assert 'value="34"' in health


# Validation, tampering and skipping ----------------------------------------------------------------------------


def test_a_validation_error_keeps_earlier_answers_and_shows_the_message_by_the_question(client):
    response = answer_steps(client, until="where")
    when_url = response["Location"]
    bad = post_step(client, when_url, {"duration": "under_1_week", "history": "same", "trend": "nonsense"})
    assert bad.status_code == 200
    html = bad.content.decode()
    # The answer given on this page is still selected, the missing one is named next to its question.
    assert re.search(r'value="under_1_week"[^>]*checked', html)
    block = re.search(r'<div class="question[^"]*" id="question-onset".*?</fieldset>', html, re.S).group(0)
    assert "Choose one of the answers." in block
    assert 'aria-describedby="id_q-onset-error"' in block
    trend = re.search(r'<div class="question[^"]*" id="question-trend".*?</fieldset>', html, re.S).group(0)
    assert "Choose one of the answers listed." in trend
    # Earlier steps are untouched: going back shows them.
    flow = re.search(r"/request-a-callback/([^/]+)/", when_url).group(1)
    where = client.get(reverse("callbacks:step", kwargs={"flow": flow, "step": "where"})).content.decode()
    assert re.search(r'value="buttock_left"[^>]*checked', where)
    assert QuestionnaireResponse.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("pain_now", "11"), ("pain_now", "-1"), ("pain_now", "7.5"), ("pain_worst", "ten"), ("eases", ["magic"])],
)
def test_out_of_range_or_unknown_answers_are_refused_without_a_server_error(client, field, value):
    response = answer_steps(client, until="when")
    page = post_step(client, response["Location"], {**NO_RED_FLAGS["pain"], field: value})
    assert page.status_code == 200
    assert f'id="question-{field}"' in page.content.decode()
    assert "Please check your answers" in page.content.decode()


def test_unknown_question_ids_in_a_post_are_ignored(client):
    response = post_step(client, reverse("callbacks:request"), {**NO_RED_FLAGS["safety"], "hacked": "yes"})
    assert response.status_code == 302


def test_a_step_skipped_by_url_redirects_to_the_first_unanswered_step(client):
    response = answer_steps(client, until="health")
    flow = re.search(r"/request-a-callback/([^/]+)/", response["Location"]).group(1)
    for skipped in ("pain", "treatment", "no-such-step"):
        jump = client.get(reverse("callbacks:step", kwargs={"flow": flow, "step": skipped}))
        assert jump.status_code == 302
        assert jump["Location"] == reverse("callbacks:step", kwargs={"flow": flow, "step": "where"})
    details = client.get(reverse("callbacks:contact", kwargs={"flow": flow}))
    assert details["Location"] == reverse("callbacks:step", kwargs={"flow": flow, "step": "where"})
    # Posting to a later step does not store anything either.
    posted = post_step(client, reverse("callbacks:step", kwargs={"flow": flow, "step": "pain"}), NO_RED_FLAGS["pain"])
    assert posted.status_code == 302
    assert "pain_now" not in client.session["callbacks_intake_flows"][flow]["answers"]


def test_an_unknown_or_expired_flow_starts_again_with_a_message(client):
    response = client.get(reverse("callbacks:step", kwargs={"flow": "not-a-flow", "step": "health"}), follow=True)
    assert response.redirect_chain[-1][0] == reverse("callbacks:request")
    assert "Please start again" in response.content.decode()


def test_nothing_is_saved_half_way_when_the_details_are_wrong(client):
    contact_url = complete_questionnaire(client)
    response = client.post(contact_url, form_data(phone="12345"))
    assert response.status_code == 200
    assert "Enter a phone number we can call" in response.content.decode()
    assert (CallbackRequest.objects.count(), QuestionnaireResponse.objects.count(), Answer.objects.count()) == (0, 0, 0)
    # The questionnaire answers are still there: correcting the phone number sends everything.
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        response = client.post(contact_url, form_data())
    assert response.status_code == 302
    assert CallbackRequest.objects.get().questionnaire_response.answers.count() > 20


def test_a_failure_while_storing_leaves_nothing_behind(client):
    contact_url = complete_questionnaire(client)
    with (
        mock.patch("callbacks.requests.services.notifications_for_new_request", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        client.post(contact_url, form_data())
    assert (CallbackRequest.objects.count(), QuestionnaireResponse.objects.count(), Answer.objects.count()) == (0, 0, 0)


# Conditional questions -----------------------------------------------------------------------------------------


def test_a_follow_up_question_appears_only_when_relevant(client):
    response = answer_steps(client, until="daily_life")
    treatment_url = response["Location"]
    page = client.get(treatment_url).content.decode()
    medicines = re.search(r'<div class="question[^"]*" id="question-medicines"[^>]*>', page).group(0)
    assert " hidden" in medicines
    # Without the browser script: answering "yes" brings the page back once, with the follow-up shown.
    answers = {**NO_RED_FLAGS["treatment"], "takes_medicines": "yes"}
    again = post_step(client, treatment_url, answers)
    assert again.status_code == 200
    html = again.content.decode()
    medicines = re.search(r'<div class="question[^"]*" id="question-medicines"[^>]*>', html).group(0)
    assert " hidden" not in medicines
    assert "New question:" in html
    assert "One more question" in html
    assert "<title>Error:" not in html
    # Now it has been seen, leaving it empty is an error (it is required once shown).
    empty = post_step(client, treatment_url, answers, shown=["medicines"])
    assert "Please answer this question." in empty.content.decode()
    done = post_step(client, treatment_url, {**answers, "medicines": "Ibuprofen twice a day"}, shown=["medicines"])
    assert done.status_code == 302


def test_an_optional_follow_up_left_empty_after_being_seen_is_fine(client):
    response = answer_steps(client, until="where")
    answers = {**NO_RED_FLAGS["when"], "onset": "injury"}
    assert post_step(client, response["Location"], answers).status_code == 200
    assert post_step(client, response["Location"], answers, shown=["injury_details"]).status_code == 302


def test_the_body_diagram_has_a_checkbox_fallback_for_every_area(client):
    response = answer_steps(client, until="health")
    html = client.get(response["Location"]).content.decode()
    areas = set(re.findall(r'data-area="([a-z_]+)"', html))
    boxes = set(re.findall(r'type="checkbox" name="q-pain_areas" id="[^"]+" value="([a-z_]+)"', html))
    assert boxes and areas == boxes
    # Every checkbox has its own label.
    box_ids = re.findall(r'type="checkbox" name="q-pain_areas" id="([^"]+)"', html)
    assert all(f'<label class="form-check-label" for="{box_id}">' in html for box_id in box_ids)
    assert '<svg class="body-diagram-svg"' in html
    assert "<script>" not in html and "style=" not in html


# The service the last step calls --------------------------------------------------------------------------------


def create(questionnaire, **overrides):
    start = timezone.now() + dt.timedelta(days=1)
    arguments = {
        "name": "Sam Patient",
        "phone": "+447400123456",
        "window_start": start,
        "window_end": start + dt.timedelta(hours=2),
        "reason": "Back spasm",
        "consent_version": CURRENT_CONSENT_VERSION,
        "questionnaire": questionnaire,
    }
    return services.callback_request_create(**{**arguments, **overrides})


def routine_answers(**changes):
    answers = {}
    for step in NO_RED_FLAGS.values():
        answers.update(step)
    typed = {
        key: (value == "yes" if value in ("yes", "no") else int(value) if str(value).isdigit() else value)
        for key, value in answers.items()
    }
    return {**typed, **changes}


def test_the_service_stores_request_response_and_link_together_and_takes_the_tier_priority():
    definition = definition_current(BACK_PAIN)
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        request = create(QuestionnaireAnswers(definition=definition, answers=routine_answers(weight_loss=True)))
    request.refresh_from_db()
    assert request.priority == Priority.URGENT
    assert request.questionnaire_response.tier == "urgent"
    # The deadline is the urgent one (2 working hours by default), not the routine one.
    routine = response_deadline(priority=Priority.ROUTINE, received_at=request.created_at)
    assert request.deadline < routine


def test_a_questionnaire_never_lowers_a_priority_given_by_the_caller():
    definition = definition_current(BACK_PAIN)
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        request = create(
            QuestionnaireAnswers(definition=definition, answers=routine_answers()), priority=Priority.URGENT
        )
    assert request.priority == Priority.URGENT
    assert request.questionnaire_response.tier == "routine"


def test_answers_that_do_not_fit_store_neither_the_request_nor_the_response():
    definition = definition_current(BACK_PAIN)
    with pytest.raises(AnswersInvalid):
        create(QuestionnaireAnswers(definition=definition, answers=routine_answers(pain_now=12)))
    assert (CallbackRequest.objects.count(), QuestionnaireResponse.objects.count(), Notification.objects.count()) == (
        0,
        0,
        0,
    )


# In a real browser -------------------------------------------------------------------------------------------------


@pytest.fixture
def browser_page(chromium, live_server, monkeypatch):
    """open(javascript=True) -> a 360 px wide page on the live server, in the run's shared headless Chromium."""
    monkeypatch.setattr("callbacks.tasks.notification_send_task.apply_async", lambda *args, **kwargs: None)
    contexts = []

    def open_page(*, javascript=True):
        context = chromium.new_context(
            viewport={"width": 360, "height": 780}, base_url=live_server.url, java_script_enabled=javascript
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def browser_answer_until_where(page):
    page.goto(reverse("callbacks:request"))
    for question in NO_RED_FLAGS["safety"]:
        page.click(f"label[for=id_q-{question}_1]")
    page.click("button:has-text('Continue')")
    page.fill("#id_q-age", "40")
    for question in NO_RED_FLAGS["health"]:
        if question != "age":
            page.click(f"label[for=id_q-{question}_1]")
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/questions/where/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_tapping_the_body_diagram_ticks_the_real_checkboxes_and_follow_ups_open_at_once(browser_page):
    page = browser_page()
    browser_answer_until_where(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.locator("svg [data-area=buttock_right]").first.click()
    page.locator("svg [data-area=knee_left]").last.click()
    ticked = page.eval_on_selector_all("input[name=q-pain_areas]:checked", "boxes => boxes.map(b => b.value)")
    assert ticked == ["buttock_right", "knee_left"]
    # Unticking in the list clears the shading on the diagram.
    page.click("label:has-text('Left knee')")
    shaded = page.eval_on_selector_all("svg .is-selected", "shapes => shapes.map(s => s.dataset.area)")
    assert set(shaded) == {"buttock_right"}
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/questions/when/")
    assert not page.is_visible("#id_q-injury_details")
    page.click("label:has-text('After an injury')")
    assert page.is_visible("#id_q-injury_details")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_checkboxes_answer_the_pain_location(browser_page):
    page = browser_page(javascript=False)
    browser_answer_until_where(page)
    assert page.is_visible("text=tick them in the list")
    page.click("label:has-text('Lower back, left side')")
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/questions/when/")
    page.go_back()
    page.reload()
    assert page.is_checked("input[name=q-pain_areas][value=lower_back_left]")
    assert page.locator("svg .is-selected[data-area=lower_back_left]").count() == 1
