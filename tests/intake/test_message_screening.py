"""A message the patient sends later (a text message), read for red flags by intake (`triage_compute(messages=)`).

Nobody can ask a safety question again inside a text, so a finding counts for staff at the tier of the question it
points at; the patient is given no advice by it (they are not on a page). Negation, history and other people are
read as in any of the patient's text.
"""

import pytest

from intake.definitions import BACK_PAIN, Tier, definition_current
from intake.selectors import message_priority, questionnaire_response_message_priority
from intake.services import questionnaire_response_create, questionnaire_response_step_save
from intake.triage import triage_compute


@pytest.fixture
def definition():
    return definition_current(BACK_PAIN)


@pytest.mark.parametrize(
    ("message", "tier"),
    [
        ("I've lost control of my bladder", Tier.EMERGENCY),
        ("I wet myself this morning and didn't feel it", Tier.EMERGENCY),
        ("my bum and inner thighs have gone numb", Tier.EMERGENCY),
        ("I've had a fever and the shivers since yesterday", Tier.URGENT),
        ("Thanks, see you Tuesday", Tier.ROUTINE),
        ("no numbness and no trouble peeing", Tier.ROUTINE),
        ("my mum had cancer years ago", Tier.ROUTINE),
        ("Can you call after 3pm?", Tier.ROUTINE),
    ],
)
def test_a_later_message_counts_at_its_safety_questions_tier_for_staff(definition, message, tier):
    result = triage_compute(definition=definition, answers={}, messages={"message_7": message})
    assert result.tier == tier
    for reason in result.reasons:
        assert reason.rule_id.endswith(".message_7")
        assert not reason.advise  # staff only: the patient is not on a page
        assert "in a text message" in reason.text


def test_the_same_words_in_the_reason_stay_urgent_and_are_asked_again(definition):
    """The request's own reason is read on the page, where the question is asked again: urgent until answered."""
    result = triage_compute(definition=definition, answers={}, other_text={"reason": "I've lost control of my bladder"})
    assert result.tier == Tier.URGENT


@pytest.mark.django_db
def test_each_message_keeps_its_own_reason_and_the_tier_never_falls(definition):
    response = questionnaire_response_create(definition=definition, answers={}, complete=False)
    first = questionnaire_response_step_save(
        response_id=response.pk, step=None, messages={"message_1": "I've lost control of my bladder"}
    )
    assert first.tier == Tier.EMERGENCY
    second = questionnaire_response_step_save(response_id=response.pk, step=None, messages={"message_2": "thanks"})
    assert second.tier == Tier.EMERGENCY
    assert questionnaire_response_message_priority(response=second.response, key="message_1") == 1
    assert questionnaire_response_message_priority(response=second.response, key="message_2") is None


@pytest.mark.parametrize(
    ("message", "priority"),
    [
        ("I have lost control of my bladder", 1),
        ("I've had a fever and the shivers since yesterday", 2),
        ("Thanks, see you Tuesday", None),
        ("no numbness and no trouble peeing", None),
    ],
)
def test_a_message_is_screened_without_any_answers_against_the_current_definition(message, priority):
    """A patient with no answer set (a phone booking without the safety questions, a waitlist booking, a number
    with no request) is still read for red flags."""
    assert message_priority(key="message_9", body=message) == priority
