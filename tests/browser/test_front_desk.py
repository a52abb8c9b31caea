"""The front desk's day in a real browser: a member of the Triage staff group signs in with an authenticator
code, books a caller from the admin and works the diary (confirm, move, cancel) at 1280 px; the diary and the
queue at 360 px and on paper. Axe checks every page the desk's work added."""

import datetime as dt
import importlib
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from callbacks.booking.slots import slots_free
from callbacks.models import Appointment, CallbackRequest, ConsentMethod, Practitioner, Service, WorkingHours
from tests.browser.tools import DESKTOP_WIDTH, PHONE_WIDTH, axe_violations, screenshot
from tests.callbacks.booking.test_booking import book
from tests.factories import CallbackRequestFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def clinic_day():
    """One service, a practitioner working 09:00-17:00 every day, and a patient's booking the day after tomorrow."""
    service = Service.objects.create(name="Initial assessment", duration_minutes=45)
    practitioner = Practitioner.objects.create(name="Sam Physio")
    practitioner.services.add(service)
    for weekday in range(7):
        WorkingHours.objects.create(practitioner=practitioner, weekday=weekday, start=dt.time(9), end=dt.time(17))
    day = timezone.localdate() + dt.timedelta(days=2)
    slot = slots_free(service=service, first_day=day, days=1)[2]  # 10:00
    patient_booking = book(service, practitioner, slot.starts_at)
    return service, practitioner, day, patient_booking


def triage_staff_group() -> Group:
    """The group as its data migrations make it: another transactional test's flush may have removed it."""
    granted = [
        *importlib.import_module("callbacks.migrations.0004_triage_staff_group").PERMISSIONS,
        *importlib.import_module("callbacks.migrations.0007_front_desk").GRANTS["Triage staff"],
        *importlib.import_module("callbacks.migrations.0010_waitlist_closure_grants").GRANTS["Triage staff"],
    ]
    group, _ = Group.objects.get_or_create(name="Triage staff")
    group.permissions.set(
        Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in granted
    )
    return group


def sign_in(open_page, settings, width):
    settings.ADMIN_REQUIRE_2FA = True
    staff = UserFactory(username="fran.desk", first_name="Fran", last_name="Desk")
    staff.groups.add(triage_staff_group())
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    page = open_page(width)
    page.goto("/" + settings.ADMIN_URL_PATH)
    page.get_by_label("Username").fill("fran.desk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(
        f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"
    )
    page.locator('input[type="submit"]').first.click()
    page.wait_for_url("**/" + settings.ADMIN_URL_PATH)
    return page, staff


def no_axe_violations(page, name):
    violations = axe_violations(page)
    assert violations == [], f"{name}: {violations}"


