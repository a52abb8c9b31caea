"""May a new online callback request be sent now: hours per weekday in the clinic's time (across the change of
clocks), a pause with its start and end, the daily cap of routine requests counted in the database (never
overshot, even by 50 sends at the same instant on PostgreSQL), and the grace a patient already typing keeps."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from callbacks.models import CallbackRequest, IntakeCapacity, Priority, RequestDayCount
from callbacks.requests import services
from callbacks.requests.capacity import (
    CapacityFull,
    CapacityRules,
    Closed,
    Intake,
    capacity_place_take,
    capacity_rules,
    held_within_grace,
    intake_at,
    request_may_send,
)
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
from clinic.hours import clinic_zone, parse_opening_hours
from intake.definitions import BACK_PAIN, definition_current
from intake.models import QuestionnaireResponse
from intake.services import QuestionnaireAnswers
from tests.callbacks.web.test_intake_flow import routine_answers

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
HOURS = parse_opening_hours("mon-fri 08:00-18:00; sat 09:00-12:00")


def at(*args) -> dt.datetime:
    """A wall-clock time in the clinic's zone (Europe/London, the tests' TIME_ZONE)."""
    return dt.datetime(*args, tzinfo=LONDON)


# Monday 12 January 2026 (winter, GMT); Saturday 28 March 2026 is the day before the clocks go forward.
@pytest.mark.parametrize(
    ("now", "closed", "opens_at"),
    [
        (at(2026, 1, 12, 8, 0), None, None),
        (at(2026, 1, 12, 17, 59), None, None),
        (at(2026, 1, 12, 7, 59), Closed.HOURS, at(2026, 1, 12, 8, 0)),
        (at(2026, 1, 12, 18, 0), Closed.HOURS, at(2026, 1, 13, 8, 0)),
        (at(2026, 1, 16, 19, 0), Closed.HOURS, at(2026, 1, 17, 9, 0)),
        (at(2026, 1, 17, 12, 30), Closed.HOURS, at(2026, 1, 19, 8, 0)),
        (at(2026, 1, 18, 10, 0), Closed.HOURS, at(2026, 1, 19, 8, 0)),
        # The same instant in UTC is inside the hours in summer (08:30 BST) and outside in winter (07:30 GMT).
        (dt.datetime(2026, 6, 15, 7, 30, tzinfo=UTC), None, None),
        (dt.datetime(2026, 1, 12, 7, 30, tzinfo=UTC), Closed.HOURS, dt.datetime(2026, 1, 12, 8, 0, tzinfo=UTC)),
        # Across the change of clocks: Monday 30 March opens at 08:00 BST, which is 07:00 UTC.
        (at(2026, 3, 28, 13, 0), Closed.HOURS, dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),
        # And back: Saturday 24 October 12:30 BST to Monday 26 October 08:00 GMT.
        (at(2026, 10, 24, 12, 30), Closed.HOURS, dt.datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
    ],
)
def test_hours_per_weekday_in_the_clinics_time(now, closed, opens_at):
    intake = intake_at(CapacityRules(hours=HOURS, daily_cap=None), now, used=0)
    assert intake.closed == closed
    assert intake.opens_at == opens_at


PAUSE = {"paused_from": at(2026, 1, 12, 9, 0), "paused_until": at(2026, 1, 14, 12, 0), "pause_reason": "Training"}


@pytest.mark.parametrize(
    ("rules", "now", "closed", "opens_at"),
    [
        # A pause from Monday 09:00 to Wednesday 12:00.
        (PAUSE, at(2026, 1, 12, 8, 59), None, None),
        (PAUSE, at(2026, 1, 12, 9, 0), Closed.PAUSED, at(2026, 1, 14, 12, 0)),
        (PAUSE, at(2026, 1, 14, 11, 59), Closed.PAUSED, at(2026, 1, 14, 12, 0)),
        (PAUSE, at(2026, 1, 14, 12, 0), None, None),
        # Without a start it pauses at once; ending after Saturday's hours, it opens on Monday.
        ({"paused_until": at(2026, 1, 17, 13, 0)}, at(2026, 1, 15, 10, 0), Closed.PAUSED, at(2026, 1, 19, 8, 0)),
        # A pause that starts after closing time: the evening is "closed", and it opens when the pause ends.
        (
            {"paused_from": at(2026, 1, 12, 20, 0), "paused_until": at(2026, 1, 13, 10, 0)},
            at(2026, 1, 12, 19, 0),
            Closed.HOURS,
            at(2026, 1, 13, 10, 0),
        ),
    ],
)
def test_a_pause_closes_from_its_start_until_its_end(rules, now, closed, opens_at):
    intake = intake_at(CapacityRules(hours=HOURS, daily_cap=None, **rules), now, used=0)
    assert (intake.closed, intake.opens_at) == (closed, opens_at)
    assert intake.pause_reason == ("Training" if closed is Closed.PAUSED and "pause_reason" in rules else "")


@pytest.mark.parametrize(
    ("hours", "used", "now", "closed", "opens_at"),
    [
        (HOURS, 4, at(2026, 1, 12, 10, 0), None, None),
        (HOURS, 5, at(2026, 1, 12, 10, 0), Closed.FULL, at(2026, 1, 13, 8, 0)),
        (HOURS, 7, at(2026, 1, 16, 10, 0), Closed.FULL, at(2026, 1, 17, 9, 0)),
        # Full and closed: the hours are given as the reason, and it opens on the next day's hours.
        (HOURS, 5, at(2026, 1, 12, 19, 0), Closed.HOURS, at(2026, 1, 13, 8, 0)),
        # No hours (any time): full opens at midnight, when the count starts again.
        (None, 5, at(2026, 1, 12, 10, 0), Closed.FULL, at(2026, 1, 13, 0, 0)),
        (None, 0, at(2026, 1, 18, 3, 0), None, None),
    ],
)
def test_the_daily_cap_closes_for_the_rest_of_the_day(hours, used, now, closed, opens_at):
    intake = intake_at(CapacityRules(hours=hours, daily_cap=5), now, used=used)
    assert (intake.closed, intake.opens_at) == (closed, opens_at)


NOW = dt.datetime(2026, 1, 12, 18, 10, tzinfo=UTC)
CLOSED = Intake(closed=Closed.HOURS)


@pytest.mark.parametrize(
    ("intake", "urgent", "held_at", "may"),
    [
        (Intake(closed=None), False, None, True),
        (CLOSED, False, None, False),
        # Urgent and emergency answers are never refused for capacity.
        (CLOSED, True, None, True),
        (Intake(closed=Closed.FULL), True, None, True),
        # Grace: 30 minutes from the last page sent while requests were taken, inclusive.
        (CLOSED, False, NOW - dt.timedelta(minutes=10), True),
        (CLOSED, False, NOW - dt.timedelta(minutes=30), True),
        (CLOSED, False, NOW - dt.timedelta(minutes=31), False),
        (Intake(closed=Closed.FULL), False, NOW - dt.timedelta(minutes=29), True),
        (Intake(closed=Closed.PAUSED), False, NOW - dt.timedelta(minutes=45), False),
    ],
)
def test_who_may_send_when_closed(intake, urgent, held_at, may):
    assert request_may_send(intake=intake, urgent=urgent, held_at=held_at, now=NOW) is may


def test_the_grace_period_is_a_setting(settings):
    settings.CLINIC_REQUEST_GRACE_MINUTES = 60
    assert held_within_grace(held_at=NOW - dt.timedelta(minutes=45), now=NOW)
    assert not held_within_grace(held_at=NOW - dt.timedelta(minutes=61), now=NOW)


# The settings and the count in the database ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_environment_applies_until_staff_save_the_capacity_page(settings):
    settings.CLINIC_REQUEST_HOURS = "mon-fri 09:00-17:00"
    settings.CLINIC_REQUEST_DAILY_CAP = 40
    assert capacity_rules() == CapacityRules(hours=parse_opening_hours("mon-fri 09:00-17:00"), daily_cap=40)
    IntakeCapacity.objects.create(hours="", daily_cap=None)
    assert capacity_rules() == CapacityRules(hours=None, daily_cap=None)


@pytest.mark.django_db
def test_places_are_taken_until_the_cap_and_only_by_routine_requests():
    IntakeCapacity.objects.create(daily_cap=2)
    received = at(2026, 1, 12, 10, 0)
    for _ in range(2):
        capacity_place_take(received_at=received, priority=Priority.ROUTINE, held=False)
    with pytest.raises(CapacityFull):
        capacity_place_take(received_at=received, priority=Priority.ROUTINE, held=False)
    # Urgent ones are neither refused nor counted; a journey in its grace period is counted past the cap.
    capacity_place_take(received_at=received, priority=Priority.URGENT, held=False)
    capacity_place_take(received_at=received, priority=Priority.ROUTINE, held=True)
    # The count is per day in the clinic's time: 00:30 BST on 1 June is still 31 May in UTC.
    capacity_place_take(received_at=at(2026, 6, 1, 0, 30), priority=Priority.ROUTINE, held=False)
    assert dict(RequestDayCount.objects.values_list("day", "routine")) == {
        dt.date(2026, 1, 12): 3,
        dt.date(2026, 6, 1): 1,
    }


REQUEST = {
    "name": "Alex Example",
    "phone": "+447400123456",
    "reason": "Back spasms.",
    "consent_version": CURRENT_CONSENT_VERSION,
}


def answered(**changes) -> QuestionnaireAnswers:
    return QuestionnaireAnswers(definition=definition_current(BACK_PAIN), answers=routine_answers(**changes))


@pytest.mark.django_db
def test_a_request_refused_for_capacity_stores_nothing():
    IntakeCapacity.objects.create(daily_cap=1)
    first = services.callback_request_create(
        **REQUEST, questionnaire=answered(), idempotency_key="journey-1", capacity_counted=True
    )
    with pytest.raises(CapacityFull):
        services.callback_request_create(
            **REQUEST, questionnaire=answered(), idempotency_key="journey-2", capacity_counted=True
        )
    # The same journey sent again is the first request, not a second place.
    again = services.callback_request_create(**REQUEST, idempotency_key="journey-1", capacity_counted=True)
    # Urgent answers take no place and are never refused; nor are requests staff enter (not counted).
    urgent = services.callback_request_create(
        **REQUEST, questionnaire=answered(weight_loss=True), idempotency_key="journey-3", capacity_counted=True
    )
    services.callback_request_create(**REQUEST)
    assert again.pk == first.pk and urgent.priority == Priority.URGENT
    assert CallbackRequest.objects.count() == 3
    assert RequestDayCount.objects.get().routine == 1
    # The refused one left no answers behind.
    assert QuestionnaireResponse.objects.count() == 2


PATIENTS, PLACES_LEFT = 50, 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_patients_sending_at_the_same_instant_for_the_last_five_places_store_exactly_five():
    IntakeCapacity.objects.create(daily_cap=40)
    capacity_day = dt.datetime.now(clinic_zone()).date()
    RequestDayCount.objects.create(day=capacity_day, routine=40 - PLACES_LEFT)
    barrier = threading.Barrier(PATIENTS, timeout=60)

    def send(index):
        try:
            barrier.wait()
            services.callback_request_create(
                **REQUEST, questionnaire=answered(), idempotency_key=f"journey-{index}", capacity_counted=True
            )
            return "stored"
        except CapacityFull:
            return "full"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=PATIENTS) as pool:
        results = list(pool.map(send, range(PATIENTS)))
    assert results.count("stored") == PLACES_LEFT and results.count("full") == PATIENTS - PLACES_LEFT
    assert CallbackRequest.objects.count() == PLACES_LEFT
    assert RequestDayCount.objects.get(day=capacity_day).routine == 40
    # The refused sends left nothing behind, not even their answers' rows.
    assert QuestionnaireResponse.objects.count() == PLACES_LEFT
