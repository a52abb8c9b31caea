"""The front desk's admin pages: booking for a caller, the diary with its one-click actions, moving, and each
practitioner's calendar feed (parsed with icalendar)."""

import datetime as dt
import re

import icalendar
import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callbacks.booking.feeds import practitioner_feed_issue
from callbacks.booking.services import appointment_confirm, appointments_remind
from callbacks.booking.slots import slots_free
from callbacks.models import (
    Appointment,
    AvailabilityException,
    CallbackRequest,
    ConsentMethod,
    Notification,
    Priority,
    PrivacyLogEntry,
    RequestEvent,
)
from callbacks.requests.consent import CURRENT_TEXT_CONSENT_VERSION
from clinic.hours import clinic_zone
from tests.callbacks.booking.test_booking import a_free_slot, book
from tests.factories import UserFactory
from tests.support.questionnaire import NO_RED_FLAGS

pytestmark = pytest.mark.django_db

DIARY = reverse("admin:callbacks_appointment_diary")
BOOK = reverse("admin:callbacks_appointment_book")
FEED_PAGE = reverse("admin:callbacks_appointment_feed")
DASH = "\N{EN DASH}"


@pytest.fixture
def desk_user():
    user = UserFactory(username="fran", first_name="Fran", last_name="Desk")
    user.groups.add(Group.objects.get(name="Triage staff"))
    return user


