"""Every text a patient can be sent: what it says, what it never says, and what it costs (GSM-7 vs UCS-2 segments,
measured with the worst case: the longest clinic name allowed, a long site address and phone number)."""

import datetime as dt

import pytest
from django.utils import timezone

from callbacks.booking.courses import course_book
from callbacks.booking.slots import slots_free
from callbacks.booking.waitlist import waitlist_entry_join
from callbacks.models import Notification, Priority, WaitlistOffer
from callbacks.notifications.routing import PATIENT_TEXT_KINDS
from callbacks.notifications.segments import text_segments
from callbacks.notifications.texts import TEXT_KINDS, notification_text, text_fold
from callbacks.requests.consent import CURRENT_CONSENT_VERSION, CURRENT_TEXT_CONSENT_VERSION
from tests.callbacks.booking.test_booking import book
from tests.factories import CallbackRequestFactory, FollowUpFactory, UserFactory

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
LONGEST_NAME = "The Riverside Back and Spine Clinic, Ltd"  # 40 characters: CLINIC_TEXT_NAME's limit
assert len(LONGEST_NAME) == 40


@pytest.fixture
def worst_case(settings):
    settings.CLINIC_TEXT_NAME = LONGEST_NAME
    settings.CLINIC_PHONE = "+44 (0)20 7946 0000 ext 123"
    # A long public address (48 characters): the signed links add about 90 to it.
    settings.SITE_URL = "https://appointments.riverside-back-clinic.co.uk"


def text_row(kind, request=None, **fields):
    return Notification.objects.create(
        request=request, kind=kind, channel=Notification.Channel.SMS, recipient="+447400123456", **fields
    )


@pytest.fixture
def every_text(service, practitioner):
    """One text of every kind a patient can be sent, about requests whose text is as long as it gets."""
    day = timezone.localdate() + dt.timedelta(days=3)
    slot = slots_free(service=service, first_day=day, days=1)[-1]
    appointment = book(
        service, practitioner, slot.starts_at, reason="numb saddle, losing bladder control", name="Alexandra Example"
    )
    request = appointment.request
    callback = CallbackRequestFactory(reason="numb saddle, losing bladder control", name="Alexandra Example")
    emergency = CallbackRequestFactory(priority=Priority.EMERGENCY, reason="numb saddle")
    soon = CallbackRequestFactory()
    soon.deadline = soon.window_end - dt.timedelta(minutes=30)
    soon.save()
    entry = waitlist_entry_join(
        service=service,
        practitioner_id=None,
        weekdays="",
        name="Waiting Patient",
        phone="+447400555555",
        email="waiting@example.com",
        consent_version=CURRENT_CONSENT_VERSION,
        text_consent_version=CURRENT_TEXT_CONSENT_VERSION,
    )
    offer = WaitlistOffer.objects.create(
        entry=entry, practitioner=practitioner, starts_at=slot.starts_at, ends_at=slot.ends_at
    )
    follow_up = FollowUpFactory(request=callback)
    # A course's text names its first and last days: two Wednesdays a week apart, the longest day names.
    first = timezone.localdate() + dt.timedelta(days=(2 - timezone.localdate().weekday()) % 7 + 7)
    course = course_book(
        service=service,
        practitioner_id=practitioner.pk,
        starts=[
            slots_free(service=service, first_day=day, days=1, by_staff=True)[-1].starts_at
            for day in (first, first + dt.timedelta(days=7))
        ],
        cadence="weekly",
        sessions_asked=2,
        name="Alexandra Example",
        phone="+447400123456",
        reason="back pain",
        staff=UserFactory(),
    )
    rows = {
        "confirmation (callback)": text_row(Kind.PATIENT_CONFIRMATION, callback),
        "confirmation (emergency)": text_row(Kind.PATIENT_CONFIRMATION, emergency),
        "confirmation (call sooner)": text_row(Kind.PATIENT_CONFIRMATION, soon),
        "confirmation (booking)": text_row(Kind.PATIENT_CONFIRMATION, request),
        "we call you today": text_row(Kind.CALL_TODAY, callback),
        "waitlist offer": text_row(Kind.WAITLIST_OFFER, waitlist_offer=offer),
        "follow-up": text_row(Kind.FOLLOW_UP, callback, follow_up=follow_up),
        "course of care booked": text_row(Kind.COURSE_BOOKED, course.first_request),
        "a C or X that changed nothing": text_row(Kind.TEXT_REPLY_UNCLEAR, request),
    }
    for kind in (
        Kind.BOOKING_CONFIRMED,
        Kind.BOOKING_REMINDER,
        Kind.BOOKING_MOVED,
        Kind.BOOKING_DECLINED,
        Kind.BOOKING_CANCELLED_BY_CLINIC,
        Kind.BOOKING_CANCELLED_BY_PATIENT,
    ):
        rows[kind.label] = text_row(kind, request)
    return rows


