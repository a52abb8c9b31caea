"""The outcomes/v1 definition: the same safety questions and rules as back-pain, and its scores."""

import pytest

from intake.definitions import BACK_PAIN, OUTCOMES, definition_current, definition_get
from intake.services import questionnaire_response_create
from intake.triage import triage_compute

OUTCOMES_V1 = definition_get(OUTCOMES, 1)
NO_FLAGS = {question.id: False for step in OUTCOMES_V1.steps if step.screening for question in step.questions}


def test_outcome_safety_questions_and_rules_are_those_of_back_pain():
    back_pain = definition_current(BACK_PAIN)
    screening = [question for step in OUTCOMES_V1.steps if step.screening for question in step.questions]
    # Asked first, word for word as at intake.
    assert [step.screening for step in OUTCOMES_V1.steps][:2] == [True, True]
    for question in screening:
        assert question.text == back_pain.question(question.id).text
    intake_rules = {rule.id: rule for rule in back_pain.rules}
    assert OUTCOMES_V1.rules
    for rule in OUTCOMES_V1.rules:
        assert rule == intake_rules[rule.id]
    # Every emergency rule of back-pain is there (a new one there must be added here too).
    emergency = {rule.id for rule in back_pain.rules if rule.tier.value == "emergency"}
    assert emergency <= {rule.id for rule in OUTCOMES_V1.rules}


@pytest.mark.parametrize(
    ("flag", "tier"),
    [("saddle_numbness", "emergency"), ("both_legs", "emergency"), ("fever", "urgent"), ("rest_night_pain", "urgent")],
)
def test_a_red_flag_on_a_follow_up_is_triaged_as_at_intake(flag, tier):
    result = triage_compute(definition=OUTCOMES_V1, answers={**NO_FLAGS, flag: True})
    assert result.tier.value == tier


def _scores(**answers):
    response = questionnaire_response_create(
        definition=OUTCOMES_V1,
        answers={**NO_FLAGS, "pain_now": 3, "pain_worst_week": 6, **answers},
    )
    return {item["instrument"]: item for item in response.scores}, response


@pytest.mark.django_db
def test_psfs_score_is_the_mean_of_the_activities_rated():
    scores, response = _scores(
        psfs_activity_1="Putting on socks",
        psfs_rating_1=4,
        psfs_activity_2="Carrying shopping",
        psfs_rating_2=7,
    )
    assert response.definition_version == 1 and response.questionnaire == OUTCOMES
    assert scores["psfs"]["scores"] == {"psfs_mean": 5.5}
    scores, _ = _scores(psfs_activity_1="Gardening", psfs_rating_1=2)
    assert scores["psfs"]["scores"] == {"psfs_mean": 2}


@pytest.mark.django_db
def test_pain_and_global_change_scores():
    scores, _ = _scores(psfs_activity_1="Running", psfs_rating_1=5, global_change="much_better")
    assert scores["pain"]["scores"] == {"pain_now": 3, "pain_worst_week": 6}
    assert scores["global_change"]["scores"] == {"global_change": 3}
    assert scores["global_change"]["band"] == "improved"
    # Left out before week 2: no change score, never a guess.
    scores, _ = _scores(psfs_activity_1="Running", psfs_rating_1=5)
    assert scores["global_change"]["complete"] is False


@pytest.mark.django_db
def test_a_pain_rating_left_unanswered_is_no_score_not_a_zero():
    # A follow-up stopped early (an emergency answer) may hold only the pain now: the worst pain stays unknown.
    response = questionnaire_response_create(
        definition=OUTCOMES_V1, answers={**NO_FLAGS, "pain_now": 4}, complete=False
    )
    scores = {item["instrument"]: item for item in response.scores}
    assert scores["pain"]["scores"] == {"pain_now": 4}
    assert scores["pain"]["missing"] == ["pain_worst_week"]
