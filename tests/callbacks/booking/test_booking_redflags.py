"""The booking flow asks again and flags a possible red flag the same way as the callback flow: the reason box
before the booking is sent, the later pages' free text on the page after it is saved."""

import re

import pytest

from callbacks.models import Appointment, Priority
from tests.callbacks.booking.test_booking import CONTACT, a_free_slot, choose_slot
from tests.callbacks.web.test_intake_flow import post_step
from tests.support.questionnaire import NO_RED_FLAGS, PREPARE_STEPS, SCREENING_STEPS

pytestmark = pytest.mark.django_db


def test_a_booking_whose_free_text_points_at_a_red_flag_is_asked_again_and_flagged(client, service, practitioner):
    url = choose_slot(client, service, a_free_slot(service))
    for step in SCREENING_STEPS:
        url = post_step(client, url, NO_RED_FLAGS[step])["Location"]
    details = url
    assert details.endswith("/your-details/")
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
    # The later pages, after the booking: what the patient writes there is asked about on the next page.
    done = client.get(response["Location"]).content.decode()
    link = re.search(r'id="prepare-start" href="([^"]+)"', done).group(1)
    for step in PREPARE_STEPS:
        answers = {**NO_RED_FLAGS[step]}
        if step == "treatment":
            answers["goals"] = "Stop the night sweats and walk again"
        saved = post_step(client, f"{link}{step}/", answers)
        assert saved.status_code == 302
    assert saved["Location"].endswith("/a-quick-check/")
    page = client.get(saved["Location"]).content.decode()
    # "and walk" joins one statement (a new one would start "and I ..."): the clause quoted is the whole of it.
    assert "You wrote \u2018Stop the night sweats and walk again\u2019." in page
    client.post(saved["Location"], {"recheck_fever": "no"})
    appointment.request.questionnaire_response.refresh_from_db()
    rule_ids = [reason["rule_id"] for reason in appointment.request.questionnaire_response.triage_reasons]
    assert sorted(rule_ids) == ["possible_red_flag.bladder_bowel_control", "possible_red_flag.fever"]