def test_every_kind_a_patient_may_be_texted_has_a_text():
    assert PATIENT_TEXT_KINDS == TEXT_KINDS


def test_every_text_fits_two_gsm7_segments_in_the_worst_case(worst_case, every_text):
    measured = {}
    for label, row in every_text.items():
        body = notification_text(row)
        segments = text_segments(body)
        measured[label] = (segments.encoding, segments.units, segments.count)
        assert segments.encoding == "GSM-7", (label, body)
        # 20 characters to spare: a signed link grows with the appointment's id.
        assert segments.units <= 306 - 20, (label, len(body), body)
        assert body.startswith(LONGEST_NAME + ": ")
    # Every kind measured (the booking kinds, the confirmations, the offer, the follow-up, the day's call, the
    # answer to an unclear C or X).
    assert len(measured) == 15


def test_with_the_default_settings_the_short_texts_take_one_segment(every_text):
    single = [
        "confirmation (emergency)",
        "we call you today",
        Kind.BOOKING_DECLINED.label,
        "a C or X that changed nothing",
    ]
    for label in single:
        assert text_segments(notification_text(every_text[label])).count == 1, label


def test_no_text_carries_a_health_detail_or_the_patients_name(every_text):
    for label, row in every_text.items():
        body = notification_text(row).lower()
        for private in ("numb", "bladder", "saddle", "alexandra", "waiting patient", "assessment", "emergency"):
            assert private not in body, (label, private)


def test_a_text_gives_the_reference_the_time_and_the_clinics_number(every_text, settings):
    row = every_text["confirmation (callback)"]
    body = notification_text(row)
    request = row.request
    start = timezone.localtime(request.window_start)
    assert request.reference in body
    assert f"between {start:%H:%M} and {timezone.localtime(request.window_end):%H:%M}" in body
    assert settings.CLINIC_PHONE in body
    reminder = notification_text(every_text[Kind.BOOKING_REMINDER.label])
    assert "Reply C to confirm, X to cancel" in reminder
    assert "/reschedule/" in reminder or "https://" in reminder or "http://" in reminder


def test_typographic_characters_from_settings_are_folded_to_gsm7(settings, every_text):
    settings.CLINIC_TEXT_NAME = "St Mary\u2019s \u2013 Back Clinic"
    body = notification_text(every_text["we call you today"])
    assert body.startswith("St Mary's - Back Clinic: ")
    assert text_segments(body).encoding == "GSM-7"
    # é is in GSM-7; an emoji and ĉ are not, and would turn the whole text into UCS-2.
    assert text_fold("caf\u00e9 \U0001f600 \u0109") == "caf\u00e9 ? ?"


@pytest.mark.parametrize(
    ("text", "encoding", "count"),
    [
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("[" * 80, "GSM-7", 1),  # extension characters count twice
        ("[" * 81, "GSM-7", 2),
        ("\u2019" + "a" * 69, "UCS-2", 1),
        ("\u2019" + "a" * 70, "UCS-2", 2),
        ("\U0001f600" * 35, "UCS-2", 1),  # an emoji is two UTF-16 units
        ("\U0001f600" * 36, "UCS-2", 2),
    ],
)
def test_segment_counts_follow_gsm_03_38(text, encoding, count):
    segments = text_segments(text)
    assert (segments.encoding, segments.count) == (encoding, count)
