"""What one patient's figure is for each outcome measure in the clinic report."""

import pytest

from callbacks.rules.outcomes import OUTCOME_MEASURES, outcome_patient_summary

MEASURES = {measure.score_id: measure for measure in OUTCOME_MEASURES}


@pytest.mark.parametrize(
    ("score_id", "values", "expected"),
    [
        ("pain_now", [8, 5, 3], -5),  # first to latest, the middle answer ignored
        ("pain_now", [4, 6], 2),  # worse is a positive change in pain
        ("pain_now", [7], None),  # one answer: no change to count
        ("pain_now", [], None),
        ("psfs_mean", [3.5, 6], 2.5),
        ("global_change", [1, -2], -2),  # the latest rating itself
        ("global_change", [3], 3),
        ("global_change", [], None),
    ],
)
def test_a_patients_figure_per_measure(score_id, values, expected):
    assert outcome_patient_summary(MEASURES[score_id], values) == expected


def test_pain_measures_match_the_intake_questions_on_the_same_scale():
    from intake.selectors import BACK_PAIN, definition_current

    intake = definition_current(BACK_PAIN)
    for measure in OUTCOME_MEASURES:
        if measure.intake_question:
            question = intake.question(measure.intake_question)
            assert (question.min_value, question.max_value) == (measure.low, measure.high)
    assert [m.score_id for m in OUTCOME_MEASURES if m.intake_question] == ["pain_now", "pain_worst_week"]
