"""The clinic's outcome report: for a period, how many patients were sent follow-ups, how many answered, and the
median outcome per measure, overall, by practitioner and by service. Read only; two queries whatever the period.

Who is counted: every request with a follow-up whose e-mail went out in the period (clinic dates, both ends
included) and has not failed for good (a re-sent one counts again). Their answers are the intake questionnaire's
pain scores, when given, then those follow-ups' answers in week order. Per patient and measure the figure is
`callbacks.rules.outcomes.outcome_patient_figure` (the change from the first answer, intake's when given, to the
latest; or the latest global rating), a group's figure is the median of its patients' figures, and each figure
says how many of them it measures from intake and how many from the first follow-up. Practitioner and service
come from the request's appointment; a patient booked without one in the system is in a group of their own.
The report names no patient: groups are staff members and services, and every figure comes with its count.
What staff see (the ``*_shown`` values, on the page and in the CSV) withholds every count, rate and median about
fewer than five patients (`callbacks.rules.outcomes.outcome_group_too_small`), saying "fewer than 5" instead.
"""

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from callbacks.models import FollowUp
from callbacks.requests.outcomes import callback_request_intake_values, follow_up_score_values
from callbacks.rules.outcomes import (
    BASELINE_FIRST_FOLLOW_UP,
    BASELINE_INTAKE,
    OUTCOME_MEASURES,
    OUTCOME_SMALL_GROUP_TEXT,
    OutcomeMeasure,
    outcome_group_too_small,
    outcome_patient_figure,
)
from clinic.hours import clinic_zone

NO_APPOINTMENT = "No appointment on record"


@dataclass(frozen=True)
class MeasureFigure:
    measure: OutcomeMeasure
    # Patients with at least one follow-up answer for the measure, and those with a figure (two answers in all,
    # intake's included, for a change).
    answered: int
    counted: int
    median: float | None
    # Of the counted patients, whose change is measured from intake and whose from their first follow-up.
    from_intake: int = 0
    from_first_follow_up: int = 0

    @property
    def baseline_shown(self) -> str:
        """Which answer the changes start from, without telling a count of fewer than five (nor one that the
        count shown would give away): "" for the latest rating and for a withheld figure."""
        if self.withheld or not (self.from_intake or self.from_first_follow_up):
            return ""
        if not self.from_first_follow_up:
            return "from intake"
        if not self.from_intake:
            return "from the first follow-up"
        if not (outcome_group_too_small(self.from_intake) or outcome_group_too_small(self.from_first_follow_up)):
            return f"from intake for {self.from_intake}, from the first follow-up for {self.from_first_follow_up}"
        return "from intake or, without intake scores, the first follow-up"

    @property
    def median_text(self) -> str:
        """The median with its sign ("-2", "+1.5", "0"), or "" when no patient has a figure."""
        if self.median is None:
            return ""
        return "0" if self.median == 0 else f"{self.median:+g}"

    @property
    def withheld(self) -> bool:
        """Whether the median (and its count) is about too few patients to show."""
        return outcome_group_too_small(self.counted)

    @property
    def answered_shown(self) -> int | str:
        return _count_shown(self.answered)

    @property
    def counted_shown(self) -> int | str:
        return _count_shown(self.counted)

    @property
    def median_shown(self) -> float | str:
        return OUTCOME_SMALL_GROUP_TEXT if self.withheld else self.median


@dataclass(frozen=True)
class GroupRow:
    label: str
    sent: int
    answered: int
    measures: tuple[MeasureFigure, ...]

    @property
    def response_rate(self) -> float | None:
        """Percent of the patients sent a follow-up who answered at least one, to one decimal place."""
        return round(100 * self.answered / self.sent, 1) if self.sent else None

    @property
    def sent_shown(self) -> int | str:
        return _count_shown(self.sent)

    @property
    def answered_shown(self) -> int | str:
        return _count_shown(self.answered)

    @property
    def response_rate_shown(self) -> float | str:
        """The rate, unless it would tell how many of fewer than five patients answered."""
        if outcome_group_too_small(self.sent) or outcome_group_too_small(self.answered):
            return OUTCOME_SMALL_GROUP_TEXT
        return self.response_rate


def _count_shown(patients: int) -> int | str:
    return OUTCOME_SMALL_GROUP_TEXT if outcome_group_too_small(patients) else patients


