"""Staff screens for outcomes: scores over time on a request's page, and the clinic's outcome report with its
period form, permissions, CSV and privacy-log entry."""

import csv
import datetime as dt
import io
import re
import smtplib
from unittest import mock

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from callbacks.models import Notification, PrivacyLogEntry
from callbacks.notifications.delivery import notification_send
from callbacks.requests.followups import follow_up_answer_save
from intake.selectors import BACK_PAIN, definition_current
from intake.services import questionnaire_response_create
from tests.callbacks.requests.test_outcomes import clinic_dataset  # noqa: F401 - a fixture
from tests.factories import FollowUpFactory, UserFactory
from tests.support.outcomes import SAFETY_QUESTIONS, patient_with_follow_ups

pytestmark = pytest.mark.django_db

REPORT = reverse("admin:callbacks_callbackrequest_outcome_report")


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def staff_client(*codenames, group="Triage staff"):
    user = UserFactory(username=f"staff-{'-'.join(codenames) or 'plain'}")
    user.groups.add(Group.objects.get(name=group))
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="callbacks", codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client, user


# Scores over time on a request's page


def scored_patient(follow_up_answers):
    intake = questionnaire_response_create(
        definition=definition_current(BACK_PAIN), answers={"pain_now": 8, "pain_worst": 9}, complete=False
    )
    return patient_with_follow_ups(questionnaire_response=intake, answers=follow_up_answers)


def test_request_page_draws_each_measure_and_the_same_numbers_as_a_table():
    patient = scored_patient({2: {"pain": 6, "worst": 7, "psfs": (4,), "change": "better"}, 6: None})
    client, _ = staff_client()
    response = client.get(reverse("admin:callbacks_callbackrequest_change", args=[patient.pk]))
    html = text(response)
    assert "Scores over time" in html
    # An SVG per measure, named for screen readers, with the values in its description.
    assert html.count('role="img"') == 4
    assert '<title id="score-pain_now-title">Pain now (0-10)</title>' in html
    assert '<desc id="score-pain_now-desc">Intake: 8; Week 2: 6.</desc>' in html
    section = html.split('id="scores"')[1].split("</section>")[0]
    assert "<polyline" in section and "<script" not in section and "style=" not in section
    # The table: intake and week 2, a measure intake did not ask shown as such.
    assert '<th scope="row">Intake</th><td>8</td><td>9</td><td><span class="triage-muted">no score</span></td>' in html
    assert '<th scope="row">Week 2</th><td>6</td><td>7</td><td>4</td><td>2</td>' in html
    # Each chart says its change and from which answer (issue 29, item 2).
    assert "Change since intake: -2" in section and "Latest rating: +2" in section
    # Where the patient is with their follow-ups.
    assert "Answered" in html and "Sent (handed to the outbox)" in html


def test_request_page_shows_each_follow_ups_answers_and_why_a_red_flag_raised_the_priority():
    client, _ = staff_client()
    patient = patient_with_follow_ups(answers={2: {"pain": 6}, 6: {"pain": 5}})
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        red_flag = FollowUpFactory(request=patient, weeks=12)
        follow_up_answer_save(
            follow_up_id=red_flag.pk,
            answers={**dict.fromkeys(SAFETY_QUESTIONS, False), "fever": True, "pain_now": 4},
            complete=False,
        )
    html = client.get(reverse("admin:callbacks_callbackrequest_change", args=[patient.pk])).content.decode()
    routine = html.split('id="follow-up-2-answers"')[1].split('id="follow-up-6-answers"')[0]
    flagged = html.split('id="follow-up-12-answers"')[1].split("</section>")[0]
    assert not routine.startswith(" open") and "Week 2 answers" in routine and ": Routine" in routine
    # Open at once: the reason and the answer behind the raised priority.
    assert flagged.startswith(" open") and ": Urgent: see a doctor today</summary>" in flagged
    assert "Why this priority" in flagged and "Red flag (Urgent: see a doctor today)" in flagged
    assert "hot and shivery? — Yes" in flagged


