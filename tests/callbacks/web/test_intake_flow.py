"""The callback request as a patient meets it: the safety questions, the details, the reference; then the rest
of the questionnaire, saved page by page to the stored request ("help us prepare for your call")."""

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
from tests.support.questionnaire import NO_RED_FLAGS, PREPARE_STEPS, SCREENING_STEPS, step_data

pytestmark = pytest.mark.django_db


def post_step(client, url, answers, shown=()):
    return client.post(url, step_data(answers, shown))


def answer_steps(client, overrides=None, *, until=None):
    """Answer the screening steps (as the browser would) and return the last response."""
    overrides = overrides or {}
    url = reverse("callbacks:request")
    response = None
    for step in SCREENING_STEPS:
        response = post_step(client, url, {**NO_RED_FLAGS[step], **overrides.get(step, {})})
        assert response.status_code == 302, response.content.decode()[:2000]
        url = response["Location"]
        if step == until:
            break
    return response


def complete_questionnaire(client, overrides=None) -> str:
    """The URL of the details page after the screening steps with no red flags (or the given overrides)."""
    response = answer_steps(client, overrides)
    assert "/your-details/" in response["Location"]
    return response["Location"]


def send_request(client, django_capture_on_commit_callbacks, overrides=None, **contact):
    """The short path to a stored request; returns the request and the confirmation page's HTML."""
    contact_url = complete_questionnaire(client, overrides)
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        done = client.post(contact_url, form_data(**contact))
    assert done.status_code == 302, done.content.decode()[:2000]
    return CallbackRequest.objects.get(), client.get(done["Location"]).content.decode()


def prepare_link(confirmation_html: str) -> str:
    return re.search(r'id="prepare-start" href="([^"]+)"', confirmation_html).group(1)


def prepare_step_url(link: str, step: str) -> str:
    return f"{link}{step}/"


def save_prepare_step(client, link, step, answers, django_capture_on_commit_callbacks, shown=()):
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        return post_step(client, prepare_step_url(link, step), answers, shown)


# The start and the safety questions --------------------------------------------------------------------------


