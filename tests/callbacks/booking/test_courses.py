"""A course of care (issue 26, item 4): the plan checks each occurrence as a single booking (closed days and bank
holidays skipped, conflicts shown), booking is all or nothing, each session is its own booking (moved or
cancelled alone, by staff or the patient's link), "cancel the rest" in one action, and one e-mail for the patient
with one calendar file of several events."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from callbacks.booking.attendance import appointment_attendance_mark
from callbacks.booking.courses import (
    SessionState,
    course_book,
    course_cancel_rest,
    course_dates,
    course_plan,
)
from callbacks.booking.desk import appointment_move
from callbacks.booking.links import appointment_cancel_url
from callbacks.booking.reschedule import appointment_reschedule
from callbacks.booking.services import appointment_cancel
from callbacks.booking.slots import STAFF_HORIZON_DAYS, SlotTaken
from callbacks.models import (
    Appointment,
    CallbackRequest,
    ClinicClosure,
    CourseOfCare,
    FollowUp,
    Notification,
    RequestEvent,
)
from callbacks.notifications.emails import notification_email
from tests.callbacks.booking.test_booking import book
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
Kind = Notification.Kind


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)


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


def next_monday(after_days: int = 2) -> dt.date:
    day = timezone.localdate() + dt.timedelta(days=after_days)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def book_course(service, practitioner, staff, starts, **overrides):
    data = {
        "service": service,
        "practitioner_id": practitioner.pk,
        "starts": starts,
        "cadence": CourseOfCare.Cadence.WEEKLY,
        "sessions_asked": len(starts),
        "name": "Casey Course",
        "phone": "07400 555666",
        "email": "casey@example.com",
        "reason": "Sciatica after lifting.",
        "staff": staff,
    }
    data.update(overrides)
    return course_book(**data)


# The cadence and the plan


def test_the_cadences_weekly_and_twice_weekly():
    monday = dt.date(2027, 1, 4)
    weekly = course_dates(first_day=monday, cadence="weekly")
    assert [next(weekly) for _ in range(3)] == [monday, dt.date(2027, 1, 11), dt.date(2027, 1, 18)]
    twice = course_dates(first_day=monday, cadence="twice_weekly")
    assert [f"{next(twice):%a %d}" for _ in range(4)] == ["Mon 04", "Thu 07", "Mon 11", "Thu 14"]


def test_the_plan_skips_bank_holidays_and_closures_and_still_counts_the_sessions(service, practitioner, settings):
    settings.CLINIC_HOLIDAYS_COUNTRY, settings.CLINIC_HOLIDAYS_SUBDIVISION = "GB", "ENG"
    now = local(dt.date(2026, 12, 1), 12)
    ClinicClosure.objects.create(first_day=dt.date(2027, 1, 8), last_day=dt.date(2027, 1, 8), reason="Training day")
    plan = course_plan(
        service=service,
        practitioner_id=practitioner.pk,
        first_start=local(dt.date(2026, 12, 18), 10),
        cadence="weekly",
        sessions=4,
        now=now,
    )
    shown = [(f"{s.local_start:%a %d %b %H:%M}", s.number, s.state, s.note) for s in plan]
    assert shown == [
        ("Fri 18 Dec 10:00", 1, SessionState.FREE, "Free"),
        ("Fri 25 Dec 10:00", None, SessionState.CLOSED, "Bank holiday: Christmas Day"),
        ("Fri 01 Jan 10:00", None, SessionState.CLOSED, "Bank holiday: New Year's Day"),
        ("Fri 08 Jan 10:00", None, SessionState.CLOSED, "The clinic is closed"),
        ("Fri 15 Jan 10:00", 2, SessionState.FREE, "Free"),
        ("Fri 22 Jan 10:00", 3, SessionState.FREE, "Free"),
        ("Fri 29 Jan 10:00", 4, SessionState.FREE, "Free"),
    ]


def test_the_plan_shows_conflicts_times_not_offered_and_too_far(service, practitioner):
    monday = next_monday()
    taken = book(service, practitioner, local(monday + dt.timedelta(days=7), 10))
    plan = course_plan(
        service=service, practitioner_id=practitioner.pk, first_start=local(monday, 10), cadence="weekly", sessions=3
    )
    assert [s.state for s in plan] == [SessionState.FREE, SessionState.TAKEN, SessionState.FREE]
    assert plan[1].note == f"Taken: {taken.request.reference} holds that time"
    early = course_plan(
        service=service, practitioner_id=practitioner.pk, first_start=local(monday, 8), cadence="weekly", sessions=2
    )
    assert {s.state for s in early} == {SessionState.NOT_OFFERED}
    far = course_plan(
        service=service,
        practitioner_id=practitioner.pk,
        first_start=local(timezone.localdate() + dt.timedelta(days=STAFF_HORIZON_DAYS - 7), 10),
        cadence="weekly",
        sessions=2,
    )
    assert [s.state for s in far] == [SessionState.FREE, SessionState.TOO_FAR]


# Booking


def test_a_course_books_each_session_as_its_own_booking_linked_as_one_course(service, practitioner, desk_user):
    monday = next_monday()
    starts = [local(monday + dt.timedelta(days=7 * week), 10) for week in range(6)]
    course = book_course(service, practitioner, desk_user, starts, confirm=True)
    sessions = list(course.appointments.order_by("starts_at"))
    assert [s.starts_at for s in sessions] == starts
    assert len({s.request_id for s in sessions}) == 6
    assert all(s.status == Appointment.Status.CONFIRMED for s in sessions)
    assert course.first_request == sessions[0].request
    # Weeks five and six lie beyond the patients' four-week horizon: a course plans further.
    assert sessions[-1].starts_at > timezone.now() + dt.timedelta(days=28)
    # One e-mail to the patient for the whole course, one notice to staff; none per session.
    patient_mail = Notification.objects.filter(recipient="casey@example.com")
    assert list(patient_mail.values_list("kind", "request_id")) == [(Kind.COURSE_BOOKED, sessions[0].request_id)]
    assert Notification.objects.filter(kind=Kind.STAFF_NEW_REQUEST).count() == 1
    # No follow-ups before a visit; then one set, on the first session's request, however many sessions are seen.
    assert not FollowUp.objects.exists()
    for session in sessions[:2]:
        appointment_attendance_mark(
            appointment=session, attendance="attended", user=desk_user, now=session.starts_at + dt.timedelta(minutes=5)
        )
    assert set(FollowUp.objects.values_list("request_id", flat=True)) == {sessions[0].request_id}
    event = RequestEvent.objects.get(request=sessions[2].request, field="course")
    assert event.after.startswith("Session 3 of 6, weekly")


def test_a_session_taken_meanwhile_books_nothing_at_all(service, practitioner, desk_user):
    monday = next_monday()
    starts = [local(monday + dt.timedelta(days=7 * week), 10) for week in range(3)]
    book(service, practitioner, starts[2])
    before = CallbackRequest.objects.count()
    with pytest.raises(SlotTaken):
        book_course(service, practitioner, desk_user, starts)
    assert CallbackRequest.objects.count() == before
    assert not CourseOfCare.objects.exists()
    assert Appointment.objects.count() == 1


def test_the_patient_gets_one_email_listing_the_sessions_with_one_calendar_of_several_events(
    service, practitioner, desk_user
):
    monday = next_monday()
    starts = [local(monday, 10), local(monday + dt.timedelta(days=3), 10), local(monday + dt.timedelta(days=7), 10)]
    course = book_course(service, practitioner, desk_user, starts, cadence="twice_weekly")
    message = notification_email(Notification.objects.get(kind=Kind.COURSE_BOOKED))
    sessions = list(course.appointments.order_by("starts_at"))
    assert message.subject.endswith("your 3 appointments are booked")
    for session in sessions:
        assert session.request.reference in message.body
    assert message.body.count("Cancel this one:") == 3
    for session in sessions:
        assert appointment_cancel_url(session) in message.body
    assert "Sciatica" not in message.body and "Sciatica" not in message.subject
    (filename, ics, mimetype) = message.attachments[0]
    assert (filename, mimetype) == ("appointments.ics", "text/calendar")
    events = Calendar.from_ical(ics).walk("VEVENT")
    assert [str(event["uid"]).split("@")[0] for event in events] == [f"appointment-{s.pk}" for s in sessions]
    assert {int(event["sequence"]) for event in events} == {0}
    assert "Sciatica" not in ics


def test_each_session_moves_and_cancels_on_its_own(service, practitioner, desk_user):
    monday = next_monday()
    starts = [local(monday + dt.timedelta(days=7 * week), 10) for week in range(3)]
    course = book_course(service, practitioner, desk_user, starts, confirm=True)
    first, second, third = course.appointments.order_by("starts_at")
    moved = appointment_move(appointment=second, starts_at=local(monday + dt.timedelta(days=8), 11), user=desk_user)
    assert moved.starts_at == local(monday + dt.timedelta(days=8), 11)
    moved_mail = Notification.objects.get(request=second.request, kind=Kind.BOOKING_MOVED)
    assert moved_mail.calendar_sequence == 1
    # The patient's own links move and cancel one session only.
    rescheduled = appointment_reschedule(
        appointment=first,
        revision=first.revision,
        practitioner_id=practitioner.pk,
        starts_at=local(monday + dt.timedelta(days=1), 14),
    )
    assert rescheduled.starts_at == local(monday + dt.timedelta(days=1), 14)
    assert Notification.objects.filter(kind=Kind.BOOKING_MOVED, request=first.request).count() == 1
    assert appointment_cancel(appointment=third)
    statuses = dict(course.appointments.values_list("pk", "status"))
    assert statuses == {
        first.pk: Appointment.Status.CONFIRMED,
        second.pk: Appointment.Status.CONFIRMED,
        third.pk: Appointment.Status.CANCELLED,
    }


def test_cancel_the_rest_cancels_every_session_still_to_come(service, practitioner, desk_user):
    monday = next_monday()
    starts = [local(monday + dt.timedelta(days=7 * week), 10) for week in range(4)]
    course = book_course(service, practitioner, desk_user, starts, confirm=True)
    sessions = list(course.appointments.order_by("starts_at"))
    appointment_cancel(appointment=sessions[1])
    cancelled = course_cancel_rest(course=course, user=desk_user)
    assert sorted(s.pk for s in cancelled) == [sessions[0].pk, sessions[2].pk, sessions[3].pk]
    assert set(course.appointments.values_list("status", flat=True)) == {Appointment.Status.CANCELLED}
    told = Notification.objects.filter(kind=Kind.BOOKING_CANCELLED_BY_CLINIC).values_list("request_id", flat=True)
    assert sorted(told) == sorted(sessions[i].request_id for i in (0, 2, 3))
    assert course_cancel_rest(course=course, user=desk_user) == []


# The desk's pages

COURSE = reverse("admin:callbacks_appointment_course")


def plan_url(service, practitioner, day, time="10:00", cadence="weekly", sessions=4):
    return (
        f"{COURSE}?service={service.pk}&practitioner={practitioner.pk}&day={day.isoformat()}"
        f"&time={time}&cadence={cadence}&sessions={sessions}"
    )


def caller(keys, **overrides):
    data = {
        "chosen": keys,
        "name": "Casey Course",
        "phone": "07400 555666",
        "email": "",
        "reason": "Sciatica after lifting.",
        "consent": "on",
        "confirm_now": "on",
    }
    data.update(overrides)
    return data


def test_the_desk_plans_chooses_some_sessions_and_books_them(desk, service, practitioner):
    monday = next_monday()
    taken = book(service, practitioner, local(monday + dt.timedelta(days=14), 10))
    url = plan_url(service, practitioner, monday)
    page = desk.get(url)
    assert page.status_code == 200
    shown = text(page)
    assert "3 of 4 can be booked" in shown
    assert f"Taken: {taken.request.reference} holds that time" in shown
    plan = page.context["plan"]
    keys = [s.key for s in plan if s.bookable]
    response = desk.post(url, caller(keys[:2]))
    course = CourseOfCare.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:callbacks_callbackrequest_change", args=[course.first_request_id])
    assert course.appointments.count() == 2
    request_page = text(desk.get(response["Location"]))
    assert "Course of care: session 1 of 2 (weekly)" in request_page
    assert "Cancel the rest of the course (2)" in request_page
    # Without the safety questions every session is marked.
    assert "Not screened" in request_page
    diary = text(desk.get(f"{reverse('admin:callbacks_appointment_diary')}?view=week&day={monday.isoformat()}"))
    first = course.appointments.order_by("starts_at").first()
    assert f"Confirmed Course Routine Not screened {first.request.reference} Casey Course" in diary


def test_a_refused_course_form_shows_the_problem_at_the_top_and_books_nothing(desk, service, practitioner):
    monday = next_monday()
    url = plan_url(service, practitioner, monday)
    keys = [s.key for s in desk.get(url).context["plan"] if s.bookable]
    response = desk.post(url, caller(keys, consent=""))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index('id="error-summary"') < html.index("2. The sessions")
    assert "Book only once the caller has agreed" in text(response)
    assert not CourseOfCare.objects.exists() and not Appointment.objects.exists()
    bad_plan = desk.get(plan_url(service, practitioner, monday, sessions=1))
    assert "A course has at least 2 sessions." in text(bad_plan)


def test_cancel_the_rest_asks_first_then_cancels(desk, service, practitioner, desk_user):
    monday = next_monday()
    course = book_course(service, practitioner, desk_user, [local(monday, 10), local(monday + dt.timedelta(7), 10)])
    url = reverse("admin:callbacks_appointment_course_cancel_rest", args=[course.pk])
    page = desk.get(url)
    assert 'value="Cancel these 2 session(s)"' in page.content.decode()
    assert set(course.appointments.values_list("status", flat=True)) == {Appointment.Status.REQUESTED}
    refused = desk.post(url, {"reason": "  "})
    assert refused.status_code == 200
    assert "Say why the appointment is cancelled." in text(refused)
    assert set(course.appointments.values_list("status", flat=True)) == {Appointment.Status.REQUESTED}
    response = desk.post(url, {"reason": "practitioner leaving"}, follow=True)
    assert "Cancelled 2 session(s) of the course" in text(response)
    assert set(course.appointments.values_list("status", flat=True)) == {Appointment.Status.CANCELLED}
    assert set(course.appointments.values_list("cancel_reason", flat=True)) == {"practitioner leaving"}