def test_a_follow_up_whose_email_failed_shows_failed_on_the_request_page_with_a_resend():
    patient = patient_with_follow_ups(answers={2: None})
    follow_up = patient.follow_ups.get()
    notification = Notification.objects.create(
        request=patient, follow_up=follow_up, kind=Notification.Kind.FOLLOW_UP, recipient=patient.email
    )
    with mock.patch("django.core.mail.EmailMessage.send", side_effect=smtplib.SMTPDataError(554, b"rejected")):
        notification_send(notification_id=notification.pk)
    client, _ = staff_client("change_notification")
    html = text(client.get(reverse("admin:callbacks_callbackrequest_change", args=[patient.pk])))
    follow_ups = html.split('class="triage-follow-ups"')[1].split("</table>")[0]
    assert "Not delivered: its e-mail failed" in follow_ups and "Sent (handed to the outbox)" not in follow_ups
    resend_list = f"{reverse('admin:callbacks_notification_changelist')}?q={patient.reference}&amp;status__exact=failed"
    assert f'href="{resend_list}"' in follow_ups
    # The link opens the notifications list on that e-mail, with the same re-send action as a staff notification.
    listed = client.get(resend_list.replace("&amp;", "&"))
    assert listed.status_code == 200
    assert list(listed.context["cl"].result_list) == [notification]
    assert "resend_failed" in text(listed)


def test_request_page_costs_the_same_queries_for_one_or_three_answered_follow_ups():
    client, _ = staff_client()

    def page_queries(patient):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("admin:callbacks_callbackrequest_change", args=[patient.pk]))
        assert response.status_code == 200
        return len(queries)

    one = page_queries(scored_patient({2: {"pain": 6}}))
    three = page_queries(scored_patient({2: {"pain": 6}, 6: {"pain": 5}, 12: {"pain": 4}}))
    assert one == three


def test_request_page_reads_its_follow_ups_once():
    client, _ = staff_client()
    patient = scored_patient({2: {"pain": 6}, 6: {"pain": 5}, 12: None})
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("admin:callbacks_callbackrequest_change", args=[patient.pk]))
    assert response.status_code == 200
    follow_up_reads = [query["sql"] for query in queries if 'FROM "callbacks_followup"' in query["sql"]]
    assert len(follow_up_reads) == 1, follow_up_reads
    # Both of what the page shows from them are there: the scores (table) and each answered follow-up's answers.
    html = text(response)
    assert '<th scope="row">Week 6</th><td>5</td>' in html
    assert 'id="follow-up-2-answers"' in html and 'id="follow-up-6-answers"' in html
    assert 'id="follow-up-12-answers"' not in html


# The report: who may see it


def test_report_is_refused_without_the_permission_and_not_linked_from_home():
    # Staff who may work the queue but are outside the groups that read the report.
    client, user = staff_client("view_callbackrequest")
    user.groups.clear()
    assert client.get(REPORT).status_code == 403
    assert REPORT not in client.get(reverse("admin:index")).content.decode()


def test_the_triage_staff_group_reads_the_report_but_cannot_download_it():
    client, user = staff_client()
    assert user.has_perm("callbacks.view_outcome_report")
    assert client.get(REPORT).status_code == 200
    assert not user.has_perm("callbacks.export_callbackrequest")


