"""Issue 26 items 5, 8 and 11 in a real browser, at 1280 and 360 px, axe-checked: a refused "Book for a caller"
lands on its focused error summary; cancel asks why and can be undone with nothing sent; the move page shows the
phone and picks a day then a time; a request's page on a phone opens on the work, the questionnaire folded, and
stays where it was after an action; an empty diary time opens the booking form on it; the printed diary has no
blank last page."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Appointment, Notification
from intake.definitions import definition_current
from intake.services import questionnaire_response_create
from tests.browser.test_front_desk import clinic_day, no_axe_violations, sign_in  # noqa: F401 - a fixture
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = [DESKTOP_WIDTH, PHONE_WIDTH]


def in_viewport(page, selector) -> bool:
    # A scroll to an anchor can land a fraction of a pixel above it (fractional heights above): -0.25 is in view.
    return page.evaluate(
        """(selector) => { const box = document.querySelector(selector).getBoundingClientRect();
        return box.top > -1 && box.top < window.innerHeight; }""",
        selector,
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_a_refused_booking_lands_on_its_focused_error_summary(open_page, settings, clinic_day, width):  # noqa: F811
    service, _, day, _ = clinic_day
    page, _ = sign_in(open_page, settings, width)
    page.goto(reverse("admin:callbacks_appointment_book") + f"?service={service.pk}&day={day.isoformat()}")
    page.locator('input[name="slot"]').first.check()
    page.get_by_label("Caller's name").fill("Chris Caller")
    page.get_by_label("Caller's phone number").fill("07400 111 222")
    page.get_by_label("What the appointment is about").fill("Back went at work yesterday.")
    page.get_by_role("button", name="Book this appointment").click()
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    assert "Book only once the caller has agreed" in summary.inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert in_viewport(page, "#error-summary"), "the summary is in view, not thousands of pixels down"
    screenshot(page, f"desk26-book-refused-{width}", width)
    no_axe_violations(page, f"refused booking at {width}")
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_consent"


@pytest.mark.parametrize("width", WIDTHS)
def test_cancel_asks_why_and_an_undo_sends_nothing(open_page, settings, clinic_day, width):  # noqa: F811
    _, _, day, booking = clinic_day
    page, _ = sign_in(open_page, settings, width)
    page.goto(reverse("admin:callbacks_appointment_diary") + f"?view=day&day={day.isoformat()}")
    page.get_by_role("link", name=f"Cancel {booking.request.reference}").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Cancel this appointment?").is_visible()
    assert page.locator('a[href="tel:+447400123456"]').is_visible()
    no_axe_violations(page, f"cancel page at {width}")
    page.get_by_role("button", name="Yes, cancel the appointment").click()
    page.wait_for_load_state()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    booking.refresh_from_db()
    assert booking.status == Appointment.Status.REQUESTED
    page.get_by_label("Why is it cancelled?").fill("Practitioner ill")
    page.get_by_role("button", name="Yes, cancel the appointment").click()
    page.wait_for_load_state()
    assert "Nothing has been sent yet" in page.locator("#content").inner_text()
    held = Notification.objects.get(kind=Notification.Kind.BOOKING_CANCELLED_BY_CLINIC)
    assert held.status == Notification.Status.HELD
    screenshot(page, f"desk26-cancel-undo-{width}", width)
    no_axe_violations(page, f"cancelled, undo offered, at {width}")
    page.get_by_role("button", name="Undo the cancellation").click()
    page.wait_for_load_state()
    assert "Nothing was sent to the patient" in page.locator(".messagelist").inner_text()
    booking.refresh_from_db()
    assert booking.status == Appointment.Status.REQUESTED
    assert not Notification.objects.filter(kind=Notification.Kind.BOOKING_CANCELLED_BY_CLINIC).exists()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_move_page_shows_the_phone_and_picks_a_day_then_a_time(
    open_page,
    settings,
    clinic_day,  # noqa: F811
    width,
):
    _, _, day, booking = clinic_day
    page, _ = sign_in(open_page, settings, width)
    page.goto(reverse("admin:callbacks_appointment_move", args=[booking.pk]))
    phone = page.locator('a[href="tel:+447400123456"]')
    assert phone.is_visible() and phone.inner_text() == "+44 7400 123456"
    assert page.locator('input[name="slot"]').count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"desk26-move-days-{width}", width)
    no_axe_violations(page, f"move: days at {width}")
    later = day + dt.timedelta(days=1)
    page.get_by_role("link", name=re.compile(rf"^{later:%a} {later.day} {later:%b}: \d+ free")).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name=re.compile(f"New time on {later:%A}")).is_visible()
    screenshot(page, f"desk26-move-times-{width}", width)
    no_axe_violations(page, f"move: times at {width}")
    page.get_by_label("11:00\N{EN DASH}11:45").check()
    page.get_by_role("button", name="Move here").click()
    page.wait_for_load_state()
    booking.refresh_from_db()
    assert timezone.localtime(booking.starts_at).date() == later
    assert booking.request.deadline <= booking.starts_at


@pytest.mark.parametrize("width", WIDTHS)
def test_a_request_page_opens_on_the_work_and_stays_put_after_an_action(
    open_page,
    settings,
    clinic_day,  # noqa: F811
    width,
):
    _, _, _, booking = clinic_day
    request = booking.request
    request.questionnaire_response = questionnaire_response_create(
        definition=definition_current("back-pain"), answers={"saddle_numbness": False}, complete=False
    )
    request.save(update_fields=["questionnaire_response"])
    page, _ = sign_in(open_page, settings, width)
    page.goto(reverse("admin:callbacks_callbackrequest_change", args=[request.pk]))
    call_form = page.locator("#act-call").bounding_box()
    questionnaire = page.locator("#questionnaire").bounding_box()
    details_open = page.locator("#questionnaire details[data-fold-narrow]").evaluate("d => d.open")
    if width == PHONE_WIDTH:
        assert call_form["y"] < questionnaire["y"], "on a phone the call log comes before the answers"
        assert details_open is False, "the long answers are folded"
        assert page.get_by_text("Why this priority").is_visible(), "the reasons stay in view"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    else:
        assert call_form["x"] > questionnaire["x"], "on a wide screen the work stands beside the answers"
        assert details_open is True
    no_axe_violations(page, f"request page at {width}")
    page.locator("#act-call").get_by_label("No answer").check()
    page.locator("#act-call").get_by_role("button", name="Log call").click()
    page.wait_for_url(re.compile(r"done=call"))
    page.wait_for_load_state()
    assert in_viewport(page, "#act-call"), "back where the call was logged"
    assert "Call logged" in page.locator("#act-call .triage-done").inner_text()
    screenshot(page, f"desk26-request-after-call-{width}", width)
    no_axe_violations(page, f"request page after an action at {width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_an_empty_diary_time_books_and_the_printed_week_has_no_blank_page(
    open_page,
    settings,
    clinic_day,  # noqa: F811
    width,
):
    _, practitioner, day, _ = clinic_day
    page, _ = sign_in(open_page, settings, width)
    page.goto(reverse("admin:callbacks_appointment_diary") + f"?view=day&day={day.isoformat()}")
    no_axe_violations(page, f"diary with bookable free times at {width}")
    page.get_by_role("link", name=re.compile(f"book with {practitioner.name} on {day:%A} .* from 10:45")).click()
    page.wait_for_load_state()
    chosen = page.locator('input[name="slot"]:checked')
    assert chosen.count() == 1
    assert f"{day:%a %d %b}, 11:00-11:45" in page.locator(f'label[for="{chosen.get_attribute("id")}"]').inner_text()
    no_axe_violations(page, f"booking form from the diary at {width}")

    # Printed: a day is one page, a week seven, and no blank page at the end.
    for view, pages in (("day", 1), ("week", 7)):
        page.goto(reverse("admin:callbacks_appointment_diary") + f"?view={view}&day={day.isoformat()}")
        pdf = page.pdf(format="A4")
        counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf)] or [
            len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
        ]
        assert max(counts) == pages, f"{view}: {max(counts)} printed pages"


def test_the_desks_changed_pages_are_valid_html(vnu, tmp_path, settings, clinic_day):  # noqa: F811
    from django.test import Client

    from tests.browser.test_front_desk import triage_staff_group
    from tests.browser.tools import html_errors
    from tests.factories import UserFactory

    service, practitioner, day, booking = clinic_day
    staff = UserFactory(username="val.idator")
    staff.groups.add(triage_staff_group())
    client = Client()
    client.force_login(staff)
    move = reverse("admin:callbacks_appointment_move", args=[booking.pk])
    cancel = reverse("admin:callbacks_appointment_cancel", args=[booking.pk])
    book = reverse("admin:callbacks_appointment_book")
    documents = {
        "move: days": client.get(move).content.decode(),
        "move: times": client.get(f"{move}?day={day.isoformat()}").content.decode(),
        "move refused": client.post(f"{move}?day={day.isoformat()}", {"slot": ""}).content.decode(),
        "cancel": client.get(cancel).content.decode(),
        "cancel refused": client.post(cancel, {"reason": ""}).content.decode(),
        "diary": client.get(reverse("admin:callbacks_appointment_diary") + f"?day={day.isoformat()}").content.decode(),
        "book from the diary": client.get(
            f"{book}?practitioner={practitioner.pk}&day={day.isoformat()}&at=11:00"
        ).content.decode(),
        "book refused": client.post(
            f"{book}?service={service.pk}&day={day.isoformat()}", {"name": "Chris"}
        ).content.decode(),
        "request": client.get(
            reverse("admin:callbacks_callbackrequest_change", args=[booking.request_id])
        ).content.decode(),
    }
    client.post(cancel, {"reason": "Practitioner ill"})
    documents["cancelled, undo offered"] = client.get(cancel).content.decode()
    assert html_errors(documents, tmp_path) == {}
