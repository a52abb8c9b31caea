"""What one patient's figure is for each outcome measure in the clinic report."""

import pytest

from callbacks.rules.outcomes import (
    BASELINE_FIRST_FOLLOW_UP,
    BASELINE_INTAKE,
    OUTCOME_MEASURES,
    outcome_patient_figure,
)

MEASURES = {measure.score_id: measure for measure in OUTCOME_MEASURES}


@pytest.mark.parametrize(
    ("score_id", "intake", "follow_ups", "expected"),
    [
        ("pain_now", None, [8, 5, 3], (-5, BASELINE_FIRST_FOLLOW_UP)),  # first to latest, the middle ignored
        ("pain_now", None, [4, 6], (2, BASELINE_FIRST_FOLLOW_UP)),  # worse is a positive change in pain
        ("pain_now", None, [7], None),  # one answer: no change to count, not 0
        ("pain_now", None, [], None),
        # Issue 29, item 2: the intake's score is the start when given.
        ("pain_now", 8, [6, 3], (-5, BASELINE_INTAKE)),
        ("pain_now", 8, [5], (-3, BASELINE_INTAKE)),  # intake and one follow-up: a change
        ("pain_now", 8, [8], (0, BASELINE_INTAKE)),  # a real 0: two answers, no change
        ("pain_now", 8, [], None),  # intake alone: one answer, no change
        ("psfs_mean", None, [3.5, 6], (2.5, BASELINE_FIRST_FOLLOW_UP)),
        ("global_change", None, [1, -2], (-2, "")),  # the latest rating itself: no baseline
        ("global_change", None, [3], (3, "")),
        ("global_change", None, [], None),
    ],
)
def test_a_patients_figure_per_measure_and_its_baseline(score_id, intake, follow_ups, expected):
    figure = outcome_patient_figure(MEASURES[score_id], intake=intake, follow_ups=follow_ups)
    assert (figure if figure is None else (figure.value, figure.baseline)) == expected


def test_pain_measures_match_the_intake_questions_on_the_same_scale():
    from intake.selectors import BACK_PAIN, definition_current

    intake = definition_current(BACK_PAIN)
    for measure in OUTCOME_MEASURES:
        if measure.intake_question:
            question = intake.question(measure.intake_question)
            assert (question.min_value, question.max_value) == (measure.low, measure.high)
    assert [m.score_id for m in OUTCOME_MEASURES if m.intake_question] == ["pain_now", "pain_worst_week"]