def test_report_with_the_permission_is_linked_from_home_and_shows_the_last_90_days(clinic_dataset):  # noqa: F811
    client, _ = staff_client("view_outcome_report")
    assert REPORT in client.get(reverse("admin:index")).content.decode()
    response = client.get(REPORT)
    assert response.status_code == 200
    today = timezone.localdate()
    form = response.context["form"]
    assert form["date_from"].value() == today - dt.timedelta(days=89) and form["date_to"].value() == today
    html = text(response)
    # Five were sent follow-ups; four answered and three have a pain figure: too few to show.
    assert '<th scope="row">All patients</th> <td>5</td> <td>fewer than 5</td>' in html
    assert "(n = 3)" not in html
    assert "Alex Physio" in html and "Follow-up visit" in html
    # No CSV link without the export permission, and no patient's name anywhere.
    assert "Download as CSV" not in html
    from callbacks.models import CallbackRequest

    for name in CallbackRequest.objects.values_list("name", flat=True):
        assert name not in html


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"date_from": "2026-05-10", "date_to": "2026-05-01"},
            "date_to",
            "The last day cannot be before the first day.",
        ),
        ({"date_from": "2026-05-01", "date_to": "2999-01-01"}, "date_to", "The period cannot end after today."),
        ({"date_from": "1 May", "date_to": "2026-05-01"}, "date_from", "Enter a valid date."),
        ({"date_from": "", "date_to": "2026-05-01"}, "date_from", "This field is required."),
        ({"date_from": "0202-05-01", "date_to": "2026-05-01"}, "date_from", "Choose a period of ten years or less."),
    ],
)
def test_a_bad_period_is_explained_next_to_its_field_never_a_500(params, field, message):
    client, _ = staff_client("view_outcome_report", "export_callbackrequest")
    for extra in ({}, {"format": "csv"}):
        response = client.get(REPORT, {**params, **extra})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
        html = text(response)
        assert f'<p class="triage-error" id="id_{field}_error">{message}</p>' in html
        assert f'aria-invalid="true" aria-describedby="id_{field}_error"' in html
        assert response.context["report"] is None
    assert not PrivacyLogEntry.objects.filter(action=PrivacyLogEntry.Action.REPORTED).exists()


# Small groups (security review 27, finding 5)


@pytest.fixture
def larger_dataset(clinic_dataset):  # noqa: F811
    """The clinic dataset and two more patients with no appointment, each pain now 6 -> 4 (-2): seven sent, six
    answered, five with a pain change (-4, -1, -3, -2, -2: median -2); every practitioner and service has fewer
    than five."""
    for _ in range(2):
        patient_with_follow_ups(answers={2: {"pain": 6}, 6: {"pain": 4}})


SMALL_FIGURE = re.compile(r"\(n = [1-4][,)]|<td>[1-4]</td>|for [1-4]\b")


def test_groups_of_fewer_than_five_patients_show_no_figure_on_the_page(larger_dataset):
    client, _ = staff_client("view_outcome_report")
    html = text(client.get(REPORT))
    assert '<th scope="row">All patients</th> <td>7</td> <td>6</td> <td>85.7%</td>' in html
    assert '-2 <span class="triage-muted">(n = 5, from the first follow-up)</span>' in html
    assert (
        '<th scope="row">Alex Physio</th> <td>fewer than 5</td> <td>fewer than 5</td> '
        '<td><span class="triage-muted">fewer than 5</span></td>'
    ) in html
    assert not SMALL_FIGURE.search(html), SMALL_FIGURE.search(html)
    # A one-day period with one answered follow-up: no "+2 (n = 1)".
    day = (timezone.localdate() - dt.timedelta(days=10)).isoformat()
    html = text(client.get(REPORT, {"date_from": day, "date_to": day}))
    assert "fewer than 5" in html and not SMALL_FIGURE.search(html)


