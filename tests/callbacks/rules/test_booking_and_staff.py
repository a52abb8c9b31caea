import pytest

from callbacks.models import Appointment
from callbacks.rules.booking import APPOINTMENT_HOLDING_STATUSES, AppointmentStatus, appointment_status_holds_time
from callbacks.rules.staff import staff_display_name, wrong_codes_alert_due
from tests.factories import UserFactory


@pytest.mark.parametrize(
    ("status", "holds"),
    [
        (AppointmentStatus.REQUESTED, True),
        (AppointmentStatus.CONFIRMED, True),
        (AppointmentStatus.DECLINED, False),
        (AppointmentStatus.CANCELLED, False),
    ],
)
def test_which_appointments_hold_their_time(status, holds):
    assert appointment_status_holds_time(status) is holds
    assert Appointment(status=status).holds_time is holds


def test_the_no_overlap_constraint_uses_the_holding_statuses():
    [constraint] = [c for c in Appointment._meta.constraints if c.name == "cb_appointment_no_overlap"]
    assert dict(constraint.condition.children)["status__in"] == APPOINTMENT_HOLDING_STATUSES


@pytest.mark.django_db
def test_staff_display_name():
    named = UserFactory(username="jdoe", first_name="Jane", last_name="Doe")
    plain = UserFactory(username="desk", first_name="", last_name="")
    assert staff_display_name(named) == "Jane Doe"
    assert staff_display_name(plain) == "desk"
    assert staff_display_name(None) == ""
    assert staff_display_name(named, with_username=True) == "Jane Doe (jdoe)"
    assert staff_display_name(plain, with_username=True) == "desk"


@pytest.mark.parametrize(
    ("before", "after", "every", "due"),
    [
        (3, 4, 5, False),
        (4, 5, 5, True),  # the fifth wrong code in a row
        (5, 5, 5, False),  # a code sent during the wait: not checked, not counted, not told again
        (5, 6, 5, False),
        (9, 10, 5, True),  # each further five
        (0, 1, 1, True),
        (4, 5, 0, False),  # 0: nobody is told
        (5, 0, 5, False),  # a right code ends the burst
    ],
)
def test_wrong_codes_are_told_at_each_multiple_once(before, after, every, due):
    assert wrong_codes_alert_due(before=before, after=after, every=every) is due