def test_a_desk_member_books_a_caller_and_works_the_diary(open_page, settings, clinic_day):
    _, _, day, patient_booking = clinic_day
    page, staff = sign_in(open_page, settings, DESKTOP_WIDTH)
    home = page.locator("#content").inner_text()
    assert home.index("Callback queue") < home.index("Book for a caller")
    for technical in ("Authentication", "Axes", "OTP"):
        assert technical not in home
    screenshot(page, "desk-1-home", DESKTOP_WIDTH)
    no_axe_violations(page, "admin home")

    # Book a caller: service, free times, details, consent read out, safety questions not asked this time.
    page.get_by_role("link", name="Book for a caller").click()
    page.locator("#id_service").select_option(label="Initial assessment")
    page.locator("#id_day").fill(day.isoformat())
    page.get_by_role("button", name="Show free times").click()
    page.wait_for_load_state()
    no_axe_violations(page, "book for a caller")
    radios = page.locator('input[name="slot"]')
    first_label = page.locator(f'label[for="{radios.first.get_attribute("id")}"]').inner_text()
    assert "09:00-09:45 with Sam Physio" in first_label
    offered = page.locator("#id_slot").inner_text()
    assert f"{day:%a %d %b}, 09:30-10:15" not in offered, "it would overlap the patient's 10:00 booking"
    assert f"{day:%a %d %b}, 10:00-10:45" not in offered, "the patient's 10:00 booking is not offered"
    assert f"{day:%a %d %b}, 10:45-11:30" not in offered and f"{day:%a %d %b}, 11:00-11:45" in offered
    radios.first.check()
    page.get_by_label("Caller's name").fill("Chris Caller")
    page.get_by_label("Caller's phone number").fill("07400 111 222")
    page.get_by_label("What the appointment is about").fill("Back went at work yesterday.")
    page.get_by_role("button", name="Book this appointment").click()
    page.wait_for_load_state()
    assert "Book only once the caller has agreed" in page.locator("#content").inner_text()
    assert not CallbackRequest.objects.filter(name="Chris Caller").exists()
    screenshot(page, "desk-2-book-consent-missing", DESKTOP_WIDTH)
    page.locator('input[name="slot"]').first.check()
    page.get_by_label("I read this to the caller and they agreed, by phone").check()
    page.get_by_role("button", name="Book this appointment").click()
    page.wait_for_url(re.compile(r"/callbackrequest/\d+/change/"))
    caller = CallbackRequest.objects.get(name="Chris Caller")
    assert (caller.consent_method, caller.consent_recorded_by) == (ConsentMethod.PHONE, staff)
    assert caller.appointment.status == Appointment.Status.CONFIRMED
    body = page.locator("body").inner_text()
    assert "Booked " + caller.reference in body and "by phone, to Fran Desk" in body
    screenshot(page, "desk-3-request-booked-by-phone", DESKTOP_WIDTH)

    # The diary that day: the caller's confirmed 09:00 and the patient's requested 10:00.
    page.get_by_role("link", name="Open the diary that day").click()
    page.wait_for_load_state()
    diary = page.locator("#content").inner_text()
    assert "Confirmed" in diary and "Requested" in diary and "Free" in diary
    screenshot(page, "desk-4-diary-day", DESKTOP_WIDTH)
    no_axe_violations(page, "diary (day)")
    page.get_by_role("button", name=f"Confirm {patient_booking.request.reference}").click()
    page.wait_for_load_state()
    patient_booking.refresh_from_db()
    assert patient_booking.status == Appointment.Status.CONFIRMED
    assert f"Confirmed: {patient_booking.request.reference}" in page.locator(".messagelist").inner_text()

    # Move the patient's appointment to the afternoon, then cancel the caller's.
    # The move page picks a day, then a time (issue 26 item 5).
    page.get_by_role("link", name=f"Move {patient_booking.request.reference}").click()
    page.wait_for_load_state()
    no_axe_violations(page, "move an appointment: the days")
    page.get_by_role("link", name=re.compile(rf"^{day:%a} {day.day} {day:%b}: \d+ free")).click()
    page.wait_for_load_state()
    no_axe_violations(page, "move an appointment: the day's times")
    page.get_by_label("14:00\N{EN DASH}14:45").check()
    page.get_by_role("button", name="Move here").click()
    page.wait_for_load_state()
    patient_booking.refresh_from_db()
    assert timezone.localtime(patient_booking.starts_at).strftime("%H:%M") == "14:00"
    # Cancelling asks why and to confirm (test_front_desk_nothing_misleading has the undo).
    page.get_by_role("link", name=f"Cancel {caller.reference}").click()
    page.wait_for_load_state()
    page.get_by_label("Why is it cancelled?").fill("The caller rang back: a clash at work")
    page.get_by_role("button", name="Yes, cancel the appointment").click()
    page.wait_for_load_state()
    assert Appointment.objects.get(request=caller).status == Appointment.Status.CANCELLED
    page.get_by_role("link", name="Done").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Week view").click()
    page.wait_for_load_state()
    week = page.locator("#content").inner_text()
    assert "14:00\N{EN DASH}14:45" in week and caller.reference not in week
    screenshot(page, "desk-5-diary-week", DESKTOP_WIDTH)
    no_axe_violations(page, "diary (week)")


def test_the_diary_and_the_queue_at_phone_width_and_on_paper(open_page, settings, clinic_day):
    _, _, day, patient_booking = clinic_day
    CallbackRequestFactory(reference="CB-PHONE1")
    page, _ = sign_in(open_page, settings, PHONE_WIDTH)
    page.goto(reverse("admin:callbacks_appointment_diary") + f"?view=day&day={day.isoformat()}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH, "no sideways scrolling"
    confirm = page.get_by_role("button", name=f"Confirm {patient_booking.request.reference}")
    box = confirm.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH and box["height"] >= 24
    screenshot(page, "desk-6-diary-phone", PHONE_WIDTH)
    no_axe_violations(page, "diary at 360 px")

    # Printed: no buttons, no navigation, the appointments still there.
    page.emulate_media(media="print")
    assert not confirm.is_visible()
    assert not page.locator(".desk-toolbar").is_visible()
    assert page.get_by_text(patient_booking.request.reference).is_visible()
    page.pdf(path=str(screenshot(page, "desk-7-diary-print", PHONE_WIDTH).with_suffix(".pdf")))
    page.emulate_media(media="screen")

    # The queue as cards: status and deadline inside the screen.
    page.goto(reverse("admin:callbacks_callbackrequest_changelist"))
    for column in (".field-status", ".field-deadline_left"):
        cell = page.locator(f"#result_list tbody tr {column}").first.bounding_box()
        assert cell["x"] >= 0 and cell["x"] + cell["width"] <= PHONE_WIDTH, column
    screenshot(page, "desk-8-queue-phone", PHONE_WIDTH)
