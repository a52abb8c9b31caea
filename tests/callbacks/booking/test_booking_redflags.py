"""The booking flow asks again and flags a possible red flag the same way as the callback flow."""

import pytest

from callbacks.models import Appointment, Priority
from tests.callbacks.booking.test_booking import CONTACT, a_free_slot, choose_slot
from tests.callbacks.web.test_intake_flow import post_step
from tests.support.questionnaire import NO_RED_FLAGS, STEPS

pytestmark = pytest.mark.django_db


def test_a_booking_whose_free_text_points_at_a_red_flag_is_asked_again_and_flagged(client, service, practitioner):
    url = choose_slot(client, service, a_free_slot(service))
    for step in STEPS:
        answers = {**NO_RED_FLAGS[step]}
        if step == "treatment":
            answers["goals"] = "Stop the night sweats and walk again"
        url = post_step(client, url, answers)["Location"]
    assert url.endswith("/before-you-send/")
    page = client.get(url).content.decode()
    assert "You wrote \u2018Stop the night sweats\u2019." in page
    details = client.post(url, {"recheck_fever": "no"})["Location"]
    response = client.post(details, {**CONTACT, "reason": "Back pain, and I've been wetting myself"})
    assert response.status_code == 200, "the reason box's question is asked on the same page first"
    assert 'name="recheck_bladder_bowel_control"' in response.content.decode()
    assert not Appointment.objects.exists()
    response = client.post(
        details,
        {**CONTACT, "reason": "Back pain, and I've been wetting myself", "recheck_bladder_bowel_control": "no"},
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.request.priority == Priority.URGENT
    rule_ids = [reason["rule_id"] for reason in appointment.request.questionnaire_response.triage_reasons]
    assert rule_ids == ["possible_red_flag.bladder_bowel_control", "possible_red_flag.fever"]