@dataclass(frozen=True)
class OutcomeReport:
    date_from: dt.date
    date_to: dt.date
    overall: GroupRow
    by_practitioner: tuple[GroupRow, ...]
    by_service: tuple[GroupRow, ...]

    @property
    def overall_rows(self) -> tuple[GroupRow, ...]:
        """The overall row alone when anything was sent, for tables that list groups (none when nothing was)."""
        return (self.overall,) if self.overall.sent else ()


@dataclass
class _Patient:
    practitioner: str
    service: str
    answered: bool = False
    # Score id -> the intake's score, for the measures intake asked the same way.
    intake: dict[str, int | float] = field(default_factory=dict)
    # Score id -> the patient's follow-up answers in week order.
    values: dict[str, list[int | float]] = field(default_factory=lambda: defaultdict(list))


def _period_bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = clinic_zone()
    start = dt.datetime.combine(date_from, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return start, end


def _patients(date_from: dt.date, date_to: dt.date) -> list[_Patient]:
    start, end = _period_bounds(date_from, date_to)
    follow_ups = (
        FollowUp.objects.filter(sent_at__gte=start, sent_at__lt=end)
        .exclude(status=FollowUp.Status.FAILED)
        .select_related(
            "questionnaire_response",
            "request__questionnaire_response",
            "request__appointment__practitioner",
            "request__appointment__service",
        )
        # The intake answers of every request, in one more query.
        .prefetch_related("request__questionnaire_response__answers")
        .order_by("request_id", "weeks")
    )
    patients: dict[int, _Patient] = {}
    for follow_up in follow_ups:
        patient = patients.get(follow_up.request_id)
        if patient is None:
            appointment = getattr(follow_up.request, "appointment", None)
            patient = patients[follow_up.request_id] = _Patient(
                practitioner=appointment.practitioner.name if appointment else NO_APPOINTMENT,
                service=appointment.service.name if appointment else NO_APPOINTMENT,
                intake=callback_request_intake_values(follow_up.request),
            )
        if follow_up.status == FollowUp.Status.ANSWERED:
            patient.answered = True
        for score_id, value in follow_up_score_values(follow_up).items():
            patient.values[score_id].append(value)
    return list(patients.values())


def _median(figures: list[float]) -> float | None:
    return round(statistics.median(figures), 1) if figures else None


def _group_row(label: str, patients: list[_Patient]) -> GroupRow:
    measures = []
    for measure in OUTCOME_MEASURES:
        answered = [patient for patient in patients if patient.values.get(measure.score_id)]
        figures = [
            figure
            for figure in (
                outcome_patient_figure(
                    measure, intake=patient.intake.get(measure.score_id), follow_ups=patient.values[measure.score_id]
                )
                for patient in answered
            )
            if figure is not None
        ]
        baselines = [figure.baseline for figure in figures]
        measures.append(
            MeasureFigure(
                measure=measure,
                answered=len(answered),
                counted=len(figures),
                median=_median([figure.value for figure in figures]),
                from_intake=baselines.count(BASELINE_INTAKE),
                from_first_follow_up=baselines.count(BASELINE_FIRST_FOLLOW_UP),
            )
        )
    return GroupRow(
        label=label,
        sent=len(patients),
        answered=sum(patient.answered for patient in patients),
        measures=tuple(measures),
    )


def _grouped(patients: list[_Patient], key: str) -> tuple[GroupRow, ...]:
    groups: dict[str, list[_Patient]] = defaultdict(list)
    for patient in patients:
        groups[getattr(patient, key)].append(patient)
    # Alphabetical, with the patients who have no appointment on record last.
    order = sorted(groups, key=lambda label: (label == NO_APPOINTMENT, label.casefold()))
    return tuple(_group_row(label, groups[label]) for label in order)


def outcome_report(*, date_from: dt.date, date_to: dt.date) -> OutcomeReport:
    """The report for the clinic dates ``date_from`` to ``date_to``, both included (see the module's text)."""
    patients = _patients(date_from, date_to)
    return OutcomeReport(
        date_from=date_from,
        date_to=date_to,
        overall=_group_row("All patients", patients),
        by_practitioner=_grouped(patients, "practitioner"),
        by_service=_grouped(patients, "service"),
    )
