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
FIRST_TO_LATEST = "first_to_latest"  # the latest answer minus the first
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
        return "latest rating" if self.summary == LATEST else "change, first to latest"


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


def outcome_patient_summary(measure: OutcomeMeasure, values: Sequence[float]) -> float | None:
    """One patient's figure for the report from their follow-up answers in order: the change from the first
    to the latest (None with fewer than two), or the latest rating (None with none)."""
    if measure.summary == LATEST:
        return values[-1] if values else None
    if len(values) < 2:
        return None
    return values[-1] - values[0]
