"""A patient's scores over time, and the clinic's outcome report on a dataset whose figures are worked out by
hand below (callbacks.requests.outcomes, callbacks.requests.outcome_report)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from callbacks.models import FollowUp, Practitioner, Service
from callbacks.requests.followups import follow_ups_stop
from callbacks.requests.outcome_report import NO_APPOINTMENT, outcome_report
from callbacks.requests.outcomes import callback_request_scores_over_time
from intake.selectors import BACK_PAIN, definition_current
from intake.services import questionnaire_response_create
from tests.factories import CallbackRequestFactory, FollowUpFactory
from tests.support.outcomes import patient_with_follow_ups

pytestmark = pytest.mark.django_db


def test_scores_over_time_start_at_intake_and_follow_each_answered_follow_up():
    intake = questionnaire_response_create(
        definition=definition_current(BACK_PAIN), answers={"pain_now": 8, "pain_worst": 9}, complete=False
    )
    patient = patient_with_follow_ups(
        questionnaire_response=intake,
        answers={
            2: {"pain": 6, "worst": 7, "psfs": (3, 5), "change": "slightly_better"},
            6: {"pain": 3, "worst": 4, "psfs": (7,), "change": "better"},
            12: None,
        },
    )
    scores = callback_request_scores_over_time(request=patient)
    by_measure = {s.measure.score_id: [(p.when, p.value) for p in s.points] for s in scores.series}
    assert by_measure == {
        "pain_now": [("Intake", 8), ("Week 2", 6), ("Week 6", 3)],
        "pain_worst_week": [("Intake", 9), ("Week 2", 7), ("Week 6", 4)],
        "psfs_mean": [("Week 2", 4), ("Week 6", 7)],  # (3 + 5) / 2, then 7 alone
        "global_change": [("Week 2", 1), ("Week 6", 2)],
    }
    assert [(row.when, row.values) for row in scores.rows] == [
        ("Intake", (8, 9, None, None)),
        ("Week 2", (6, 7, 4, 1)),
        ("Week 6", (3, 4, 7, 2)),
    ]
    assert [(line.weeks, line.status) for line in scores.follow_ups] == [(2, "answered"), (6, "answered"), (12, "sent")]
    assert scores.stopped_at is None


def test_a_patient_without_answers_has_no_scores_but_sees_their_follow_ups_and_the_stop():
    patient = CallbackRequestFactory()
    FollowUpFactory(request=patient, weeks=2)
    FollowUpFactory(request=patient, weeks=6, status=FollowUp.Status.SCHEDULED, sent_at=None)
    follow_ups_stop(request_id=patient.pk)
    patient.refresh_from_db()
    scores = callback_request_scores_over_time(request=patient)
    assert not scores.has_scores and all(not series.points for series in scores.series)
    assert [line.status for line in scores.follow_ups] == ["stopped", "stopped"]
    assert scores.stopped_at is not None


def test_scores_over_time_and_answers_cost_three_queries_however_many_follow_ups():
    intake = questionnaire_response_create(
        definition=definition_current(BACK_PAIN), answers={"pain_now": 5, "pain_worst": 6}, complete=False
    )
    patient = patient_with_follow_ups(
        questionnaire_response=intake, answers={2: {"pain": 4}, 6: {"pain": 3}, 12: {"pain": 2}}
    )
    patient.questionnaire_response  # noqa: B018 - loaded with the page's request already
    with CaptureQueriesContext(connection) as queries:
        scores = callback_request_scores_over_time(request=patient)
        # The answers' summaries are built from what was read: no query of their own.
        assert [answered.weeks for answered in scores.answers] == [2, 6, 12]
    # The follow-ups with their answer sets, those sets' answers, the intake answers.
    assert len(queries) == 3


def intake_pain(now, worst=None):
    answers = {"pain_now": now, "pain_worst": now if worst is None else worst}
    return questionnaire_response_create(definition=definition_current(BACK_PAIN), answers=answers, complete=False)


def test_each_chart_gives_the_change_from_the_first_answer_and_says_which_that_was():
    """Issue 29, item 2: from the intake's score when given, else from the first follow-up; one answer is no
    change (not 0); the global rating is the latest rating, with no baseline."""
    patient = patient_with_follow_ups(
        questionnaire_response=intake_pain(8, 9),
        answers={2: {"pain": 6, "worst": 7, "psfs": (3,), "change": "better"}, 6: {"pain": 3, "psfs": (6,)}},
    )
    series = {s.measure.score_id: s for s in callback_request_scores_over_time(request=patient).series}
    assert series["pain_now"].change_text == "Change since intake: -5"
    assert series["pain_worst_week"].change_text == "Change since intake: -6"  # 9, then 7 and 3
    assert series["psfs_mean"].change_text == "Change since week 2 (the first follow-up; intake did not ask): +3"
    assert series["global_change"].change_text == "Latest rating: +2"

    once = patient_with_follow_ups(answers={2: {"pain": 6}})
    series = {s.measure.score_id: s for s in callback_request_scores_over_time(request=once).series}
    assert series["pain_now"].change is None
    assert series["pain_now"].change_text == "No change yet: one answer so far"
    only_intake = CallbackRequestFactory(questionnaire_response=intake_pain(7))
    series = {s.measure.score_id: s for s in callback_request_scores_over_time(request=only_intake).series}
    assert series["pain_now"].change is None and series["psfs_mean"].change_text == ""


def test_the_report_measures_change_from_the_intake_scores_when_given(clinic_dataset):
    """Issue 29, item 2. Added to the dataset: intake 9 then one follow-up 6 (-3 from intake; one follow-up
    answer, so no figure before); intake 7, then 8 and 5 (-2 from intake, where the first follow-up gave -3);
    intake 6 and no follow-up answered (one answer: no change)."""
    patient_with_follow_ups(questionnaire_response=intake_pain(9), answers={2: {"pain": 6}})
    patient_with_follow_ups(questionnaire_response=intake_pain(7), answers={2: {"pain": 8}, 6: {"pain": 5}})
    patient_with_follow_ups(questionnaire_response=intake_pain(6), answers={2: None})
    pain = outcome_report(**period()).overall.measures[0]
    # -4, -1, -3 from the first follow-up; -3, -2 from intake: median -3.
    assert (pain.answered, pain.counted, pain.median) == (6, 5, -3)
    assert (pain.from_intake, pain.from_first_follow_up) == (2, 3)
    assert pain.baseline_shown == "from intake or, without intake scores, the first follow-up"
    psfs = outcome_report(**period()).overall.measures[2]
    assert (psfs.from_intake, psfs.from_first_follow_up) == (0, 1)


@pytest.fixture
def clinic_dataset():
    """Five patients sent follow-ups 8-10 days ago, one sent them long before the period.

    pain_now change (first -> latest answer): P1 8->4 = -4, P2 6->5 = -1, P5 5->2 = -3; P3 answered once.
    psfs_mean: P1 3->6 = +3 (P3's single answer has no change). global_change latest: P1 +2, P2 +1, P3 +3.
    """
    assessment = Service.objects.create(name="Assessment", duration_minutes=30)
    review = Service.objects.create(name="Follow-up visit", duration_minutes=30)
    alex = Practitioner.objects.create(name="Alex Physio")
    sam = Practitioner.objects.create(name="Sam Physio")
    start = timezone.now() - dt.timedelta(days=30)
    slot = iter(start + dt.timedelta(hours=hours) for hours in range(0, 100, 2))
    patient_with_follow_ups(
        appointment=(alex, assessment, next(slot)),
        answers={2: {"pain": 8, "psfs": (3,)}, 6: {"pain": 4, "psfs": (6,), "change": "better"}},
    )
    patient_with_follow_ups(
        appointment=(alex, assessment, next(slot)),
        answers={2: {"pain": 6, "change": "same"}, 6: {"pain": 5, "change": "slightly_better"}},
    )
    patient_with_follow_ups(
        appointment=(sam, review, next(slot)),
        answers={2: {"pain": 7, "psfs": (2, 4), "change": "much_better"}, 6: None},
    )
    patient_with_follow_ups(appointment=(sam, assessment, next(slot)), answers={2: None})
    patient_with_follow_ups(answers={2: {"pain": 5}, 6: {"pain": 2}})
    # Sent 200 days ago: outside the period, in no figure.
    patient_with_follow_ups(appointment=(alex, assessment, next(slot)), sent_days_ago=200, answers={2: {"pain": 9}})


def figures(row):
    return {
        "sent": row.sent,
        "answered": row.answered,
        "rate": row.response_rate,
        **{f.measure.score_id: (f.answered, f.counted, f.median) for f in row.measures},
    }


def period(days=90):
    today = timezone.localdate()
    return {"date_from": today - dt.timedelta(days=days - 1), "date_to": today}


@pytest.mark.parametrize(
    ("section", "label", "expected"),
    [
        (
            "overall",
            "All patients",
            {
                "sent": 5,
                "answered": 4,
                "rate": 80.0,
                "pain_now": (4, 3, -3),  # median of -4, -1, -3
                "pain_worst_week": (4, 3, -3),  # answered the same as pain now
                "psfs_mean": (2, 1, 3),
                "global_change": (3, 3, 2),  # median of 2, 1, 3
            },
        ),
        (
            "by_practitioner",
            "Alex Physio",
            {
                "sent": 2,
                "answered": 2,
                "rate": 100.0,
                "pain_now": (2, 2, -2.5),  # median of -4 and -1
                "pain_worst_week": (2, 2, -2.5),
                "psfs_mean": (1, 1, 3),
                "global_change": (2, 2, 1.5),  # median of 2 and 1
            },
        ),
        (
            "by_practitioner",
            "Sam Physio",
            {
                "sent": 2,
                "answered": 1,
                "rate": 50.0,
                "pain_now": (1, 0, None),
                "pain_worst_week": (1, 0, None),
                "psfs_mean": (1, 0, None),
                "global_change": (1, 1, 3),
            },
        ),
        (
            "by_practitioner",
            NO_APPOINTMENT,
            {
                "sent": 1,
                "answered": 1,
                "rate": 100.0,
                "pain_now": (1, 1, -3),
                "pain_worst_week": (1, 1, -3),
                "psfs_mean": (0, 0, None),
                "global_change": (0, 0, None),
            },
        ),
        (
            "by_service",
            "Assessment",
            {
                "sent": 3,
                "answered": 2,
                "rate": 66.7,
                "pain_now": (2, 2, -2.5),
                "pain_worst_week": (2, 2, -2.5),
                "psfs_mean": (1, 1, 3),
                "global_change": (2, 2, 1.5),
            },
        ),
        (
            "by_service",
            "Follow-up visit",
            {
                "sent": 1,
                "answered": 1,
                "rate": 100.0,
                "pain_now": (1, 0, None),
                "pain_worst_week": (1, 0, None),
                "psfs_mean": (1, 0, None),
                "global_change": (1, 1, 3),
            },
        ),
    ],
)
def test_report_figures_match_the_hand_worked_dataset(clinic_dataset, section, label, expected):
    report = outcome_report(**period())
    rows = (report.overall,) if section == "overall" else getattr(report, section)
    [row] = [row for row in rows if row.label == label]
    assert figures(row) == expected


def test_report_groups_are_alphabetical_with_no_appointment_last(clinic_dataset):
    report = outcome_report(**period())
    assert [row.label for row in report.by_practitioner] == ["Alex Physio", "Sam Physio", NO_APPOINTMENT]
    assert [row.label for row in report.by_service] == ["Assessment", "Follow-up visit", NO_APPOINTMENT]


def test_a_longer_period_takes_in_the_earlier_patient(clinic_dataset):
    report = outcome_report(**period(days=365))
    assert (report.overall.sent, report.overall.answered) == (6, 5)
    # The earlier patient answered once: in "answered" for pain, not in its change.
    pain = report.overall.measures[0]
    assert (pain.answered, pain.counted, pain.median) == (5, 3, -3)


def test_an_empty_period_has_no_rate_and_no_groups():
    report = outcome_report(**period())
    assert (report.overall.sent, report.overall.response_rate) == (0, None)
    assert report.by_practitioner == () and report.by_service == () and report.overall_rows == ()


def test_a_patient_whose_follow_up_email_failed_is_not_counted_as_sent(clinic_dataset):
    before = outcome_report(**period())
    failed = patient_with_follow_ups(answers={2: None}, sent_days_ago=9)
    FollowUp.objects.filter(request=failed).update(status=FollowUp.Status.FAILED)
    after = outcome_report(**period())
    assert (after.overall.sent, after.overall.answered) == (before.overall.sent, before.overall.answered)


def test_the_report_costs_two_queries_whatever_the_number_of_patients(clinic_dataset):
    # The follow-ups with their requests, then the intake answers of all their requests.
    patient_with_follow_ups(questionnaire_response=intake_pain(9), answers={2: {"pain": 6}})
    patient_with_follow_ups(questionnaire_response=intake_pain(7), answers={2: {"pain": 5}})
    with CaptureQueriesContext(connection) as queries:
        outcome_report(**period(days=365))
    assert len(queries) == 2