def test_the_first_page_asks_the_safety_questions_before_anything_else(client):
    response = client.get(reverse("callbacks:request"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "First, a few safety questions" in html
    assert 'name="q-saddle_numbness"' in html
    assert "part 1 of 3" in html
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
    assert 'Call <a href="tel:911">911</a> now or go to the emergency department.' in html
    assert 'href="tel:911"' in html
    assert "q-age" not in html
    # The next questions cannot be reached by typing their address.
    flow = re.search(r"/request-a-callback/([^/]+)/", response["Location"]).group(1)
    skipped = client.get(reverse("callbacks:step", kwargs={"flow": flow, "step": "health"}))
    assert skipped.status_code == 302
    assert skipped["Location"] == response["Location"]
    assert QuestionnaireResponse.objects.count() == 0


@pytest.mark.parametrize("question", list(NO_RED_FLAGS["safety"]))
def test_any_emergency_answer_shows_the_advice_next_whatever_else_is_unanswered(client, question):
    # Only the one answer: six questions left blank would be six "Choose yes or no" errors on any other page.
    response = post_step(client, reverse("callbacks:request"), {question: "yes"})
    assert response.status_code == 302
    assert response["Location"].endswith("/get-help-now/")
    html = client.get(response["Location"]).content.decode()
    assert "Get medical help now" in html
    assert "Choose yes or no" not in html


def test_an_emergency_answer_next_to_a_wrong_one_still_shows_the_advice(client):
    response = post_step(client, reverse("callbacks:request"), {"both_legs": "yes", "chest_pain": "maybe"})
    assert response["Location"].endswith("/get-help-now/")


def test_the_safety_page_marks_emergency_questions_for_the_inline_advice_script(client):
    html = client.get(reverse("callbacks:request")).content.decode()
    marked = re.search(r'data-emergency-questions="([^"]+)"', html).group(1).split()
    assert marked == list(NO_RED_FLAGS["safety"])
    # The advice block is on the page, hidden until the (static, same-origin) script shows it.
    assert re.search(r'<div class="emergency-advice[^"]*" id="emergency-inline"[^>]*hidden>', html)
    assert "<script>" not in html


def test_sending_after_the_emergency_advice_saves_an_emergency_request_as_soon_as_we_can(
    client, django_capture_on_commit_callbacks
):
    # Two answers given, the other five never answered: the advice came first.
    advice = post_step(client, reverse("callbacks:request"), {"both_legs": "yes", "urine_trouble": "yes"})["Location"]
    contact_url = advice.replace("get-help-now", "your-details")
    page = client.get(contact_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Please get emergency help first." in html
    # No day or time is asked: we call as soon as we can.
    assert 'name="preferred_date"' not in html and 'name="preferred_time"' not in html
    assert "as soon as we can" in html
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        done = client.post(contact_url, form_data(preferred_date=None, preferred_time=None, reason=""))
    assert done.status_code == 302
    request = CallbackRequest.objects.get()
    assert request.priority == Priority.EMERGENCY
    assert request.kind == CallbackRequest.Kind.CALLBACK
    # "As soon as we can": the window runs from when it arrived to its (emergency) deadline.
    assert request.window_start == request.created_at
    assert request.window_end == request.deadline
    response = request.questionnaire_response
    assert response.tier == "emergency"
    assert response.is_complete is False
    assert {answer.question_id: answer.value for answer in response.answers.all()} == {
        "urine_trouble": True,
        "both_legs": True,
    }
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


# The short path -------------------------------------------------------------------------------------------------


def test_a_reference_after_three_form_pages_and_about_twenty_required_answers(
    client, django_capture_on_commit_callbacks
):
    """The bar of issue 14: at most three form pages before a reference, counting the required answers."""
    pages, required = 0, 0
    url = reverse("callbacks:request")
    for step in SCREENING_STEPS:
        html = client.get(url).content.decode()
        pages += 1
        # A question shown only after another answer (data-show-if, hidden until then) is not required.
        conditional = set(re.findall(r'id="question-([a-z_]+)"[^>]*data-show-if', html))
        required += len(set(re.findall(r'name="q-([a-z_]+)"', html)) - conditional)
        response = post_step(client, url, NO_RED_FLAGS[step])
        url = response["Location"]
    assert url.endswith("/your-details/")
    html = client.get(url).content.decode()
    pages += 1
    required += len(re.findall(r"<input[^>]+required", html)) + len(re.findall(r"<select[^>]+required", html))
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        done = client.post(url, form_data(reason="", email=""))
    assert "reference" in client.get(done["Location"]).content.decode()
    assert pages == 3
    # 7 safety + 11 health (age, the urgent flags, thoracic pain and a small fall) + name, phone, day, time,
    # consent; "thin bones" is asked only after a small fall (issue 23 added those two flags).
    assert required == 23
    assert CallbackRequest.objects.count() == 1


def test_routine_path_stores_at_the_reference_then_each_later_page_is_saved_and_re_triaged(
    client, django_capture_on_commit_callbacks
):
    request, confirmation = send_request(client, django_capture_on_commit_callbacks)
    response = request.questionnaire_response
    assert (response.questionnaire, response.definition_version, response.is_complete) == ("back-pain", 3, False)
    assert response.tier == "routine"
    assert request.priority == Priority.ROUTINE
    # 7 safety + age + 10 urgent questions; "thin bones" is asked only after a small fall, so it is not stored.
    assert response.answers.count() == 18
    assert request.reference in confirmation
    assert "Help us prepare for your call" in confirmation
    # The answers left the session once they were stored.
    assert not client.session.get("callbacks_intake_flows")

    link = prepare_link(confirmation)
    not_improving = {"duration": "1_to_3_months", "trend": "worse"}
    for step in PREPARE_STEPS:
        answers = {**NO_RED_FLAGS[step], **not_improving} if step == "when" else NO_RED_FLAGS[step]
        saved = save_prepare_step(client, link, step, answers, django_capture_on_commit_callbacks)
        assert saved.status_code == 302, saved.content.decode()[:2000]
    request.refresh_from_db()
    response = request.questionnaire_response
    response.refresh_from_db()
    assert response.is_complete is True
    assert response.tier == "review"
    assert request.priority == Priority.REVIEW
    [reason] = response.triage_reasons
    assert reason["rule_id"] == "not_improving_after_month"
    answers = {answer.question_id: answer.value for answer in response.answers.all()}
    assert answers["age"] == 34
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
    # The rise was told to the front desk again (review goes there), through the outbox.
    raised = Notification.objects.get(kind="staff_raised")
    assert raised.recipient == "frontdesk@clinic.localhost"
    assert client.get(link).content.decode().count("that is everything") == 1


def test_an_age_that_calls_for_review_is_a_review_at_the_reference_and_a_later_answer_cannot_undo_it(
    client, django_capture_on_commit_callbacks
):
    """Unknown is not routine (issue 23): the history question comes after the reference, so over 50 (or under 20)
    is a review at once; "like pain I had before" on a later page does not lower it (a tier never falls)."""
    request, confirmation = send_request(client, django_capture_on_commit_callbacks, {"health": {"age": "58"}})
    response = request.questionnaire_response
    assert (response.tier, request.priority) == ("review", Priority.REVIEW)
    assert [reason["rule_id"] for reason in response.triage_reasons] == ["age_over_50_new_pain"]
    link = prepare_link(confirmation)
    saved = save_prepare_step(
        client, link, "when", {**NO_RED_FLAGS["when"], "history": "same"}, django_capture_on_commit_callbacks
    )
    assert saved.status_code == 302
    request.refresh_from_db()
    request.questionnaire_response.refresh_from_db()
    assert (request.questionnaire_response.tier, request.priority) == ("review", Priority.REVIEW)
    assert [r["rule_id"] for r in request.questionnaire_response.triage_reasons] == ["age_over_50_new_pain"]


def test_an_urgent_answer_shows_see_a_doctor_today_on_the_next_page(client, django_capture_on_commit_callbacks):
    contact_url = complete_questionnaire(client, {"health": {"fever": "yes"}})
    details = client.get(contact_url).content.decode()
    assert "See a doctor today" in details
    assert 'call <a href="tel:111">111</a>' in details
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        done = client.post(contact_url, form_data())
    request = CallbackRequest.objects.get()
    assert request.priority == Priority.URGENT
    html = client.get(done["Location"]).content.decode()
    assert "See a doctor today" in html
    assert 'call <a href="tel:111">111</a>' in html
    # The urgent deadline comes before the window the patient chose: they are told the time staff are held to.
    assert request.deadline < request.window_end
    shown = timezone.localtime(request.deadline).strftime("%H:%M")
    assert re.search(rf'we aim to call you by <strong id="call-by">[^<]*{shown}</strong>', html)


def test_a_routine_details_page_gives_no_urgent_advice(client):
    html = client.get(complete_questionnaire(client)).content.decode()
    assert "See a doctor today" not in html


def test_progress_counts_the_steps_and_back_links_lead_to_the_previous_step_with_its_answers(client):
    response = answer_steps(client)
    page = client.get(response["Location"]).content.decode()
    assert "part 3 of 3" in page
    back = re.search(r'<a class="back-link" href="([^"]+)"', page).group(1)
    assert back.endswith("/questions/health/")
    health = client.get(back).content.decode()
    assert "part 2 of 3" in health
    assert 'value="34"' in health


# Validation, tampering and skipping ----------------------------------------------------------------------------


def test_a_validation_error_keeps_the_answers_given_and_shows_the_message_by_the_question(
    client, django_capture_on_commit_callbacks
):
    _, confirmation = send_request(client, django_capture_on_commit_callbacks)
    when_url = prepare_step_url(prepare_link(confirmation), "when")
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
    assert "This part has not been saved yet." in html
    assert not Answer.objects.filter(question_id="duration").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("pain_now", "11"), ("pain_now", "-1"), ("pain_now", "7.5"), ("pain_worst", "ten"), ("eases", ["magic"])],
)
def test_out_of_range_or_unknown_answers_are_refused_without_a_server_error(
    client, django_capture_on_commit_callbacks, field, value
):
    _, confirmation = send_request(client, django_capture_on_commit_callbacks)
    page = post_step(
        client, prepare_step_url(prepare_link(confirmation), "pain"), {**NO_RED_FLAGS["pain"], field: value}
    )
    assert page.status_code == 200
    assert f'id="question-{field}"' in page.content.decode()
    assert "There is a problem" in page.content.decode()
    assert not Answer.objects.filter(question_id="pain_now").exists()


def test_unknown_question_ids_in_a_post_are_ignored(client):
    response = post_step(client, reverse("callbacks:request"), {**NO_RED_FLAGS["safety"], "hacked": "yes"})
    assert response.status_code == 302


def test_a_step_skipped_by_url_redirects_to_the_first_unanswered_step(client):
    response = answer_steps(client, until="safety")
    flow = re.search(r"/request-a-callback/([^/]+)/", response["Location"]).group(1)
    health = reverse("callbacks:step", kwargs={"flow": flow, "step": "health"})
    # The later questions are not part of the way to a reference, and the details wait for the health step.
    for skipped in ("pain", "treatment", "no-such-step"):
        jump = client.get(reverse("callbacks:step", kwargs={"flow": flow, "step": skipped}))
        assert jump.status_code == 302
        assert jump["Location"] == health
    details = client.get(reverse("callbacks:contact", kwargs={"flow": flow}))
    assert details["Location"] == health
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
    assert CallbackRequest.objects.get().questionnaire_response.answers.count() == 18


def test_the_details_error_summary_links_each_error_to_its_field(client):
    contact_url = complete_questionnaire(client)
    html = client.post(contact_url, form_data(phone="12345", consent=None)).content.decode()
    summary = re.search(r'<div class="alert alert-warning error-summary".*?</div>', html, re.S).group(0)
    links = re.findall(r'<a class="alert-link" href="#([^"]+)">', summary)
    assert links == ["id_phone", "id_consent"]
    assert all(f'id="{field_id}"' in html for field_id in links)


def test_a_failure_while_storing_leaves_nothing_behind(client):
    contact_url = complete_questionnaire(client)
    with (
        mock.patch("callbacks.requests.services.notifications_for_new_request", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        client.post(contact_url, form_data())
    assert (CallbackRequest.objects.count(), QuestionnaireResponse.objects.count(), Answer.objects.count()) == (0, 0, 0)


# Conditional questions -----------------------------------------------------------------------------------------


def test_a_follow_up_question_appears_only_when_relevant(client, django_capture_on_commit_callbacks):
    _, confirmation = send_request(client, django_capture_on_commit_callbacks)
    treatment_url = prepare_step_url(prepare_link(confirmation), "treatment")
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
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        done = post_step(client, treatment_url, {**answers, "medicines": "Ibuprofen twice a day"}, shown=["medicines"])
    assert done.status_code == 302
    assert Answer.objects.get(question_id="medicines").value == "Ibuprofen twice a day"


def test_an_optional_follow_up_left_empty_after_being_seen_is_fine(client, django_capture_on_commit_callbacks):
    _, confirmation = send_request(client, django_capture_on_commit_callbacks)
    when_url = prepare_step_url(prepare_link(confirmation), "when")
    answers = {**NO_RED_FLAGS["when"], "onset": "injury"}
    assert post_step(client, when_url, answers).status_code == 200
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        assert post_step(client, when_url, answers, shown=["injury_details"]).status_code == 302


def test_the_body_diagram_has_a_checkbox_fallback_for_every_area(client, django_capture_on_commit_callbacks):
    _, confirmation = send_request(client, django_capture_on_commit_callbacks)
    html = client.get(prepare_step_url(prepare_link(confirmation), "where")).content.decode()
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
    """The short path to a reference, then into "help us prepare for your call" as far as its first page."""
    page.goto(reverse("callbacks:request"))
    for question in NO_RED_FLAGS["safety"]:
        page.click(f"label[for=id_q-{question}_1]")
    page.click("button:has-text('Continue')")
    page.fill("#id_q-age", "40")
    for question in NO_RED_FLAGS["health"]:
        if question != "age":
            page.click(f"label[for=id_q-{question}_1]")
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/your-details/")
    data = form_data()
    page.fill("#id_name", data["name"])
    page.fill("#id_phone", data["phone"])
    page.fill("#id_preferred_date", data["preferred_date"])
    show_times = page.get_by_role("button", name="Show the times for this day")
    if show_times.is_visible():  # without JavaScript the chosen day's times come from the server
        show_times.click()
        page.wait_for_load_state()
    page.select_option("#id_preferred_time", data["preferred_time"])
    page.check("#id_consent")
    page.get_by_role("button", name="Send my request").click()
    page.click("#prepare-start")
    page.click("#prepare-next")
    page.wait_for_url("**/where/")


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
    page.wait_for_url("**/when/")
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
    page.wait_for_url("**/when/")
    assert Answer.objects.get(question_id="pain_areas").value == ["lower_back_left"]
    # The page is reached by a link that may be forwarded: coming back to it shows no answer given.
    page.go_back()
    page.reload()
    assert not page.is_checked("input[name=q-pain_areas][value=lower_back_left]")
    assert page.locator("svg .is-selected").count() == 0