@pytest.fixture
def desk(desk_user):
    client = Client()
    client.force_login(desk_user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def action_url(appointment, action):
    return reverse("admin:callbacks_appointment_diary_action", args=[appointment.pk, action])


# Booking for a caller --------------------------------------------------------------------------------------


def caller_post(slot, **overrides):
    data = {
        "slot": slot.key,
        "name": "Chris Caller",
        "phone": "07400 111222",
        "email": "",
        "reason": "Back went at work.",
        "consent": "on",
        "confirm_now": "on",
    }
    data.update(overrides)
    return data


def search_url(service, day):
    return f"{BOOK}?service={service.pk}&practitioner=&day={day.isoformat()}"


def test_the_desk_books_a_caller_into_a_free_slot_with_consent_by_phone(desk, desk_user, service, practitioner):
    slot = a_free_slot(service)
    page = desk.get(search_url(service, slot.local_start.date()))
    assert page.status_code == 200
    assert slot.key in page.content.decode()
    assert "I read this to the caller and they agreed, by phone" in text(page)
    response = desk.post(search_url(service, slot.local_start.date()), caller_post(slot))
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:callbacks_callbackrequest_change", args=[appointment.request_id])
    request = appointment.request
    assert (request.name, request.phone) == ("Chris Caller", "+447400111222")
    assert request.consent_method == ConsentMethod.PHONE and request.consent_recorded_by == desk_user
    assert appointment.status == Appointment.Status.CONFIRMED
    assert slot not in slots_free(service=service)


def test_without_consent_or_with_bad_input_nothing_is_booked(desk, service, practitioner):
    slot = a_free_slot(service)
    url = search_url(service, slot.local_start.date())
    response = desk.post(url, caller_post(slot, consent="", phone="12"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Book only once the caller has agreed" in page
    assert 'aria-describedby="id_consent_error"' in page
    assert not CallbackRequest.objects.exists()


def test_a_slot_taken_meanwhile_is_refused_next_to_the_field(desk, service, practitioner):
    slot = a_free_slot(service)
    url = search_url(service, slot.local_start.date())
    page = desk.get(url)  # the desk sees the slot free...
    assert slot.key in page.content.decode()
    book(service, practitioner, slot.starts_at)  # ...a patient takes it online...
    response = desk.post(url, caller_post(slot, phone="+447400999888"))
    assert response.status_code == 200
    assert "not offered any more" in text(response)
    assert Appointment.objects.count() == 1


def test_safety_questions_asked_by_phone_set_the_priority_and_stop_auto_confirm(desk, service, practitioner):
    slot = a_free_slot(service)
    answers = {f"q_{key}": "no" for key in NO_RED_FLAGS["safety"]}
    answers |= {f"q_{key}": value for key, value in NO_RED_FLAGS["health"].items()}
    answers["q_saddle_numbness"] = "yes"
    response = desk.post(search_url(service, slot.local_start.date()), caller_post(slot, ask_questions="on", **answers))
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.request.priority == Priority.EMERGENCY
    assert appointment.status == Appointment.Status.REQUESTED
    assert appointment.request.questionnaire_response.is_complete is False


def test_ticking_the_questions_box_requires_every_question(desk, service, practitioner):
    slot = a_free_slot(service)
    response = desk.post(search_url(service, slot.local_start.date()), caller_post(slot, ask_questions="on"))
    assert response.status_code == 200
    assert "Ask this question, or untick the box above." in text(response)
    assert not Appointment.objects.exists()


# The diary ---------------------------------------------------------------------------------------------------


def test_day_view_shows_appointments_state_badge_free_time_and_links(desk, service, practitioner):
    slot = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=2), days=1)[2]  # 10:00
    appointment = book(service, practitioner, slot.starts_at)
    day = slot.local_start.date()
    response = desk.get(f"{DIARY}?view=day&day={day.isoformat()}&practitioner={practitioner.pk}")
    assert response.status_code == 200
    page = text(response)
    assert f"Diary of Sam Physio, {day:%A %d %B %Y}" in page
    start, end = slot.local_start, slot.local_end
    # Booked without the safety questions: "Not screened" beside its default "Routine".
    assert (
        f"{start:%H:%M}{DASH}{end:%H:%M} Requested Routine Not screened {appointment.request.reference} Alex Example"
        in page
    )
    assert reverse("admin:callbacks_callbackrequest_change", args=[appointment.request_id]) in response.content.decode()
    # 09:00-17:00 less the appointment: free before and after it.
    assert f"09:00{DASH}10:00 Free (60 min)" in page
    assert f"{end:%H:%M}{DASH}17:00 Free" in page


def test_week_view_of_the_clinic_lists_seven_days_and_time_away(desk, service, practitioner):
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    zone = timezone.get_current_timezone()
    AvailabilityException.objects.create(
        practitioner=practitioner,
        start=dt.datetime.combine(monday + dt.timedelta(days=2), dt.time(0), tzinfo=zone),
        end=dt.datetime.combine(monday + dt.timedelta(days=3), dt.time(0), tzinfo=zone),
        reason=AvailabilityException.Reason.LEAVE,
    )
    response = desk.get(f"{DIARY}?view=week&day={today.isoformat()}")
    page = text(response)
    assert f"Diary of the clinic, week of {monday:%a %d %b %Y}" in page
    assert len(response.context["days"]) == 7
    assert f"09:00{DASH}17:00 Away: Leave" in page


def test_diary_buttons_confirm_and_decline_in_one_post_each(desk, service, practitioner, desk_user):
    first = book(service, practitioner, a_free_slot(service).starts_at)
    second = book(service, practitioner, a_free_slot(service, 3).starts_at, phone="+447400222333")
    third = book(service, practitioner, a_free_slot(service, 4).starts_at, phone="+447400222444")
    back = f"{DIARY}?view=week"
    response = desk.post(action_url(first, "confirm"), {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    response = desk.post(action_url(second, "decline"), {"next": "https://evil.example/"})
    assert response["Location"] == DIARY  # never sent elsewhere
    # Cancelling is not one tap: the diary's Cancel opens a page that asks why and to confirm (test_desk_cancel).
    assert desk.post(action_url(third, "cancel")).status_code == 404
    statuses = dict(Appointment.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "confirmed", second.pk: "declined", third.pk: "requested"}
    assert CallbackRequest.objects.get(pk=first.request_id).status == CallbackRequest.Status.BOOKED
    assert not Notification.objects.filter(kind=Notification.Kind.BOOKING_CANCELLED_BY_CLINIC).exists()
    # A second press changes nothing and says so.
    again = desk.post(action_url(first, "confirm"), follow=True)
    assert "Nothing was changed" in text(again)


def test_diary_actions_need_post_with_csrf_and_the_permission(desk_user, service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(desk_user)
    assert strict.get(action_url(appointment, "confirm")).status_code == 405
    assert strict.post(action_url(appointment, "confirm")).status_code == 403
    reader = UserFactory(username="reader")
    reader_client = Client()
    reader_client.force_login(reader)
    assert reader_client.get(DIARY).status_code == 403
    assert reader_client.post(action_url(appointment, "confirm")).status_code == 403
    assert reader_client.get(BOOK).status_code == 403
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.REQUESTED


def test_move_page_moves_to_a_chosen_free_time_and_records_it(desk, service, practitioner):
    first, later = a_free_slot(service), a_free_slot(service, 3)
    appointment = book(service, practitioner, first.starts_at)
    url = reverse("admin:callbacks_appointment_move", args=[appointment.pk]) + f"?day={later.local_start.date()}"
    page = desk.get(url)
    assert page.status_code == 200 and later.key in page.content.decode()
    response = desk.post(url, {"slot": later.key, "next": DIARY})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.starts_at == later.starts_at
    assert RequestEvent.objects.filter(request=appointment.request, field="appointment").count() == 1
    refused = desk.post(url, {"slot": "1-123"})
    assert refused.status_code == 200 and "not free any more" in text(refused)


def test_the_move_page_records_whom_it_showed_in_the_privacy_log(desk, desk_user, service, practitioner):
    """Security review 27, finding 3: the page shows the patient's name and wrote no privacy log entry."""
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    url = reverse("admin:callbacks_appointment_move", args=[appointment.pk])
    page = desk.get(url)
    assert page.status_code == 200 and appointment.request.name in text(page)
    listed = PrivacyLogEntry.objects.filter(action=PrivacyLogEntry.Action.LISTED)
    assert [(entry.reference, entry.actor) for entry in listed] == [(appointment.request.reference, desk_user)]


@pytest.mark.parametrize("ending", ["cancelled", "declined", "started"])
def test_the_move_page_refuses_an_appointment_that_cannot_be_moved(desk, service, practitioner, ending):
    from callbacks.booking.services import appointment_cancel, appointment_decline

    first, later = a_free_slot(service), a_free_slot(service, 3)
    appointment = book(service, practitioner, first.starts_at)
    if ending == "cancelled":
        appointment_cancel(appointment=appointment)
    elif ending == "declined":
        appointment_decline(appointment=appointment, user=UserFactory(username="boss"))
    else:
        Appointment.objects.filter(pk=appointment.pk).update(
            starts_at=timezone.now() - dt.timedelta(minutes=5), ends_at=timezone.now() + dt.timedelta(minutes=40)
        )
    url = reverse("admin:callbacks_appointment_move", args=[appointment.pk])
    for response in (desk.get(url, {"next": DIARY}), desk.post(url, {"slot": later.key, "next": DIARY})):
        assert response.status_code == 302 and response["Location"] == DIARY
    assert not PrivacyLogEntry.objects.exists()
    assert Appointment.objects.get(pk=appointment.pk).starts_at != later.starts_at
    assert f"{appointment.request.reference} cannot be moved" in text(desk.get(DIARY))


# Calendar feeds -----------------------------------------------------------------------------------------------


@pytest.fixture
def practitioner_client(practitioner):
    user = UserFactory(username="sam")
    user.groups.add(Group.objects.get(name="Triage staff"))
    practitioner.user = user
    practitioner.save()
    client = Client()
    client.force_login(user)
    return client


def feed_events(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return response, icalendar.Calendar.from_ical(response.content).walk("VEVENT")


def test_a_practitioner_makes_their_feed_and_it_holds_reference_and_time_only(
    practitioner_client, service, practitioner, client
):
    appointment = book(service, practitioner, a_free_slot(service).starts_at, reason="Numb saddle area, weak legs.")
    page = practitioner_client.post(FEED_PAGE, {"action": "issue"})
    feed_url = re.search(r'value="(http[^"]+\.ics)"', page.content.decode()).group(1)
    path = feed_url.removeprefix("http://127.0.0.1:8000")
    response, events = feed_events(client, path)  # no sign-in: the secret is the key
    assert len(events) == 1
    event = events[0]
    assert str(event["summary"]) == f"{appointment.request.reference} (not confirmed yet)"
    assert event.decoded("dtstart") == appointment.starts_at
    assert event.decoded("dtend") == appointment.ends_at
    assert str(event["status"]) == "TENTATIVE"
    body = response.content.decode()
    for private in ("Alex", "Example", "Numb", "saddle", "+4474", "alex@example.com"):
        assert private not in body
    assert response["Cache-Control"] == "private, no-store"


def test_the_patient_name_appears_only_when_the_clinic_turns_it_on(
    practitioner_client, practitioner, service, client, settings
):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    token = practitioner_feed_issue(practitioner=practitioner)
    url = reverse("callbacks:calendar_feed", kwargs={"token": token})
    settings.CLINIC_CALENDAR_FEED_NAMES = True
    _, events = feed_events(client, url)
    assert str(events[0]["summary"]) == f"Alex Example ({appointment.request.reference}) (not confirmed yet)"


def test_revoked_renewed_or_guessed_feed_addresses_are_refused(practitioner_client, practitioner, client):
    old = practitioner_feed_issue(practitioner=practitioner)
    url = reverse("callbacks:calendar_feed", kwargs={"token": old})
    assert client.get(url).status_code == 200
    new = practitioner_feed_issue(practitioner=practitioner)
    assert client.get(url).status_code == 404
    practitioner_client.post(FEED_PAGE, {"action": "revoke"})
    assert client.get(reverse("callbacks:calendar_feed", kwargs={"token": new})).status_code == 404
    assert client.get(reverse("callbacks:calendar_feed", kwargs={"token": "x" * 43})).status_code == 404
    practitioner.refresh_from_db()
    assert practitioner.calendar_feed_digest == ""


@pytest.mark.parametrize("ending", ["account deactivated", "account deleted", "practitioner inactive"])
def test_a_feed_stops_when_its_account_or_practitioner_does(practitioner_client, practitioner, client, ending):
    """Security review 27, finding 4: the address kept working for someone who had left."""
    url = reverse("callbacks:calendar_feed", kwargs={"token": practitioner_feed_issue(practitioner=practitioner)})
    assert client.get(url).status_code == 200
    if ending == "account deactivated":
        practitioner.user.is_active = False
        practitioner.user.save()
    elif ending == "account deleted":
        practitioner.user.delete()
    else:
        practitioner.active = False
        practitioner.save()
    assert client.get(url).status_code == 404


def test_the_feed_page_is_for_practitioners_only(desk):
    assert desk.get(FEED_PAGE).status_code == 403


def test_the_feed_secret_never_reaches_a_log_line(practitioner):
    from clinic.logs import loggable_path

    token = practitioner_feed_issue(practitioner=practitioner)
    path = reverse("callbacks:calendar_feed", kwargs={"token": token})
    assert token not in loggable_path(path)
    assert loggable_path(path) == "/calendar/<str:token>.ics"


def test_a_closed_day_shows_why_and_no_free_time(desk, service, practitioner, settings):
    from callbacks.models import ClinicClosure

    day = timezone.localdate() + dt.timedelta(days=5)
    ClinicClosure.objects.create(first_day=day, last_day=day, reason="Staff training")
    page = text(desk.get(f"{DIARY}?view=day&day={day.isoformat()}"))
    assert "The clinic is closed: Staff training. No free time is offered." in page
    assert "Free (" not in page
    settings.CLINIC_HOLIDAYS_COUNTRY, settings.CLINIC_HOLIDAYS_SUBDIVISION = "GB", "ENG"
    christmas = text(desk.get(f"{DIARY}?view=day&day=2026-12-25"))
    assert "The clinic is closed: Christmas Day. No free time is offered." in christmas
    assert "Free (" not in christmas


def test_the_week_diary_costs_the_same_queries_however_full(desk, service, practitioner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = f"{DIARY}?view=week&day={(timezone.localdate() + dt.timedelta(days=2)).isoformat()}"
    # One appointment to start with: a diary that shows someone writes one privacy-log query, an empty one none.
    book(service, practitioner, a_free_slot(service, 2).starts_at, phone="+447400111002")
    with CaptureQueriesContext(connection) as one:
        desk.get(url)
    for days_ahead in (3, 4, 5):
        book(service, practitioner, a_free_slot(service, days_ahead).starts_at, phone=f"+4474001110{days_ahead:02d}")
    with CaptureQueriesContext(connection) as full:
        response = desk.get(url)
    assert sum(len(column.appointments) for day in response.context["days"] for column in day.columns) >= 3
    assert len(full) == len(one)


def test_the_diary_records_whom_it_showed_in_the_privacy_log(desk, desk_user, service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service, 2).starts_at, phone="+447400111009")
    day = appointment.starts_at.astimezone(clinic_zone()).date()
    assert desk.get(f"{DIARY}?view=day&day={day.isoformat()}").status_code == 200
    listed = PrivacyLogEntry.objects.filter(action=PrivacyLogEntry.Action.LISTED)
    assert [(entry.reference, entry.actor) for entry in listed.all()] == [(appointment.request.reference, desk_user)]
    # A day with nobody on it shows no patient and records nothing.
    desk.get(f"{DIARY}?view=day&day={(day + dt.timedelta(days=1)).isoformat()}")
    assert listed.count() == 1
    # The appointments list shows their priorities: recorded the same way.
    assert desk.get(reverse("admin:callbacks_appointment_changelist")).status_code == 200
    assert [entry.reference for entry in listed.order_by("-pk")] == [appointment.request.reference] * 2


def test_an_administrator_revokes_a_practitioners_feed(admin_client, practitioner, client):
    token = practitioner_feed_issue(practitioner=practitioner)
    changelist = reverse("admin:callbacks_practitioner_changelist")
    response = admin_client.post(
        changelist, {"action": "calendar_feed_revoke", "_selected_action": [practitioner.pk]}, follow=True
    )
    assert "Revoked the calendar feed of 1 practitioner(s)." in text(response)
    assert client.get(reverse("callbacks:calendar_feed", kwargs={"token": token})).status_code == 404


def test_the_move_page_moves_the_reminder_with_the_appointment(desk, desk_user, service, practitioner):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    appointment = book(service, practitioner, slots_free(service=service, first_day=tomorrow, days=1)[-1].starts_at)
    appointment_confirm(appointment=appointment, user=desk_user)
    assert appointments_remind() == 1  # the old time's reminder is in the outbox, not sent yet
    later = a_free_slot(service, 4)
    url = reverse("admin:callbacks_appointment_move", args=[appointment.pk]) + f"?day={later.local_start.date()}"
    assert desk.post(url, {"slot": later.key, "next": DIARY}).status_code == 302
    reminders = Notification.objects.filter(request=appointment.request, kind=Notification.Kind.BOOKING_REMINDER)
    assert not reminders.exists()  # the old time's reminder is withdrawn
    day_before = dt.datetime.combine(
        timezone.localdate(later.starts_at) - dt.timedelta(days=1), dt.time(9), tzinfo=clinic_zone()
    )
    assert appointments_remind(now=day_before - dt.timedelta(days=1)) == 0
    assert appointments_remind(now=day_before) == 1
    assert appointments_remind(now=day_before) == 0
    assert reminders.count() == 1


def test_the_desk_records_a_callers_wish_for_texts_and_a_relay_prefix(desk, desk_user, service, practitioner):
    slot = a_free_slot(service)
    page = desk.get(search_url(service, slot.local_start.date()))
    assert "The caller wants text messages about this appointment" in text(page)
    desk.post(
        search_url(service, slot.local_start.date()),
        caller_post(slot, texts="on", phone="18001 07400 111222"),
    )
    request = Appointment.objects.get().request
    assert request.text_consent_version == CURRENT_TEXT_CONSENT_VERSION
    assert request.consent_method == ConsentMethod.PHONE
    assert (request.phone_relay_prefix, str(request.phone)) == ("18001", "+447400111222")
    # Confirmed at once: the confirmation goes by text too.
    assert request.notifications.filter(kind=Notification.Kind.BOOKING_CONFIRMED, channel="sms").exists()
