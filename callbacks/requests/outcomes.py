"""One patient's outcome scores over time, for their request's page: read only, three queries at most.

A time point is the intake questionnaire (week 0, for the measures intake asked the same way) and each answered
follow-up (its week). The measures and their intake questions are `callbacks.rules.outcomes.OUTCOME_MEASURES`.
"""

import datetime as dt
from dataclasses import dataclass

from callbacks.models import CallbackRequest, FollowUp
from callbacks.rules.outcomes import (
    BASELINE_INTAKE,
    OUTCOME_MEASURES,
    OutcomeMeasure,
    PatientFigure,
    outcome_patient_figure,
)
from intake.selectors import (
    ResponseSummary,
    questionnaire_response_answers,
    questionnaire_response_score_values,
    questionnaire_response_summary,
)

INTAKE_WEEKS = 0


@dataclass(frozen=True)
class ScorePoint:
    weeks: int
    when: str  # "Intake", "Week 2"...
    value: int | float


@dataclass(frozen=True)
class MeasureSeries:
    measure: OutcomeMeasure
    points: tuple[ScorePoint, ...]

    @property
    def change(self) -> PatientFigure | None:
        """The patient's figure, as the clinic report counts it (`outcome_patient_figure`)."""
        has_intake = bool(self.points) and self.points[0].weeks == INTAKE_WEEKS
        return outcome_patient_figure(
            self.measure,
            intake=self.points[0].value if has_intake else None,
            follow_ups=[point.value for point in self.points[has_intake:]],
        )

    @property
    def change_text(self) -> str:
        """What staff read under the chart: the change and its starting point, or why there is none."""
        figure = self.change
        if figure is None:
            return "No change yet: one answer so far" if len(self.points) == 1 else ""
        value = "0" if figure.value == 0 else f"{figure.value:+g}"
        if not figure.baseline:
            return f"Latest rating: {value}"
        if figure.baseline == BASELINE_INTAKE:
            return f"Change since intake: {value}"
        first = self.points[0].when.lower()
        asked = "intake did not ask" if not self.measure.intake_question else "no intake score"
        return f"Change since {first} (the first follow-up; {asked}): {value}"


@dataclass(frozen=True)
class FollowUpLine:
    weeks: int
    status: str
    status_label: str
    due_at: dt.datetime
    sent_at: dt.datetime | None
    answered_at: dt.datetime | None


@dataclass(frozen=True)
class ScoreRow:
    """One time point of the data table: its label and one value (or None) per measure, in measure order."""

    when: str
    values: tuple[int | float | None, ...]


@dataclass(frozen=True)
class FollowUpAnswers:
    """One answered follow-up as staff read it: its week, when, and intake's account of the answers (the triage
    it called for, why, and each answer), so a priority raised by a follow-up can be explained."""

    weeks: int
    answered_at: dt.datetime | None
    summary: ResponseSummary

    @property
    def is_routine(self) -> bool:
        return self.summary.tier == "routine"


@dataclass(frozen=True)
class ScoresOverTime:
    series: tuple[MeasureSeries, ...]
    rows: tuple[ScoreRow, ...]
    follow_ups: tuple[FollowUpLine, ...]
    # Every answered follow-up with intake's account of its answers, by week.
    answers: tuple[FollowUpAnswers, ...]
    stopped_at: dt.datetime | None

    @property
    def has_scores(self) -> bool:
        return bool(self.rows)

    @property
    def has_waiting_follow_up(self) -> bool:
        """A follow-up is scheduled and not sent: staff can send the next one now (`follow_up_send_now`)."""
        return any(line.status == FollowUp.Status.SCHEDULED for line in self.follow_ups)


def time_point_label(weeks: int) -> str:
    return "Intake" if weeks == INTAKE_WEEKS else f"Week {weeks}"


def follow_up_score_values(follow_up: FollowUp) -> dict[str, int | float]:
    """The scores of an answered follow-up (its answer set must be loaded with it); empty for any other."""
    if follow_up.status != FollowUp.Status.ANSWERED or follow_up.questionnaire_response is None:
        return {}
    return questionnaire_response_score_values(response=follow_up.questionnaire_response)


def callback_request_intake_values(request: CallbackRequest) -> dict[str, int | float]:
    """The intake's scores for the measures intake asked the same way (its answers are read, or prefetched)."""
    if request.questionnaire_response_id is None:
        return {}
    answers = questionnaire_response_answers(response=request.questionnaire_response)
    values = {}
    for measure in OUTCOME_MEASURES:
        value = answers.get(measure.intake_question) if measure.intake_question else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            values[measure.score_id] = value
    return values


def callback_request_scores_over_time(*, request: CallbackRequest) -> ScoresOverTime:
    """Each measure's scores at intake and at every answered follow-up, oldest first, every follow-up of the
    request with its state, and each answered one's answers. The follow-ups are read once: three queries however
    many there are (the follow-ups with their answer sets, those sets' answers, and the intake answers)."""
    follow_ups = list(
        FollowUp.objects.filter(request=request)
        .select_related("questionnaire_response")
        .prefetch_related("questionnaire_response__answers")
        .order_by("weeks")
    )
    moments = [(INTAKE_WEEKS, callback_request_intake_values(request))]
    moments += [(follow_up.weeks, follow_up_score_values(follow_up)) for follow_up in follow_ups]
    moments = [(weeks, values) for weeks, values in moments if values]
    series = tuple(
        MeasureSeries(
            measure=measure,
            points=tuple(
                ScorePoint(weeks=weeks, when=time_point_label(weeks), value=values[measure.score_id])
                for weeks, values in moments
                if measure.score_id in values
            ),
        )
        for measure in OUTCOME_MEASURES
    )
    rows = tuple(
        ScoreRow(
            when=time_point_label(weeks),
            values=tuple(values.get(measure.score_id) for measure in OUTCOME_MEASURES),
        )
        for weeks, values in moments
    )
    lines = tuple(
        FollowUpLine(
            weeks=follow_up.weeks,
            status=follow_up.status,
            status_label=follow_up.get_status_display(),
            due_at=follow_up.due_at,
            sent_at=follow_up.sent_at,
            answered_at=follow_up.answered_at,
        )
        for follow_up in follow_ups
    )
    answers = tuple(
        FollowUpAnswers(
            weeks=follow_up.weeks,
            answered_at=follow_up.answered_at,
            summary=questionnaire_response_summary(response=follow_up.questionnaire_response),
        )
        for follow_up in follow_ups
        if follow_up.questionnaire_response is not None
    )
    return ScoresOverTime(
        series=series,
        rows=rows,
        follow_ups=lines,
        answers=answers,
        stopped_at=request.follow_ups_stopped_at,
    )
