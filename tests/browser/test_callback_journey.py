"""A patient asks for a callback in a real browser: the safety questions, their error states, the emergency advice
(inline with JavaScript, on Continue without), the contact details, the reference, then "help us prepare for your
call"; with the mouse, with the keyboard alone, and with JavaScript switched off."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from callbacks.models import CallbackRequest, Priority
from clinic.hours import clinic_zone
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH, axe_violations, screenshot
from tests.callbacks.web.test_forms import form_data
from tests.support.dates import next_open_day
from tests.support.questionnaire import NO_RED_FLAGS, PREPARE_STEPS, SCREENING_STEPS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = [PHONE_WIDTH, DESKTOP_WIDTH]


def answer(page, key, value):
    """Answer one question the way its control takes it (radio, checkbox, text)."""
    values = value if isinstance(value, list) else [value]
    inputs = page.locator(f'[name="q-{key}"]')
    kind = inputs.first.get_attribute("type") or inputs.first.evaluate("e => e.tagName.toLowerCase()")
    if kind in ("radio", "checkbox"):
        for choice in values:
            option = page.locator(f'[name="q-{key}"][value="{choice}"]')
            label = page.locator(f'label[for="{option.get_attribute("id")}"]')
            if not option.is_checked():
                # Click what a patient sees: the label (some options are styled buttons over a hidden input).
                label.click() if label.is_visible() else option.check()
            assert option.is_checked(), (key, choice)
    else:
        inputs.first.fill(values[0])


def answer_step(page, step, button="Continue"):
    for key, value in NO_RED_FLAGS[step].items():
        answer(page, key, value)
    page.get_by_role("button", name=button).click()


def fill_details(page, data):
    page.get_by_label("Your name").fill(data["name"])
    page.get_by_label("Phone number").fill(data["phone"])
    if data.get("preferred_date"):  # the emergency details ask no day or time
        day_choose(page, data["preferred_date"])
        page.locator('[name="preferred_time"]').select_option(data["preferred_time"])
    if data.get("reason"):
        page.locator('[name="reason"]').fill(data["reason"])
    page.locator('[name="consent"]').check()


def day_choose(page, day: str):
    """Choose the day, then its times are listed: at once with JavaScript, with the button without it."""
    page.wait_for_load_state()
    page.locator('[name="preferred_date"]').fill(day)
    show = page.get_by_role("button", name="Show the times for this day")
    if show.is_visible():
        show.click()
        page.wait_for_load_state()


def times_offered(page) -> list[str]:
    # Read through locators: evaluate() runs in the page's own world, which never answers with JavaScript off.
    return [option.get_attribute("value") for option in page.locator('[name="preferred_time"] option').all()]


def check_page(page, name, width):
    screenshot(page, name, width)
    assert axe_violations(page) == [], name


@pytest.mark.parametrize("width", WIDTHS)
def test_a_patient_requests_a_callback_on_the_short_path_then_helps_prepare(open_page, queued_notifications, width):
    page = open_page(width)
    page.goto(reverse("callbacks:request"))
    check_page(page, "callback-1-safety-questions", width)

    page.get_by_role("button", name="Continue").click()  # nothing answered yet
    assert page.get_by_role("alert").first.is_visible()
    check_page(page, "callback-2-safety-questions-with-errors", width)

    answer_step(page, "safety")
    check_page(page, "callback-3-health", width)
    answer_step(page, "health")
    assert "/your-details/" in page.url
    check_page(page, "callback-4-details", width)

    page.get_by_role("button", name="Send my request").click()
    summary_links = page.locator("#error-summary a")
    assert summary_links.count() >= 4
    summary_links.first.click()
    assert page.evaluate("document.activeElement.name") == "name", "the summary's links lead to their fields"
    check_page(page, "callback-5-details-with-errors", width)

    fill_details(page, form_data())
    page.get_by_role("button", name="Send my request").click()
    # The summary's link left "#id_name" on the address, and a browser keeps it through the redirect.
    page.wait_for_url(re.compile(re.escape(reverse("callbacks:done"))))
    check_page(page, "callback-6-thank-you", width)

    request = CallbackRequest.objects.get()
    assert page.locator("#reference").inner_text() == request.reference
    assert request.priority == Priority.ROUTINE
    # 7 safety questions, the age and 10 urgent ones ("thin bones" is asked only after a small fall).
    assert request.questionnaire_response.answers.count() == 18
    # The staff's e-mail, and the patient's confirmation by text (the default for a mobile number, no e-mail given).
    assert len(queued_notifications) == 2
    assert set(request.notifications.values_list("kind", "channel")) == {
        ("staff_new", "email"),
        ("patient_confirmation", "sms"),
    }

    page.locator("#prepare-start").click()
    check_page(page, "callback-7-prepare-overview", width)
    page.locator("#prepare-next").click()
    for number, step in enumerate(PREPARE_STEPS, start=8):
        check_page(page, f"callback-{number}-prepare-{step}", width)
        answer_step(page, step, button="Save and continue")
    check_page(page, "callback-13-prepare-finished", width)
    assert "that is everything" in page.content()
    request.questionnaire_response.refresh_from_db()
    assert request.questionnaire_response.is_complete


@pytest.mark.parametrize("width", WIDTHS)
def test_a_reference_comes_after_at_most_three_form_pages(open_page, width):
    """Counts what a patient does before they hold a reference: form pages sent and answers required."""
    page = open_page(width)
    page.goto(reverse("callbacks:request"))
    form_pages, required = 0, 0
    while "/thank-you/" not in page.url:
        form_pages += 1
        assert form_pages <= 3, f"a fourth form page before the reference: {page.url}"
        if "/your-details/" in page.url:
            required += page.locator("input[required], select[required], textarea[required]").count()
            fill_details(page, form_data(reason=""))
            page.get_by_role("button", name="Send my request").click()
        else:
            found = re.search(r"/questions/([a-z_]+)/", page.url)
            step = found.group(1) if found else "safety"
            # The questions a patient is shown (one asked only after another answer is hidden until then).
            shown = "inputs => inputs.filter(i => !i.closest('[hidden]')).map(i => i.name)"
            required += len(set(page.eval_on_selector_all("[name^='q-']", shown)))
            answer_step(page, step)
        page.wait_for_load_state()
    assert form_pages == 3
    # 7 emergency questions, the age and 10 urgent ones (thoracic pain and a small fall since issue 23), then name,
    # phone, day, time and consent.
    assert required == 23
    assert page.locator("#reference").inner_text() == CallbackRequest.objects.get().reference


@pytest.mark.parametrize("width", WIDTHS)
def test_an_emergency_answer_shows_emergency_advice_before_anything_else(open_page, settings, width):
    page = open_page(width)
    page.goto(reverse("callbacks:request"))
    advice = page.locator("#emergency-inline")
    assert not advice.is_visible()
    answer(page, "saddle_numbness", "yes")
    # With JavaScript the advice appears at once, next to the answer that calls for it.
    assert advice.is_visible()
    assert settings.CLINIC_EMERGENCY_NUMBER in advice.inner_text()
    check_page(page, "callback-emergency-inline", width)
    answer(page, "saddle_numbness", "no")
    assert not advice.is_visible()
    answer(page, "saddle_numbness", "yes")
    # The other six questions are left unanswered: Continue goes to the advice, not to six errors.
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/get-help-now/")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert "help now" in heading.lower() or "emergency" in heading.lower(), heading
    assert settings.CLINIC_EMERGENCY_NUMBER in page.content()
    assert "Choose yes or no" not in page.content()
    assert page.locator('[name="q-age"]').count() == 0, "no further question before the advice"
    check_page(page, "callback-emergency-advice", width)
    page.get_by_role("link", name="Send my request to the clinic as well").click()
    assert page.locator('[name="preferred_date"]').count() == 0, "no day or time for an emergency"
    check_page(page, "callback-emergency-details", width)
    fill_details(page, form_data(reason="", preferred_date=None, preferred_time=None))
    page.get_by_role("button", name="Send my request to the clinic").click()
    page.wait_for_url("**" + reverse("callbacks:done"))
    check_page(page, "callback-emergency-thank-you", width)
    assert CallbackRequest.objects.get().priority == Priority.EMERGENCY


def test_without_javascript_an_emergency_answer_shows_the_advice_on_continue(open_page):
    page = open_page(PHONE_WIDTH, javascript=False)
    page.goto(reverse("callbacks:request"))
    answer(page, "both_legs", "yes")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/get-help-now/")
    screenshot(page, "callback-no-javascript-emergency-advice", PHONE_WIDTH)
    assert "Get medical help now" in page.content()


@pytest.mark.parametrize("width", WIDTHS)
def test_an_urgent_answer_shows_see_a_doctor_today_on_the_next_page(open_page, width):
    page = open_page(width)
    page.goto(reverse("callbacks:request"))
    answer_step(page, "safety")
    for key, value in {**NO_RED_FLAGS["health"], "age": "60", "fever": "yes"}.items():
        answer(page, key, value)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/your-details/")
    assert page.get_by_role("heading", name="See a doctor today").is_visible()
    check_page(page, "callback-urgent-details", width)


def test_the_safety_questions_and_the_details_can_be_completed_with_the_keyboard_alone(open_page):
    page = open_page(DESKTOP_WIDTH)
    page.goto(reverse("callbacks:request"))
    # Each yes/no group: Tab reaches its first option ("Yes"), the right arrow moves to and selects "No".
    for _ in NO_RED_FLAGS["safety"]:
        page.keyboard.press("Tab")
        while page.evaluate("document.activeElement.type") != "radio":
            page.keyboard.press("Tab")
        page.keyboard.press("ArrowRight")
    assert page.locator('input[type="radio"][value="no"]:checked').count() == len(NO_RED_FLAGS["safety"])
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Continue"
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    for step in SCREENING_STEPS[1:]:
        answer_step(page, step)

    data = form_data()
    focus_order = []

    def tab_to(name):
        for _ in range(40):
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.name || document.activeElement.type")
            focus_order.append(focused)
            if focused == name:
                return
        raise AssertionError(f"Tab never reached {name}: {focus_order}")

    tab_to("name")
    page.keyboard.type(data["name"])
    tab_to("phone")
    page.keyboard.type(data["phone"])
    tab_to("preferred_date")
    year, month, day = data["preferred_date"].split("-")
    # The date field takes its parts in its own locale's order, which may not be the page's: find it out by
    # typing a probe date, then type over it from the first part.
    page.keyboard.type("01022003", delay=30)
    order = (
        ["day", "month"] if page.locator('[name="preferred_date"]').input_value() == "2003-02-01" else ["month", "day"]
    )
    page.keyboard.press("ArrowLeft")  # from the year back to the first part
    page.keyboard.press("ArrowLeft")
    parts = {"day": day, "month": month}
    page.keyboard.type(parts[order[0]] + parts[order[1]] + year, delay=30)
    tab_to("preferred_time")
    page.keyboard.press("ArrowDown")
    tab_to("reason")
    page.keyboard.type(data["reason"])
    tab_to("consent")
    page.keyboard.press("Space")
    assert "website" not in focus_order, "the honeypot is out of the tab order"
    assert page.locator('[name="preferred_date"]').input_value() == data["preferred_date"]
    tab_to("submit")  # past the privacy notice link
    page.keyboard.press("Enter")
    page.wait_for_url("**" + reverse("callbacks:done"))
    assert CallbackRequest.objects.count() == 1


def test_every_step_works_without_javascript(open_page):
    page = open_page(PHONE_WIDTH, javascript=False)
    page.goto(reverse("callbacks:request"))
    for step in SCREENING_STEPS:
        answer_step(page, step)
    fill_details(page, form_data())
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**" + reverse("callbacks:done"))
    screenshot(page, "callback-no-javascript-thank-you", PHONE_WIDTH)
    page.locator("#prepare-start").click()
    page.locator("#prepare-next").click()
    for step in PREPARE_STEPS:
        answer_step(page, step, button="Save and continue")
    assert "that is everything" in page.content()
    assert CallbackRequest.objects.get().questionnaire_response.answers.count() > 20


@pytest.mark.parametrize("width", WIDTHS)
def test_the_privacy_notice_and_the_too_many_requests_page_are_accessible(open_page, settings, width):
    from clinic.rates import Rate

    page = open_page(width)
    page.goto(reverse("callbacks:privacy"))
    check_page(page, "privacy-notice", width)

    settings.CLINIC_RATE_LIMIT_FORM_POSTS = Rate(1, 3600)
    page.goto(reverse("callbacks:request"))
    page.get_by_role("button", name="Continue").click()  # the one allowed post (it shows the errors)
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Too many requests, please call us"
    check_page(page, "too-many-requests", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_patient_over_the_request_limit_is_told_what_to_do_accessibly(open_page, settings, width):
    from clinic.rates import Rate

    settings.CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS = Rate(1, 3600)
    for phone, fever in (("07400 123450", "no"), ("07400 123451", "yes")):
        page = open_page(width)
        page.goto(reverse("callbacks:request"))
        answer_step(page, "safety")
        for key, value in {**NO_RED_FLAGS["health"], "fever": fever}.items():
            answer(page, key, value)
        page.get_by_role("button", name="Continue").click()
        fill_details(page, form_data(phone=phone))
        page.get_by_role("button", name="Send my request").click()
        page.wait_for_load_state()
    # The second patient, urgent, behind the same address: refused, with the advice, the number and a time.
    assert page.get_by_role("heading", level=1).inner_text() == "We could not take your request online just now"
    assert page.get_by_role("heading", name="See a doctor today").is_visible()
    assert page.locator("#retry-at").is_visible()
    check_page(page, "callback-refused-over-the-limit", width)
    assert CallbackRequest.objects.count() == 1


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_only_the_times_open_on_the_chosen_day_are_offered(open_page, javascript):
    page = open_page(PHONE_WIDTH, javascript=javascript)
    page.goto(reverse("callbacks:request"))
    for step in SCREENING_STEPS:
        answer_step(page, step)
    page.get_by_label("Your name").fill("Alex Example")
    saturday = next_open_day(weekday=5)
    day_choose(page, saturday.isoformat())
    assert times_offered(page) == ["", "08:00", "10:00", "12:00"], "Saturday: the morning only"
    assert page.get_by_label("Your name").input_value() == "Alex Example", "nothing typed is lost"
    if javascript:
        check_page(page, "callback-day-first", PHONE_WIDTH)
        # axe needs the page's JavaScript: the no-script state (the button shown) is checked here, with it shown.
        page.evaluate("document.querySelectorAll('[data-show-times]').forEach(b => { b.hidden = false; })")
        assert axe_violations(page) == []
    else:
        screenshot(page, "callback-day-first-no-javascript", PHONE_WIDTH)
    day_choose(page, (saturday + dt.timedelta(days=1)).isoformat())
    assert times_offered(page) == [""]
    assert "No times left that day" in page.locator('[name="preferred_time"]').inner_text()
    day_choose(page, next_open_day(weekday=1).isoformat())
    assert times_offered(page) == ["", "08:00", "10:00", "12:00", "14:00", "16:00"]
    page.locator('[name="preferred_time"]').select_option("16:00")
    page.get_by_label("Phone number").fill(form_data()["phone"])
    page.locator('[name="consent"]').check()
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**" + reverse("callbacks:done"))
    assert CallbackRequest.objects.get().window_start.astimezone(clinic_zone()).hour == 16
