"""A patient asks for a callback in a real browser: the questionnaire, its error states, the emergency advice,
the contact details; with the mouse, with the keyboard alone, and with JavaScript switched off."""

import pytest
from django.urls import reverse

from callbacks.models import CallbackRequest, Priority
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH, axe_violations, screenshot
from tests.callbacks.web.test_forms import form_data
from tests.support.questionnaire import NO_RED_FLAGS, STEPS

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


def answer_step(page, step):
    for key, value in NO_RED_FLAGS[step].items():
        answer(page, key, value)
    page.get_by_role("button", name="Continue").click()


def fill_details(page, data):
    page.get_by_label("Your name").fill(data["name"])
    page.get_by_label("Phone number").fill(data["phone"])
    page.locator('[name="preferred_date"]').fill(data["preferred_date"])
    page.locator('[name="preferred_time"]').select_option(data["preferred_time"])
    page.locator('[name="reason"]').fill(data["reason"])
    page.locator('[name="consent"]').check()


def check_page(page, name, width):
    screenshot(page, name, width)
    assert axe_violations(page) == [], name


@pytest.mark.parametrize("width", WIDTHS)
def test_a_patient_answers_the_questionnaire_and_requests_a_callback(open_page, queued_notifications, width):
    page = open_page(width)
    page.goto(reverse("callbacks:request"))
    check_page(page, "callback-1-safety-questions", width)

    page.get_by_role("button", name="Continue").click()  # nothing answered yet
    assert page.get_by_role("alert").first.is_visible()
    check_page(page, "callback-2-safety-questions-with-errors", width)

    for number, step in enumerate(STEPS, start=3):
        answer_step(page, step)
        if step != STEPS[-1]:
            check_page(page, f"callback-{number}-{STEPS[STEPS.index(step) + 1]}", width)
    assert "/your-details/" in page.url
    check_page(page, "callback-10-details", width)

    page.get_by_role("button", name="Send my request").click()
    check_page(page, "callback-11-details-with-errors", width)

    fill_details(page, form_data())
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**" + reverse("callbacks:done"))
    check_page(page, "callback-12-thank-you", width)

    request = CallbackRequest.objects.get()
    assert page.locator("#reference").inner_text() == request.reference
    assert request.priority == Priority.ROUTINE
    assert request.questionnaire_response.answers.count() > 20
    assert len(queued_notifications) == 1


@pytest.mark.parametrize("width", WIDTHS)
def test_an_emergency_answer_shows_emergency_advice_before_anything_else(open_page, settings, width):
    page = open_page(width)
    page.goto(reverse("callbacks:request"))
    answer(page, "saddle_numbness", "yes")
    for key, value in NO_RED_FLAGS["safety"].items():
        if key != "saddle_numbness":
            answer(page, key, value)
    page.get_by_role("button", name="Continue").click()
    heading = page.get_by_role("heading", level=1).inner_text()
    assert "help now" in heading.lower() or "emergency" in heading.lower(), heading
    assert settings.CLINIC_EMERGENCY_NUMBER in page.content()
    assert page.locator('[name="q-age"]').count() == 0, "no further question before the advice"
    check_page(page, "callback-emergency-advice", width)


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
    for step in STEPS[1:]:
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
    for step in STEPS:
        answer_step(page, step)
    fill_details(page, form_data())
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url("**" + reverse("callbacks:done"))
    screenshot(page, "callback-no-javascript-thank-you", PHONE_WIDTH)
    assert CallbackRequest.objects.get().questionnaire_response is not None


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
