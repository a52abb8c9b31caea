"""The outcome measures staff see over time and in the clinic report, and what "change" means for each.

The scores come from the `outcomes` definition (`intake/definitions/outcomes/v1.yaml`, stored with each answer
set). Where the intake questionnaire asked the same thing in the same words and scale (back-pain v2's pain now
and worst pain in the last week, both 0-10), its answer is the patient's starting point on the chart.
"""

from collections.abc import Sequence
from dataclasses import dataclass

# Small-number suppression in the clinic report: a figure about fewer patients than this is not shown (the
# page and its CSV say "fewer than 5"), since a group of one or two patients (a one-day period, a practitioner who
# saw one) is a patient's own result. The threshold is the usual one in published health statistics.
OUTCOME_SMALLEST_GROUP = 5
OUTCOME_SMALL_GROUP_TEXT = f"fewer than {OUTCOME_SMALLEST_GROUP}"


def outcome_group_too_small(patients: int) -> bool:
    """Whether a figure about this many patients is withheld from the clinic report (zero included)."""
    return patients < OUTCOME_SMALLEST_GROUP


# How a measure is summarised per patient in the clinic report.
FIRST_TO_LATEST = "first_to_latest"  # the latest answer minus the first (intake's when given)
LATEST = "latest"  # the latest answer itself (it already compares with how the patient was at first)


@dataclass(frozen=True)
class OutcomeMeasure:
    score_id: str
    label: str
    low: int
    high: int
    # Which way is better: "lower" for pain, "higher" for ability and for the rating of change.
    better: str
    summary: str
    # The intake question asking the same thing on the same scale, or "" when intake did not ask it.
    intake_question: str = ""

    @property
    def summary_label(self) -> str:
        return "latest rating" if self.summary == LATEST else "change, first answer to latest"


OUTCOME_MEASURES: tuple[OutcomeMeasure, ...] = (
    OutcomeMeasure("pain_now", "Pain now (0-10)", 0, 10, "lower", FIRST_TO_LATEST, intake_question="pain_now"),
    OutcomeMeasure(
        "pain_worst_week",
        "Worst pain in the last week (0-10)",
        0,
        10,
        "lower",
        FIRST_TO_LATEST,
        intake_question="pain_worst",
    ),
    OutcomeMeasure("psfs_mean", "PSFS, mean ability (0-10)", 0, 10, "higher", FIRST_TO_LATEST),
    OutcomeMeasure("global_change", "Global rating of change (-3 to +3)", -3, 3, "higher", LATEST),
)


# Where a patient's change is measured from.
BASELINE_INTAKE = "intake"
BASELINE_FIRST_FOLLOW_UP = "first follow-up"


@dataclass(frozen=True)
class PatientFigure:
    value: float
    # BASELINE_INTAKE or BASELINE_FIRST_FOLLOW_UP for a change; "" for a latest rating, which has no baseline.
    baseline: str


def outcome_patient_figure(
    measure: OutcomeMeasure, *, intake: float | None, follow_ups: Sequence[float]
) -> PatientFigure | None:
    """One patient's figure for a measure (issue 29, item 2).

    A change is measured from the patient's first answer: the intake questionnaire's score when the patient gave
    one (only for the measures intake asked the same way), else their first follow-up answer; to their latest.
    With one answer in all there is no change (None, never 0). The global rating of change is the latest rating
    itself (None with none), with no baseline.
    """
    if measure.summary == LATEST:
        return PatientFigure(value=follow_ups[-1], baseline="") if follow_ups else None
    answers = [intake, *follow_ups] if intake is not None else list(follow_ups)
    if len(answers) < 2:
        return None
    baseline = BASELINE_INTAKE if intake is not None else BASELINE_FIRST_FOLLOW_UP
    return PatientFigure(value=answers[-1] - answers[0], baseline=baseline)
