"""Who is texted what: the patient's choice, a mobile number, STOP, essential texts, lanes, and the morning text
of the day we call."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from callbacks.booking.services import appointment_confirm
from callbacks.booking.slots import slots_free
from callbacks.booking.waitlist import waitlist_entry_join
from callbacks.models import FollowUp, Notification, Priority, TextOptOut, WaitlistOffer
from callbacks.notifications.delivery import notification_send
from callbacks.notifications.lanes import ROUTINE, URGENT, lane_filter, notification_lane
from callbacks.notifications.optouts import text_opt_out_record
from callbacks.notifications.outbox import notification_for_waitlist_offer
from callbacks.notifications.routing import phone_takes_texts
from callbacks.requests.call_today import callback_requests_tell_call_today
from callbacks.requests.consent import CURRENT_CONSENT_VERSION, CURRENT_TEXT_CONSENT_VERSION
from callbacks.requests.followup_schedule import follow_ups_send_due
from callbacks.requests.services import callback_request_create
from tests.callbacks.booking.test_booking import book
from tests.factories import CallbackRequestFactory, FollowUpFactory, UserFactory
from tests.support.dates import next_open_day

pytestmark = pytest.mark.django_db

MOBILE, LANDLINE = "+447400123456", "+442079460123"


def create(*, phone=MOBILE, texts=True, email="", priority=Priority.ROUTINE):
    start = timezone.now() + dt.timedelta(days=1)
    return callback_request_create(
        name="Alex Example",
        phone=phone,
        email=email,
        window_start=start,
        window_end=start + dt.timedelta(hours=2),
        consent_version=CURRENT_CONSENT_VERSION,
        text_consent_version=CURRENT_TEXT_CONSENT_VERSION if texts else "",
        priority=priority,
    )


def channels(request, kind=Notification.Kind.PATIENT_CONFIRMATION):
    return sorted(request.notifications.filter(kind=kind).values_list("channel", "recipient"))


def test_a_patient_who_chose_texts_gets_the_confirmation_by_text_and_email_when_they_gave_one():
    request = create(email="alex@example.com")
    assert channels(request) == [("email", "alex@example.com"), ("sms", MOBILE)]
    assert request.text_consent_version == CURRENT_TEXT_CONSENT_VERSION
    assert request.text_consent_given_at == request.consent_given_at


def test_a_patient_with_only_a_mobile_number_is_told_by_text():
    assert channels(create()) == [("sms", MOBILE)]


@pytest.mark.parametrize(
    ("phone", "texts", "expected"),
    [(MOBILE, False, []), (LANDLINE, True, [])],
    ids=["texts not chosen", "a landline"],
)
def test_no_text_without_the_choice_or_to_a_landline(phone, texts, expected):
    assert channels(create(phone=phone, texts=texts)) == expected
    assert phone_takes_texts(MOBILE) and not phone_takes_texts(LANDLINE)


def test_switched_off_texts_write_no_text(settings):
    settings.SMS_BACKEND = "none"
    assert channels(create()) == []


def test_stop_stops_every_non_essential_text_but_the_confirmation_still_goes(service, practitioner):
    text_opt_out_record(phone=MOBILE, source=TextOptOut.Source.REPLY)
    assert channels(create()) == [("sms", MOBILE)]  # essential: the reference of a request just sent
    slot = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=3), days=1)[0]
    appointment = book(
        service, practitioner, slot.starts_at, email="", text_consent_version=CURRENT_TEXT_CONSENT_VERSION
    )
    appointment_confirm(appointment=appointment, user=UserFactory())
    assert channels(appointment.request, Notification.Kind.BOOKING_CONFIRMED) == []


def test_booking_messages_go_by_text_once_per_kind(service, practitioner):
    from callbacks.booking.services import appointment_confirm

    slot = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=3), days=1)[0]
    appointment = book(service, practitioner, slot.starts_at, text_consent_version=CURRENT_TEXT_CONSENT_VERSION)
    appointment_confirm(appointment=appointment, user=UserFactory())
    appointment_confirm(appointment=appointment, user=UserFactory())
    assert channels(appointment.request, Notification.Kind.BOOKING_CONFIRMED) == [
        ("email", "alex@example.com"),
        ("sms", "+447400123456"),
    ]


@pytest.mark.parametrize(
    ("kind", "channel", "priority", "lane"),
    [
        (Notification.Kind.PATIENT_CONFIRMATION, "sms", Priority.EMERGENCY, URGENT),
        (Notification.Kind.PATIENT_CONFIRMATION, "sms", Priority.URGENT, URGENT),
        (Notification.Kind.PATIENT_CONFIRMATION, "sms", Priority.ROUTINE, ROUTINE),
        (Notification.Kind.PATIENT_CONFIRMATION, "email", Priority.EMERGENCY, ROUTINE),
        (Notification.Kind.BOOKING_REMINDER, "sms", Priority.URGENT, ROUTINE),
        (Notification.Kind.STAFF_NEW_REQUEST, "email", Priority.URGENT, URGENT),
    ],
)
def test_an_urgent_requests_texts_telling_the_patient_when_we_call_travel_in_the_urgent_lane(
    kind, channel, priority, lane
):
    assert notification_lane(kind=kind, priority=priority, channel=channel) == lane


def test_the_urgent_lane_filter_matches_the_rule():
    urgent = create(priority=Priority.URGENT)
    routine = create(phone="+447400123457")
    urgent_text = urgent.notifications.get(kind=Notification.Kind.PATIENT_CONFIRMATION, channel="sms")
    routine_text = routine.notifications.get(kind=Notification.Kind.PATIENT_CONFIRMATION, channel="sms")
    in_urgent = set(Notification.objects.filter(lane_filter(URGENT)).values_list("pk", flat=True))
    assert urgent_text.pk in in_urgent and routine_text.pk not in in_urgent


def at(day, clock):
    return dt.datetime.combine(day, dt.time.fromisoformat(clock), tzinfo=timezone.get_current_timezone())


def callback_for(day, *, created, texts=True, start="10:00"):
    return CallbackRequestFactory(
        window_start=at(day, start),
        window_end=at(day, start) + dt.timedelta(hours=2),
        created_at=created,
        text_consent_version=CURRENT_TEXT_CONSENT_VERSION if texts else "",
        text_consent_given_at=created if texts else None,
    )


def test_the_morning_of_the_call_the_patient_is_texted_once_when_we_call():
    day = next_open_day(weekday=2)
    asked = callback_for(day, created=at(day - dt.timedelta(days=1), "15:00"))
    no_texts = callback_for(day, created=at(day - dt.timedelta(days=1), "15:00"), texts=False)
    asked_today = callback_for(day, created=at(day, "08:05"), start="14:00")
    tomorrow = callback_for(day + dt.timedelta(days=1), created=at(day - dt.timedelta(days=1), "15:00"))
    with mock.patch("django.utils.timezone.now", return_value=at(day, "07:50")):
        assert callback_requests_tell_call_today() == 0  # quiet hours: not before 08:00
    with mock.patch("django.utils.timezone.now", return_value=at(day, "08:10")):
        assert callback_requests_tell_call_today() == 1
        assert callback_requests_tell_call_today() == 0  # once
    [text] = Notification.objects.filter(kind=Notification.Kind.CALL_TODAY)
    assert (text.request, text.channel, text.recipient) == (asked, "sms", str(asked.phone))
    for other in (no_texts, asked_today, tomorrow):
        assert not other.notifications.filter(kind=Notification.Kind.CALL_TODAY).exists()


def test_no_morning_text_once_the_window_has_closed_or_the_request_is_handled():
    day = next_open_day(weekday=3)
    closed = callback_for(day, created=at(day - dt.timedelta(days=1), "15:00"), start="08:00")
    handled = callback_for(day, created=at(day - dt.timedelta(days=1), "15:00"))
    handled.status = handled.Status.CONTACTED
    handled.save()
    with mock.patch("django.utils.timezone.now", return_value=at(day, "10:30")):
        assert callback_requests_tell_call_today() == 0
    assert not Notification.objects.filter(kind=Notification.Kind.CALL_TODAY, request=closed).exists()


def test_a_follow_up_goes_by_text_too_and_is_failed_only_when_both_failed(settings):
    settings.CLINIC_TEXT_QUIET_HOURS = ""
    follow_up = FollowUpFactory(
        status=FollowUp.Status.SCHEDULED,
        sent_at=None,
        request__text_consent_version=CURRENT_TEXT_CONSENT_VERSION,
        request__text_consent_given_at=timezone.now(),
    )
    assert follow_ups_send_due() == 1
    rows = {row.channel: row for row in follow_up.notifications.all()}
    assert set(rows) == {"email", "sms"}
    text_opt_out_record(phone=str(follow_up.request.phone), source=TextOptOut.Source.REPLY)
    assert notification_send(notification_id=rows["sms"].pk) == "failed"
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.SENT  # the e-mail is still on its way
    assert notification_send(notification_id=rows["email"].pk) == "sent"


def test_a_waitlist_offer_goes_by_text_when_the_patient_chose_texts(service, practitioner):
    entry = waitlist_entry_join(
        service=service,
        practitioner_id=None,
        weekdays="",
        name="Waiting Patient",
        phone=MOBILE,
        email="waiting@example.com",
        consent_version=CURRENT_CONSENT_VERSION,
        text_consent_version=CURRENT_TEXT_CONSENT_VERSION,
    )
    assert entry.text_consent_given_at is not None
    slot = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=3), days=1)[0]
    offer = WaitlistOffer.objects.create(
        entry=entry, practitioner=practitioner, starts_at=slot.starts_at, ends_at=slot.ends_at
    )
    notification_for_waitlist_offer(offer)
    assert sorted(offer.notifications.values_list("channel", "recipient")) == [
        ("email", "waiting@example.com"),
        ("sms", MOBILE),
    ]