def test_groups_of_fewer_than_five_patients_show_no_figure_in_the_csv(larger_dataset):
    client, _ = staff_client("view_outcome_report", "export_callbackrequest")
    rows = list(csv.reader(io.StringIO(client.get(REPORT, {"format": "csv"}).content.decode())))
    fewer = "fewer than 5"
    assert rows[1][:8] == ["overall", "All patients", "7", "6", "85.7", "6", "5", "-2"]
    # Which answer each median starts from (no intake scores here); none for a withheld one or a latest rating.
    assert rows[0][-4:] == [
        f"{score}: change measured from" for score in ("pain_now", "pain_worst_week", "psfs_mean", "global_change")
    ]
    assert rows[1][-4:] == ["from the first follow-up", "from the first follow-up", "", ""]
    # psfs_mean: two patients with an answer, one counted.
    assert rows[1][11:14] == [fewer, fewer, fewer]
    assert ["practitioner", "Alex Physio", fewer, fewer, fewer, fewer, fewer, fewer] in [row[:8] for row in rows]
    for row in rows[1:]:
        assert not {"1", "2", "3", "4"} & set(row[2:]), row


def test_reading_the_report_is_privacy_logged_with_its_period(clinic_dataset):  # noqa: F811
    client, user = staff_client("view_outcome_report")
    today = timezone.localdate()
    start = today - dt.timedelta(days=89)
    assert client.get(REPORT).status_code == 200
    [entry] = PrivacyLogEntry.objects.filter(action=PrivacyLogEntry.Action.REPORTED)
    assert entry.actor == user and entry.reference == ""
    assert entry.detail == f"Read the outcome report {start.isoformat()} to {today.isoformat()}"
    # The form alone, with a bad period, shows no figure and records nothing more.
    client.get(REPORT, {"date_from": "x", "date_to": today.isoformat()})
    assert PrivacyLogEntry.objects.count() == 1


# The CSV


def test_csv_is_refused_without_the_export_permission_and_logs_nothing(clinic_dataset):  # noqa: F811
    client, _ = staff_client("view_outcome_report")
    assert client.get(REPORT, {"format": "csv"}).status_code == 403
    assert not PrivacyLogEntry.objects.filter(action=PrivacyLogEntry.Action.REPORTED).exists()


def test_csv_holds_the_figures_safe_for_a_spreadsheet_and_is_privacy_logged(clinic_dataset):  # noqa: F811
    from callbacks.models import Practitioner

    Practitioner.objects.filter(name="Sam Physio").update(name="=HYPERLINK(1)")
    client, user = staff_client("view_outcome_report", "export_callbackrequest")
    today = timezone.localdate()
    start = today - dt.timedelta(days=29)
    response = client.get(REPORT, {"date_from": start.isoformat(), "date_to": today.isoformat(), "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        f'filename="outcome-report-{start.isoformat()}-to-{today.isoformat()}.csv"' in response["Content-Disposition"]
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:5] == [
        "breakdown",
        "group",
        "patients sent a follow-up",
        "patients who answered",
        "response rate (%)",
    ]
    assert rows[0][5:8] == [
        "pain_now: patients with an answer",
        "pain_now: patients counted",
        "pain_now: median change, first answer to latest",
    ]
    fewer = "fewer than 5"
    assert rows[1][:8] == ["overall", "All patients", "5", fewer, fewer, fewer, fewer, fewer]
    assert ["practitioner", "'=HYPERLINK(1)", fewer, fewer, fewer, fewer, fewer, fewer] in [row[:8] for row in rows]
    assert rows[-1][:2] == ["service", "No appointment on record"]
    [entry] = PrivacyLogEntry.objects.filter(action=PrivacyLogEntry.Action.REPORTED)
    assert entry.actor == user and entry.reference == "" and entry.count is None
    assert entry.detail == f"Outcome report {start.isoformat()} to {today.isoformat()}"


def test_report_page_costs_the_same_queries_for_an_empty_and_a_full_period(clinic_dataset):  # noqa: F811
    client, _ = staff_client("view_outcome_report")

    def report_queries(**params):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(REPORT, params).status_code == 200
        return len(queries)

    long_ago = {"date_from": "2020-01-01", "date_to": "2020-03-31"}
    # The first view of a period counts its attendance days (callbacks.booking.attendance_days) and stores them, a
    # statement per day: compared once each period's days are counted.
    report_queries(**long_ago), report_queries()
    assert report_queries(**long_ago) == report_queries()
