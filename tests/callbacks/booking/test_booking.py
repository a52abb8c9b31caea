"""Booking an appointment: free slots (across clock changes), the no-double-booking guarantee, the patient's
flow, staff decisions with their e-mails, reminders, and the signed cancel link."""

import datetime as dt
import re
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail, signing
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from callbacks.booking import links
from callbacks.booking.links import appointment_cancel_token, appointment_cancel_url
from callbacks.booking.services import appointment_book, appointment_confirm, appointments_remind
from callbacks.booking.slots import SlotTaken, booking_offered, services_bookable, slots_free
from callbacks.models import (
    Appointment,
    AvailabilityException,
    CallbackRequest,
    Notification,
    Practitioner,
    Priority,
    Service,
    WorkingHours,
)
from callbacks.notifications.delivery import notification_send
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
from tests.callbacks.web.test_intake_flow import post_step
from tests.factories import CallbackRequestFactory, UserFactory
from tests.support.questionnaire import NO_RED_FLAGS, SCREENING_STEPS

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
# Both 2026 clock changes in the UK fall on a Sunday.
SPRING_FORWARD = dt.date(2026, 3, 29)
FALL_BACK = dt.date(2026, 10, 25)


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


def book(service, practitioner, starts_at, **overrides):
    data = {
        "service": service,
        "practitioner_id": practitioner.pk,
        "starts_at": starts_at,
        "name": "Alex Example",
        "phone": "+447400123456",
        "email": "alex@example.com",
        "reason": "Lower back spasms.",
        "consent_version": CURRENT_CONSENT_VERSION,
    }
    data.update(overrides)
    return appointment_book(**data)


def appointment_row(practitioner, service, start, minutes=45, status=Appointment.Status.REQUESTED):
    return Appointment(
        practitioner=practitioner,
        service=service,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=minutes),
        status=status,
        request=CallbackRequestFactory(kind=CallbackRequest.Kind.BOOKING),
    )


def a_free_slot(service, days_ahead=2):
    """The first free slot a few days ahead (clear of the minimum notice)."""
    day = timezone.localdate() + dt.timedelta(days=days_ahead)
    return slots_free(service=service, first_day=day, days=1)[0]


# Slots -------------------------------------------------------------------------------------------------------


def test_slots_fill_working_hours_in_steps_and_respect_duration(service, practitioner):
    day = dt.date(2026, 12, 2)
    slots = slots_free(service=service, now=local(dt.date(2026, 11, 20), 12), first_day=day, days=1)
    starts = [slot.local_start.strftime("%H:%M") for slot in slots]
    # 09:00 to 16:15 every 30 minutes: the last 45-minute slot must end by 17:00.
    assert starts[0] == "09:00" and starts[-1] == "16:00"
    assert len(starts) == 15
    assert all(slot.ends_at - slot.starts_at == dt.timedelta(minutes=45) for slot in slots)
    assert all(slot.starts_at.tzinfo is not None for slot in slots)


@pytest.mark.parametrize(
    ("day", "utc_offset_hours"),
    [(SPRING_FORWARD, 1), (FALL_BACK, 0)],
    ids=["spring-forward", "fall-back"],
)
def test_daytime_slots_keep_their_local_times_on_clock_change_days(service, practitioner, day, utc_offset_hours):
    slots = slots_free(service=service, now=local(day - dt.timedelta(days=7), 12), first_day=day, days=1)
    assert [slot.local_start.strftime("%H:%M") for slot in slots][:3] == ["09:00", "09:30", "10:00"]
    first = slots[0]
    # Stored in UTC: 09:00 in summer time is 08:00 UTC; after the change back, 09:00 UTC.
    assert first.starts_at.astimezone(UTC).hour == 9 - utc_offset_hours
    assert first.ends_at.astimezone(LONDON).strftime("%H:%M") == "09:45"
    assert len(slots) == 15


@pytest.mark.parametrize(
    ("day", "expected_local", "real_hours"),
    [
        # 00:00-04:00 on the clocks is three real hours in spring: 01:00-02:00 never happens.
        (SPRING_FORWARD, ["00:00 GMT", "02:00 BST", "03:00 BST"], 3),
        # ...and five in autumn: 01:00-02:00 happens twice, and both hours are offered once each.
        (FALL_BACK, ["00:00 BST", "01:00 BST", "01:00 GMT", "02:00 GMT", "03:00 GMT"], 5),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_night_slots_across_the_clock_change_are_neither_missing_nor_doubled(day, expected_local, real_hours):
    service = Service.objects.create(name="Night clinic", duration_minutes=60)
    practitioner = Practitioner.objects.create(name="Night Owl")
    practitioner.services.add(service)
    WorkingHours.objects.create(practitioner=practitioner, weekday=6, start=dt.time(0), end=dt.time(4))
    slots = slots_free(service=service, now=local(day - dt.timedelta(days=7), 12), first_day=day, days=1)
    assert [slot.local_start.strftime("%H:%M %Z") for slot in slots if slot.starts_at.minute == 0] == expected_local
    hourly = [slot for slot in slots if slot.local_start.minute == 0]
    assert all(slot.ends_at - slot.starts_at == dt.timedelta(hours=1) for slot in slots)
    assert len({slot.starts_at for slot in slots}) == len(slots)  # no instant offered twice
    assert len(hourly) == real_hours
    assert slots[-1].ends_at == local(day, 4).astimezone(UTC)


def test_exceptions_taken_slots_past_and_short_notice_are_not_offered(service, practitioner):
    day = dt.date(2026, 12, 2)
    AvailabilityException.objects.create(
        practitioner=practitioner, start=local(day, 12), end=local(day, 14), reason=AvailabilityException.Reason.LEAVE
    )
    taken = appointment_row(practitioner, service, local(day, 9))
    taken.save()
    cancelled = appointment_row(practitioner, service, local(day, 15), status=Appointment.Status.CANCELLED)
    cancelled.save()
    slots = slots_free(service=service, now=local(day, 8), first_day=day, days=1)
    starts = [slot.local_start.strftime("%H:%M") for slot in slots]
    assert "09:00" not in starts and "09:30" not in starts  # overlaps the 09:00-09:45 appointment
    assert "10:00" in starts
    # 11:30 would run into the leave at 12:00; 12:00 to 13:30 are inside it.
    assert not {"11:30", "12:00", "13:00", "13:30"} & set(starts)
    assert "14:00" in starts
    assert "15:00" in starts  # a cancelled appointment frees its time
    # The minimum notice: at 08:00 nothing before 10:00 is offered even if free.
    later = slots_free(service=service, now=local(day, 9, 31), first_day=day, days=1)
    assert later[0].local_start >= local(day, 11, 31)


def test_inactive_practitioners_and_other_services_are_not_offered(service, practitioner):
    other = Service.objects.create(name="Home visit", duration_minutes=60)
    assert slots_free(service=other) == []
    assert services_bookable() == [service] and booking_offered() is True
    practitioner.active = False
    practitioner.save()
    assert slots_free(service=service) == []
    assert services_bookable() == [] and booking_offered() is False


# The guarantee -------------------------------------------------------------------------------------------------


def test_the_database_refuses_an_overlapping_appointment(service, practitioner):
    start = local(dt.date(2026, 12, 2), 10)
    appointment_row(practitioner, service, start).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        appointment_row(practitioner, service, start + dt.timedelta(minutes=30)).save()
    # Touching ends, a declined or cancelled one, or another practitioner: all allowed.
    appointment_row(practitioner, service, start + dt.timedelta(minutes=45)).save()
    appointment_row(practitioner, service, start, status=Appointment.Status.DECLINED).save()
    other = Practitioner.objects.create(name="Other")
    appointment_row(other, service, start).save()
    assert Appointment.objects.holding().filter(practitioner=practitioner).count() == 2


def test_the_database_refuses_an_update_into_an_overlap(service, practitioner):
    start = local(dt.date(2026, 12, 2), 10)
    appointment_row(practitioner, service, start).save()
    moved = appointment_row(practitioner, service, start, status=Appointment.Status.CANCELLED)
    moved.save()
    moved.status = Appointment.Status.REQUESTED
    with pytest.raises(IntegrityError), transaction.atomic():
        moved.save()


def test_a_raw_sql_insert_is_refused_too(service, practitioner):
    """Not the ORM, not Python: the database itself holds the rule."""
    start = local(dt.date(2026, 12, 2), 10).astimezone(UTC)
    first = appointment_row(practitioner, service, start)
    first.save()
    second_request = CallbackRequestFactory(kind=CallbackRequest.Kind.BOOKING)
    table = Appointment._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (practitioner_id, service_id, starts_at, ends_at, status, request_id, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                practitioner.pk,
                service.pk,
                start + dt.timedelta(minutes=10),
                start + dt.timedelta(minutes=55),
                "confirmed",
                second_request.pk,
                timezone.now(),
            ],
        )


def test_the_sqlite_triggers_exist_after_migrations():
    """A later migration that rebuilds the table on SQLite would silently drop them: this catches it."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's triggers; PostgreSQL has the exclusion constraint (tested above on both)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'callbacks_appointment'")
        names = {row[0] for row in cursor.fetchall()}
    assert names == {"cb_appointment_no_overlap_insert", "cb_appointment_no_overlap_update"}


@pytest.mark.postgres
def test_postgresql_has_the_exclusion_constraint():
    with connection.cursor() as cursor:
        cursor.execute("SELECT contype FROM pg_constraint WHERE conname = 'cb_appointment_no_overlap'")
        assert cursor.fetchall() == [("x",)]


# Services ---------------------------------------------------------------------------------------------------


def test_booking_saves_request_intake_and_appointment_together(
    service, practitioner, django_capture_on_commit_callbacks
):
    slot = a_free_slot(service)
    with django_capture_on_commit_callbacks() as callbacks:
        appointment = book(service, practitioner, slot.starts_at)
    assert appointment.status == Appointment.Status.REQUESTED
    assert (appointment.starts_at, appointment.ends_at) == (slot.starts_at, slot.ends_at)
    request = appointment.request
    assert request.kind == CallbackRequest.Kind.BOOKING
    assert (request.window_start, request.window_end) == (slot.starts_at, slot.ends_at)
    kinds = set(request.notifications.values_list("kind", flat=True))
    assert kinds == {Notification.Kind.STAFF_NEW_REQUEST, Notification.Kind.PATIENT_CONFIRMATION}
    assert len(callbacks) == 1
    assert slot not in slots_free(service=service)


def test_a_taken_slot_raises_with_the_nearest_alternatives_and_saves_nothing(service, practitioner):
    slot = a_free_slot(service)
    book(service, practitioner, slot.starts_at)
    requests_before = CallbackRequest.objects.count()
    with pytest.raises(SlotTaken) as taken:
        book(service, practitioner, slot.starts_at, phone="+447400999999")
    assert CallbackRequest.objects.count() == requests_before
    assert Appointment.objects.count() == 1
    alternatives = taken.value.alternatives
    assert alternatives and all(alt.starts_at != slot.starts_at for alt in alternatives)
    # The nearest: the first free time after the 45 minutes held.
    assert min(abs(alt.starts_at - slot.starts_at) for alt in alternatives) <= dt.timedelta(hours=1)


def test_a_slot_outside_the_schedule_cannot_be_booked(service, practitioner):
    day = timezone.localdate() + dt.timedelta(days=3)
    with pytest.raises(SlotTaken):
        book(service, practitioner, local(day, 20))  # after hours
    with pytest.raises(SlotTaken):
        book(service, practitioner, local(day, 9, 10))  # not on the slot grid
    assert not Appointment.objects.exists() and not CallbackRequest.objects.exists()


def test_emergency_triage_is_flagged_and_stays_requested(service, practitioner):
    from intake.definitions import BACK_PAIN, definition_current
    from intake.services import QuestionnaireAnswers

    definition = definition_current(BACK_PAIN)
    answers = {key: key == "saddle_numbness" for key in NO_RED_FLAGS["safety"]}
    appointment = book(
        service,
        practitioner,
        a_free_slot(service).starts_at,
        questionnaire=QuestionnaireAnswers(definition=definition, answers=answers, complete=False),
    )
    assert appointment.request.priority == Priority.EMERGENCY
    assert appointment.flagged
    assert appointment.status == Appointment.Status.REQUESTED


# The patient's flow ------------------------------------------------------------------------------------------


def choose_slot(client, service, slot):
    response = client.post(reverse("callbacks:booking_slots", kwargs={"service": service.pk}), {"slot": slot.key})
    assert response.status_code == 302, response.content.decode()[:1000]
    return response["Location"]


def answer_all(client, url):
    """The safety questions of the short path; the URL of the details page."""
    for step in SCREENING_STEPS:
        response = post_step(client, url, NO_RED_FLAGS[step])
        assert response.status_code == 302, response.content.decode()[:2000]
        url = response["Location"]
    assert "/your-details/" in url
    return url


CONTACT = {
    "name": "Alex Example",
    "phone": "07400 123456",
    "email": "alex@example.com",
    "reason": "Spasms since the weekend.",
    "consent": "on",
}


def test_home_and_nav_offer_booking(client, service, practitioner):
    page = client.get(reverse("home")).content.decode()
    assert page.count(reverse("callbacks:booking_services")) >= 2


def test_without_a_bookable_service_booking_links_are_hidden_and_the_callback_offered(client):
    for url in (reverse("home"), reverse("article_list"), reverse("callbacks:request")):
        page = client.get(url).content.decode()
        assert reverse("callbacks:booking_services") not in page, url
        assert reverse("callbacks:request") in page, url
    home = client.get(reverse("home")).content.decode()
    assert re.search(r'class="btn btn-primary btn-lg" href="/request-a-callback/">Request a callback', home)


def day_url(service, slot) -> str:
    """The booking page's step 2: the free times of the slot's day."""
    return reverse("callbacks:booking_slots", kwargs={"service": service.pk}) + f"?day={slot.local_start.date()}"


def test_services_and_slots_pages_show_days_then_free_times_as_buttons(client, service, practitioner):
    page = client.get(reverse("callbacks:booking_services")).content.decode()
    assert "Initial assessment" in page
    slots_url = reverse("callbacks:booking_slots", kwargs={"service": service.pk})
    response = client.get(slots_url)
    page = response.content.decode()
    assert response.status_code == 200
    slot = a_free_slot(service)
    assert 'name="slot"' not in page and f'href="?day={slot.local_start.date()}"' in page
    page = client.get(day_url(service, slot)).content.decode()
    assert f'name="slot" value="{slot.key}"' in page
    assert "<script" not in page.split("</footer>")[0] and 'style="' not in page
    assert client.get(slots_url + "?week=3").status_code == 200
    assert client.get(slots_url + "?week=nonsense").status_code == 200


def test_whole_booking_flow_books_the_slot_and_confirms_it(client, service, practitioner):
    slot = a_free_slot(service)
    first = choose_slot(client, service, slot)
    safety = client.get(first).content.decode()
    # Booking pages speak of the booking.
    assert "Book an appointment · part 1 of 3" in safety and "Request a callback" not in safety.split("<main")[1]
    details_url = answer_all(client, first)
    page = client.get(details_url).content.decode()
    assert "Your chosen time" in page and "preferred_date" not in page
    assert "Book an appointment · part 3 of 3" in page
    response = client.post(details_url, CONTACT)
    assert response.status_code == 302 and response["Location"] == reverse("callbacks:booking_done")
    appointment = Appointment.objects.get()
    assert appointment.starts_at == slot.starts_at and appointment.practitioner == practitioner
    assert appointment.request.questionnaire_response is not None
    assert appointment.request.phone == "+447400123456"
    done = client.get(response["Location"]).content.decode()
    assert appointment.request.reference in done
    assert slot.local_start.strftime("%H:%M") in done
    # The rest of the questionnaire follows the booking, saved page by page.
    assert "Help us prepare for your appointment" in done and "prepare for your call" not in done
    link = re.search(r'id="prepare-start" href="([^"]+)"', done).group(1)
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        assert post_step(client, f"{link}where/", NO_RED_FLAGS["where"]).status_code == 302
    assert appointment.request.questionnaire_response.answers.filter(question_id="pain_areas").exists()


def test_an_emergency_answer_makes_an_emergency_callback_and_books_no_slot(client, service, practitioner):
    slot = a_free_slot(service)
    url = choose_slot(client, service, slot)
    response = post_step(client, url, {"saddle_numbness": "yes"})
    assert "/get-help-now/" in response["Location"]
    advice = client.get(response["Location"]).content.decode()
    details_url = re.search(r'href="([^"]+/your-details/)"', advice).group(1)
    page = client.get(details_url).content.decode()
    # No routine slot for an emergency, and no day or time asked: we call as soon as we can.
    assert "Please get emergency help first" in page
    assert "Your chosen time" not in page and "The time is yours" not in page
    assert 'name="preferred_date"' not in page
    done = client.post(details_url, {**CONTACT, "reason": ""})
    assert done.status_code == 302
    assert not Appointment.objects.exists()
    request = CallbackRequest.objects.get()
    assert (request.priority, request.kind) == (Priority.EMERGENCY, CallbackRequest.Kind.CALLBACK)
    assert "Do not wait for our call" in client.get(done["Location"]).content.decode()
    # The slot is still free for someone else.
    assert slot.key in client.get(day_url(service, slot)).content.decode()


def test_a_booking_turned_emergency_by_later_answers_releases_its_slot(client, service, practitioner, settings):
    from callbacks.requests.services import callback_request_questionnaire_step_save
    from intake.definitions import Step

    slot = a_free_slot(service)
    details_url = answer_all(client, choose_slot(client, service, slot))
    assert client.post(details_url, CONTACT).status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.status == Appointment.Status.REQUESTED
    # A later page that (in some definition) raises the tier to emergency: here, the safety step sent again.
    safety = appointment.request.questionnaire_response.definition.step("safety")
    assert isinstance(safety, Step)
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        saved = callback_request_questionnaire_step_save(
            request_id=appointment.request_id, step=safety, step_answers={"chest_pain": True}
        )
    assert saved.priority_raised
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.request.priority == Priority.EMERGENCY
    raised = Notification.objects.get(kind=Notification.Kind.STAFF_PRIORITY_RAISED)
    assert raised.recipient == settings.CLINIC_URGENT_EMAIL
    notification_send(notification_id=raised.pk)
    [message] = [m for m in mail.outbox if "Priority raised" in m.subject]
    assert "appointment time this booking held has been released" in message.body
    assert "chest" not in message.body.lower()
    # The patient hears too: the emergency advice first, no link to another time, and a calendar file that takes
    # the event out of their calendar (the same event, a higher SEQUENCE than the first file's).
    cancelled = Notification.objects.get(kind=Notification.Kind.BOOKING_CANCELLED_BY_CLINIC)
    assert cancelled.recipient == CONTACT["email"]
    notification_send(notification_id=cancelled.pk)
    [patient_mail] = [m for m in mail.outbox if m.to == [CONTACT["email"]] and "cancelled" in m.subject]
    assert patient_mail.body.startswith("GET MEDICAL HELP NOW")
    assert "book a different time" not in patient_mail.body and "chest" not in patient_mail.body.lower()
    [(_, ics, _)] = patient_mail.attachments
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert Calendar.from_ical(ics)["METHOD"] == "CANCEL" and event["STATUS"] == "CANCELLED"
    assert int(event["SEQUENCE"]) == appointment.calendar_sequence >= 1
    # The time is offered again.
    assert slot.key in client.get(day_url(service, slot)).content.decode()


def test_slot_taken_at_submit_shows_409_with_alternatives_and_saves_nothing(client, service, practitioner):
    slot = a_free_slot(service)
    details_url = answer_all(client, choose_slot(client, service, slot))
    book(service, practitioner, slot.starts_at, phone="+447400555555")  # someone else, a moment earlier
    response = client.post(details_url, CONTACT)
    assert response.status_code == 409
    page = response.content.decode()
    assert "that time was just taken" in page.lower()
    assert 'name="slot"' in page
    assert CallbackRequest.objects.count() == 1 and Appointment.objects.count() == 1
    # Choosing one of the alternatives keeps the answers and leads back to the details page.
    alternative = re.search(r'name="slot" value="([^"]+)"', page).group(1)
    action = re.search(r'<form method="post" action="([^"]+)"', page).group(1)
    again = client.post(action, {"slot": alternative})
    assert again.status_code == 302 and again["Location"] == details_url
    assert client.post(details_url, CONTACT).status_code == 302
    assert Appointment.objects.count() == 2


def test_choosing_a_taken_or_forged_slot_gets_the_409_page(client, service, practitioner):
    slot = a_free_slot(service)
    book(service, practitioner, slot.starts_at)
    url = reverse("callbacks:booking_slots", kwargs={"service": service.pk})
    assert client.post(url, {"slot": slot.key}).status_code == 409
    assert client.post(url, {"slot": "garbage"}).status_code == 409
    assert client.post(url, {"slot": f"{practitioner.pk}-99999999999999"}).status_code == 409


def test_bad_details_show_errors_and_book_nothing(client, service, practitioner):
    details_url = answer_all(client, choose_slot(client, service, a_free_slot(service)))
    response = client.post(details_url, {**CONTACT, "phone": "12", "consent": ""})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-describedby="' in page and "Nothing has been booked yet" in page
    assert re.findall(r'<a class="alert-link" href="#([^"]+)">', page) == ["id_phone", "id_consent"]
    assert not Appointment.objects.exists() and not CallbackRequest.objects.exists()


def test_plain_callback_flow_is_unchanged(client):
    url = reverse("callbacks:request")
    details_url = answer_all(client, url)
    assert "preferred_date" in client.get(details_url).content.decode()


# Staff decisions ---------------------------------------------------------------------------------------------


@pytest.fixture
def staff_client():
    user = UserFactory(username="desk", is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def send_all(kind):
    for notification in Notification.objects.filter(kind=kind):
        notification_send(notification_id=notification.pk)


def test_admin_confirm_emails_the_patient_with_a_parseable_ics(staff_client, service, practitioner, settings):
    settings.CLINIC_ADDRESS = "1 Riverside Walk, London; ground floor"
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    changelist = reverse("admin:callbacks_appointment_changelist")
    listing = staff_client.get(changelist + "?when=upcoming").content.decode()
    assert appointment.request.reference in listing
    response = staff_client.post(changelist, {"action": "confirm", "_selected_action": [appointment.pk]}, follow=True)
    assert "Confirmed 1 appointment" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CONFIRMED
    assert appointment.request.status == CallbackRequest.Status.BOOKED  # out of the overdue queue, kept
    assert appointment.request.events.filter(field="status", after="Booked").exists()
    send_all(Notification.Kind.BOOKING_CONFIRMED)
    [message] = [m for m in mail.outbox if "confirmed" in m.subject]
    assert message.to == ["alex@example.com"]
    assert appointment.request.reference in message.body
    assert "Lower back spasms" not in message.body and "Alex" not in message.body
    [(filename, ics, mimetype)] = message.attachments
    assert filename == "appointment.ics" and mimetype == "text/calendar"
    event = parse_ics(ics)
    assert event["DTSTART"] == appointment.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert event["DTEND"] == appointment.ends_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    assert event["LOCATION"] == "1 Riverside Walk\\, London\\; ground floor"
    assert appointment.request.reference in event["DESCRIPTION"]
    assert "Initial assessment" in event["SUMMARY"]
    assert (event["STATUS"], event["SEQUENCE"]) == ("CONFIRMED", "1")
    # Confirming twice does nothing more.
    staff_client.post(changelist, {"action": "confirm", "_selected_action": [appointment.pk]})
    assert Notification.objects.filter(kind=Notification.Kind.BOOKING_CONFIRMED).count() == 1


def test_the_patients_first_email_carries_the_time_as_a_tentative_calendar_event(service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    send_all(Notification.Kind.PATIENT_CONFIRMATION)
    [message] = [m for m in mail.outbox if m.to == ["alex@example.com"]]
    [(filename, ics, mimetype)] = message.attachments
    assert (filename, mimetype) == ("appointment.ics", "text/calendar")
    event = parse_ics(ics)
    assert (event["STATUS"], event["SEQUENCE"]) == ("TENTATIVE", "0")
    assert event["UID"].startswith(f"appointment-{appointment.pk}@")
    assert event["DTSTART"] == appointment.starts_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_ics(text: str) -> dict:
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    unfolded = re.sub(r"\r\n[ \t]", "", text)
    lines = unfolded.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert lines.count("BEGIN:VEVENT") == 1
    return dict(line.split(":", 1) for line in lines)


def test_admin_decline_frees_the_slot_and_tells_the_patient(staff_client, service, practitioner):
    slot = a_free_slot(service)
    appointment = book(service, practitioner, slot.starts_at)
    staff_client.post(
        reverse("admin:callbacks_appointment_changelist"), {"action": "decline", "_selected_action": [appointment.pk]}
    )
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.DECLINED
    assert slot in slots_free(service=service)
    send_all(Notification.Kind.BOOKING_DECLINED)
    [message] = [m for m in mail.outbox if "could not keep" in m.subject]
    assert message.to == ["alex@example.com"]
    # No link to change what is no longer there; a calendar file that takes the tentative event out.
    assert "/book/cancel/" not in message.body and "/book/change/" not in message.body
    [(filename, ics, _)] = message.attachments
    assert filename == "appointment.ics"
    event = parse_ics(ics)
    assert "METHOD:CANCEL" in ics and (event["STATUS"], event["SEQUENCE"]) == ("CANCELLED", "1")


def test_admin_lists_flagged_bookings_and_the_setup_screens_open(staff_client, service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    CallbackRequest.objects.filter(pk=appointment.request_id).update(priority=Priority.URGENT)
    page = staff_client.get(reverse("admin:callbacks_appointment_changelist")).content.decode()
    assert "Check the intake first" in page
    for name in ("service", "practitioner", "availabilityexception"):
        assert staff_client.get(reverse(f"admin:callbacks_{name}_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:callbacks_practitioner_change", args=[practitioner.pk])).status_code == 200
    for when in ("today", "tomorrow", "this_week", "next_week"):
        assert staff_client.get(reverse("admin:callbacks_appointment_changelist") + f"?when={when}").status_code == 200
    # The booking is in the triage queue like any request.
    queue = staff_client.get(reverse("admin:callbacks_callbackrequest_changelist")).content.decode()
    assert appointment.request.reference in queue


# Reminders ---------------------------------------------------------------------------------------------------


def test_reminder_goes_once_the_day_before_a_confirmed_appointment(service, practitioner):
    staff = UserFactory()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    later = timezone.localdate() + dt.timedelta(days=3)
    soon = book(service, practitioner, slots_free(service=service, first_day=tomorrow, days=1)[-1].starts_at)
    far = book(
        service,
        practitioner,
        slots_free(service=service, first_day=later, days=1)[0].starts_at,
        phone="+447400111111",
    )
    unconfirmed = book(
        service,
        practitioner,
        slots_free(service=service, first_day=tomorrow, days=1)[0].starts_at,
        phone="+447400222222",
    )
    appointment_confirm(appointment=soon, user=staff)
    appointment_confirm(appointment=far, user=staff)
    assert appointments_remind() == 1
    assert appointments_remind() == 0
    soon.refresh_from_db()
    assert soon.reminder_sent_at is not None
    reminders = Notification.objects.filter(kind=Notification.Kind.BOOKING_REMINDER)
    assert list(reminders.values_list("request_id", flat=True)) == [soon.request_id]
    assert unconfirmed.status == Appointment.Status.REQUESTED
    send_all(Notification.Kind.BOOKING_REMINDER)
    [message] = [m for m in mail.outbox if "reminder" in m.subject]
    assert message.to == ["alex@example.com"] and message.attachments


def test_beat_runs_the_reminder_job(settings):
    entry = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "callbacks.tasks.appointments_remind"]
    assert entry and entry[0]["schedule"] <= 60 * 60


# Signed cancel links ------------------------------------------------------------------------------------------


def cancel_path(appointment):
    return reverse("callbacks:booking_cancel", kwargs={"token": appointment_cancel_token(appointment)})


def test_cancel_link_get_only_asks_and_post_cancels(client, service, practitioner):
    slot = a_free_slot(service)
    appointment = book(service, practitioner, slot.starts_at)
    assert appointment_cancel_url(appointment).endswith(cancel_path(appointment))
    page = client.get(cancel_path(appointment))
    assert page.status_code == 200 and "Yes, cancel this appointment" in page.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.REQUESTED  # a mail scanner's GET changes nothing
    done = client.post(cancel_path(appointment))
    assert "Your appointment is cancelled" in done.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert slot in slots_free(service=service)
    assert Notification.objects.filter(kind=Notification.Kind.BOOKING_CANCELLED).count() == 1
    again = client.post(cancel_path(appointment))
    assert "Nothing to cancel" in again.content.decode()


def test_tampered_or_expired_cancel_links_are_refused(client, service, practitioner, monkeypatch):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    token = appointment_cancel_token(appointment)
    other = signing.TimestampSigner(salt="something else").sign_object({"a": appointment.pk})
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), other, "nonsense"):
        response = client.post(reverse("callbacks:booking_cancel", kwargs={"token": bad}))
        assert response.status_code == 404
    monkeypatch.setattr(links, "CANCEL_LINK_MAX_AGE", dt.timedelta(seconds=-1))
    response = client.post(reverse("callbacks:booking_cancel", kwargs={"token": token}))
    assert response.status_code == 404 and "does not work" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.REQUESTED


# Slot keys a patient could not have been offered (security review, findings 5b and 6) -------------------------


FORGED_KEYS = [
    pytest.param("{p}-999999999999", id="year-past-9999"),
    pytest.param("{p}-253402300799", id="last-second-of-9999"),
    pytest.param("{p}-253402300800", id="year-10000"),
    pytest.param("99999999999999999999-1790000000", id="practitioner-overflow"),
    pytest.param("{p}-4070944800", id="2099-beyond-the-horizon"),
    pytest.param("{p}-\N{SUPERSCRIPT TWO}", id="unicode-digit"),
    pytest.param("-1-1790000000", id="negative"),
]


@pytest.mark.parametrize("key", FORGED_KEYS)
def test_forged_overflowing_or_far_slot_keys_get_the_409_page_and_book_nothing(client, service, practitioner, key):
    key = key.format(p=practitioner.pk)
    response = client.post(reverse("callbacks:booking_slots", kwargs={"service": service.pk}), {"slot": key})
    assert response.status_code == 409
    assert 'name="slot"' in response.content.decode()  # the nearest times the patient can have instead
    # The same on the change-time page of a flow that holds a real slot.
    flow = choose_slot(client, service, a_free_slot(service)).split("/")[2]
    response = client.post(reverse("callbacks:booking_change_time", kwargs={"flow": flow}), {"slot": key})
    assert response.status_code == 409
    assert not Appointment.objects.exists() and not CallbackRequest.objects.exists()


def test_only_slots_within_the_booking_horizon_can_be_booked(service, practitioner):
    from callbacks.booking.slots import PATIENT_HORIZON_DAYS

    today = timezone.localdate()
    last_day = today + dt.timedelta(days=PATIENT_HORIZON_DAYS - 1)
    with pytest.raises(SlotTaken):
        book(service, practitioner, local(last_day + dt.timedelta(days=1), 10))
    with pytest.raises(SlotTaken):
        book(service, practitioner, local(dt.date(2099, 1, 1), 10))
    assert not Appointment.objects.exists() and not CallbackRequest.objects.exists()
    # The last day offered on the slots page is still bookable.
    assert slots_free(service=service, first_day=last_day, days=1)
    assert book(service, practitioner, local(last_day, 10)).starts_at == local(last_day, 10)


def test_a_confirmed_booking_the_patient_cancels_closes_its_request_and_is_purged_in_time(
    client, service, practitioner, settings
):
    """Security review, finding 7: the request no longer says "Booked" and no longer counts as a patient."""
    from callbacks.privacy.retention import callback_requests_purge_expired
    from callbacks.requests.actors import PATIENT_LINK_USERNAME

    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    assert appointment_confirm(appointment=appointment, user=UserFactory())
    request = appointment.request
    request.refresh_from_db()
    assert request.status == CallbackRequest.Status.BOOKED
    later = timezone.now() + dt.timedelta(days=settings.CLINIC_RETENTION_DAYS + 30)
    assert callback_requests_purge_expired(now=later) == 0  # a patient while the appointment stands

    done = client.post(cancel_path(appointment))
    assert "Your appointment is cancelled" in done.content.decode()
    request.refresh_from_db()
    assert (request.status, request.outcome) == (CallbackRequest.Status.CLOSED, CallbackRequest.Outcome.DECLINED)
    closed = request.events.get(field="status", after=CallbackRequest.Status.CLOSED.label)
    assert closed.actor.username == PATIENT_LINK_USERNAME
    assert not closed.actor.is_active and not closed.actor.has_usable_password()

    assert callback_requests_purge_expired(now=later) == 1
    assert not CallbackRequest.objects.filter(pk=request.pk).exists()


def test_erasing_a_booking_deletes_the_session_that_booked_it_with_its_unfinished_flows(client, service, practitioner):
    """Security review, finding 12, for the booking flow: the session is marked with the request it sent."""
    from django.contrib.sessions.backends.db import SessionStore

    from callbacks.privacy.services import callback_request_erase

    details_url = answer_all(client, choose_slot(client, service, a_free_slot(service)))
    assert client.post(details_url, CONTACT).status_code == 302
    choose_slot(client, service, a_free_slot(service, days_ahead=3))  # a second booking, left unfinished
    session_key = client.session.session_key
    assert SessionStore(session_key=session_key).get("callbacks_booking_choices")
    callback_request_erase(request=Appointment.objects.get().request, actor=UserFactory())
    assert not SessionStore(session_key=session_key).get("callbacks_booking_choices")


def test_choosing_another_time_from_the_details_page_keeps_every_answer(client, service, practitioner):
    first, second = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=1), days=7)[:2]
    details_url = answer_all(client, choose_slot(client, service, first))
    flow = details_url.split("/")[2]
    answers = dict(client.session["callbacks_intake_flows"][flow]["answers"])
    page = client.get(details_url).content.decode()
    change = re.search(r'<a href="([^"]+)">Choose another time</a> \(your answers are kept\)', page).group(1)
    days_page = client.get(change.replace("&amp;", "&")).content.decode()
    assert "Choosing another time: your answers are kept." in days_page
    # The day's link keeps the journey: its times are posted to the change-time address.
    day_link = re.search(rf'href="(\?day={second.local_start.date()}[^"]*)"', days_page).group(1)
    slots_page = client.get(change.split("?")[0] + day_link.replace("&amp;", "&")).content.decode()
    assert "Choosing another time: your answers are kept." in slots_page
    action = re.search(r'<form method="post" action="([^"]+)"', slots_page).group(1)
    assert action == reverse("callbacks:booking_change_time", kwargs={"flow": flow})
    moved = client.post(action, {"slot": second.key})
    assert moved.status_code == 302 and moved["Location"] == details_url
    assert client.session["callbacks_intake_flows"][flow]["answers"] == answers
    assert client.post(details_url, CONTACT).status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.starts_at == second.starts_at
    assert appointment.request.questionnaire_response.answers.count() == len(answers)


def test_the_callback_day_picker_offers_no_past_day(client):
    from callbacks.web.forms import CallbackRequestForm

    html = str(CallbackRequestForm()["preferred_date"])
    assert f'min="{timezone.localdate().isoformat()}"' in html


@pytest.mark.parametrize(
    ("error", "cause", "refused"),
    [
        ("IntegrityError", None, False),
        ("IntegrityError:cb_appointment_no_overlap", None, True),
        (
            "OperationalError",
            ("40P01", 'while checking exclusion constraint on tuple (0,4) in relation "callbacks_appointment"'),
            True,
        ),
        ("OperationalError", ("40P01", 'while updating tuple (0,4) in relation "callbacks_callbackrequest"'), False),
        (
            "OperationalError",
            ("57P01", 'while checking exclusion constraint on tuple (0,4) in relation "callbacks_appointment"'),
            False,
        ),
        ("OperationalError", None, False),
    ],
)
def test_a_write_is_refused_for_a_held_time_on_the_constraint_or_its_deadlock_only(error, cause, refused):
    """Two writers into one time can deadlock while PostgreSQL checks the exclusion constraint: that is the time
    taken, like the constraint's own refusal; any other failure is not."""
    from types import SimpleNamespace

    from django.db import IntegrityError, OperationalError

    from callbacks.booking.slots import slot_write_refused

    kind, _, message = error.partition(":")
    exc = {"IntegrityError": IntegrityError, "OperationalError": OperationalError}[kind](message or "failed")
    if cause is not None:
        driver_error = Exception("from the driver")  # what psycopg raises carries sqlstate and diag
        driver_error.sqlstate, driver_error.diag = cause[0], SimpleNamespace(context=cause[1])
        exc.__cause__ = driver_error
    assert slot_write_refused(exc) is refused
    # The write's savepoint says so in one way for every caller; any other failure passes through unchanged.
    from callbacks.booking.slots import SlotWriteRefused, slot_write

    with pytest.raises(SlotWriteRefused if refused else type(exc)) as raised, slot_write():
        raise exc
    assert (raised.value.__cause__ if refused else raised.value) is exc
