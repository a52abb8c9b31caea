import csv
import datetime as dt
import importlib
import io
import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import clear_url_caches, reverse
from django.utils import timezone

from callbacks.models import CallAttempt, CallbackRequest, Notification, Priority, RequestEvent, StaffNote
from callbacks.requests import workflow
from intake.definitions import definition_current
from intake.services import questionnaire_response_create
from tests.factories import CallbackRequestFactory, NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = CallbackRequest.Status
CHANGELIST = reverse("admin:callbacks_callbackrequest_changelist")


def change_url(obj):
    return reverse("admin:callbacks_callbackrequest_change", args=[obj.pk])


def workflow_url(obj, action):
    return reverse("admin:callbacks_callbackrequest_workflow", args=[obj.pk, action])


@pytest.fixture
def triage_user():
    user = UserFactory(username="frontdesk", first_name="Fran", last_name="Desk")
    user.groups.add(Group.objects.get(name="Triage staff"))
    return user


@pytest.fixture
def triage_client(triage_user):
    client = Client()
    client.force_login(triage_user)
    return client


def listed(response):
    return [row.reference for row in response.context["cl"].result_list]


def page_text(response):
    return re.sub(r"\s+", " ", response.content.decode())


# The queue


def test_queue_is_ordered_by_priority_then_deadline_and_hides_closed(triage_client):
    now = timezone.now()
    CallbackRequestFactory(reference="CB-R1", priority=Priority.ROUTINE, deadline=now - dt.timedelta(hours=5))
    CallbackRequestFactory(reference="CB-U2", priority=Priority.URGENT, deadline=now + dt.timedelta(hours=2))
    CallbackRequestFactory(reference="CB-U1", priority=Priority.URGENT, deadline=now + dt.timedelta(hours=1))
    CallbackRequestFactory(reference="CB-E1", priority=Priority.EMERGENCY, deadline=now + dt.timedelta(hours=3))
    CallbackRequestFactory(reference="CB-X1", priority=Priority.EMERGENCY, status=Status.CLOSED, outcome="advice")
    response = triage_client.get(CHANGELIST)
    assert listed(response) == ["CB-E1", "CB-U1", "CB-U2", "CB-R1"]
    assert "CB-X1" in listed(triage_client.get(CHANGELIST, {"status": "all"}))
    assert listed(triage_client.get(CHANGELIST, {"status": "closed"})) == ["CB-X1"]


def test_queue_columns_show_badge_with_text_deadline_and_assignee(triage_client, triage_user):
    now = timezone.now()
    CallbackRequestFactory(
        reference="CB-LATE1", name="Ada Byron", priority=Priority.EMERGENCY, deadline=now - dt.timedelta(hours=2)
    )
    CallbackRequestFactory(
        reference="CB-SOON1", priority=Priority.ROUTINE, deadline=now + dt.timedelta(hours=3), assigned_to=triage_user
    )
    html = page_text(triage_client.get(CHANGELIST))
    assert '<span class="triage-badge triage-badge--emergency">Emergency</span>' in html
    assert '<span class="triage-badge triage-badge--routine">Routine</span>' in html
    assert "Overdue by 2 hours" in html
    assert "2 hours left" in html
    assert "Fran Desk" in html
    assert "Unassigned" in html
    assert "Ada Byron" in html
    # When a request arrived is on its page and in the "By created at" filter; the row has the caller's columns.
    columns = ("reference", "patient", "priority_badge", "status", "deadline_left", "phone_link", "window", "attempts")
    for column in (*columns, "assigned"):
        assert f"column-{column}" in html


def test_filters_overdue_assigned_and_priority(triage_client, triage_user):
    now = timezone.now()
    CallbackRequestFactory(reference="CB-OVER1", deadline=now - dt.timedelta(minutes=1))
    CallbackRequestFactory(reference="CB-OVER2", deadline=now - dt.timedelta(minutes=1), status=Status.CONTACTED)
    CallbackRequestFactory(reference="CB-MINE1", deadline=now + dt.timedelta(hours=1), assigned_to=triage_user)
    CallbackRequestFactory(reference="CB-THEIRS", assigned_to=UserFactory(), priority=Priority.URGENT)
    # Contact made: the deadline no longer runs, so CB-OVER2 is not overdue.
    assert listed(triage_client.get(CHANGELIST, {"overdue": "yes"})) == ["CB-OVER1"]
    assert listed(triage_client.get(CHANGELIST, {"assigned": "me"})) == ["CB-MINE1"]
    assert set(listed(triage_client.get(CHANGELIST, {"assigned": "none"}))) == {"CB-OVER1", "CB-OVER2"}
    assert listed(triage_client.get(CHANGELIST, {"priority__exact": Priority.URGENT})) == ["CB-THEIRS"]
    assert listed(triage_client.get(CHANGELIST, {"priority__lte": Priority.URGENT})) == ["CB-THEIRS"]


def test_date_filter(triage_client):
    CallbackRequestFactory(reference="CB-OLD01", created_at=timezone.now() - dt.timedelta(days=40))
    CallbackRequestFactory(reference="CB-NEW01")
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    today = today.isoformat()
    response = triage_client.get(CHANGELIST, {"created_at__gte": today, "created_at__lt": tomorrow})
    assert listed(response) == ["CB-NEW01"]


@pytest.mark.parametrize("typed", ["07400 900123", "+44 7400 900123", "(07400) 900-123", "cb-find1", "Marlow"])
def test_search_by_phone_in_any_format_reference_or_name(triage_client, typed):
    CallbackRequestFactory(reference="CB-FIND1", name="Jo Marlow", phone="+447400900123")
    CallbackRequestFactory(reference="CB-OTHER", name="Sam Smith", phone="+447400900999")
    assert listed(triage_client.get(CHANGELIST, {"q": typed})) == ["CB-FIND1"]


# Bulk actions


def test_bulk_assign_to_me_goes_through_workflow_and_reports(triage_client, triage_user):
    open_ = CallbackRequestFactory()
    closed = CallbackRequestFactory(reference="CB-SHUT1", status=Status.CLOSED, outcome="advice")
    response = triage_client.post(
        CHANGELIST + "?status=all",
        {"action": "assign_to_me", "_selected_action": [open_.pk, closed.pk]},
        follow=True,
    )
    text = page_text(response)
    assert "Assigned 1 request(s) to you." in text
    assert "Not changed, 1: CB-SHUT1 (This request is closed. Reopen it before you assign it.)" in text
    open_.refresh_from_db()
    assert open_.assigned_to == triage_user
    assert RequestEvent.objects.filter(request=open_, field="assigned_to", actor=triage_user).count() == 1


def test_bulk_mark_in_progress_reports_refused_transitions(triage_client):
    new = CallbackRequestFactory()
    booked = CallbackRequestFactory(reference="CB-BOOK1", status=Status.BOOKED)
    response = triage_client.post(
        CHANGELIST, {"action": "mark_in_progress", "_selected_action": [new.pk, booked.pk]}, follow=True
    )
    text = page_text(response)
    assert "Marked 1 request(s) in progress." in text
    assert "CB-BOOK1 (A request that is “Booked” cannot be set to “In progress”." in text
    new.refresh_from_db()
    booked.refresh_from_db()
    assert (new.status, booked.status) == (Status.IN_PROGRESS, Status.BOOKED)


# Permissions and CSV export


def test_triage_group_has_only_what_triage_needs():
    codenames = set(Group.objects.get(name="Triage staff").permissions.values_list("codename", flat=True))
    assert codenames == {
        "view_callbackrequest",
        "change_callbackrequest",
        "view_callattempt",
        "add_callattempt",
        "view_staffnote",
        "add_staffnote",
        "view_requestevent",
        "view_notification",
        # The front desk's day (issue 16): book for callers and work the diary; read the booking set-up.
        "view_service",
        "view_practitioner",
        "view_workinghours",
        "view_availabilityexception",
        "view_appointment",
        "add_appointment",
        "change_appointment",
        # The waitlist (see it, take a patient off it) and the clinic's closure days.
        "view_waitlistentry",
        "change_waitlistentry",
        "view_waitlistoffer",
        "view_clinicclosure",
        "add_clinicclosure",
        "change_clinicclosure",
        "delete_clinicclosure",
        # The outcome report's figures (issue 19; no patient named), not its CSV download.
        "view_outcome_report",
        # Online request capacity (issue 24): the desk knows first when the clinic is full.
        "view_intakecapacity",
        # One patient across many requests (issue 26): see patients, link and unlink requests, read the links.
        "view_patient",
        "change_patient",
        "view_patientlinkevent",
        "change_intakecapacity",
        # Texts from patients (issue 25): those from unknown numbers are only in their list; receipts read only.
        "view_inboundtext",
        "view_textreceipt",
    }
    assert "export_callbackrequest" not in codenames
    assert "delete_callbackrequest" not in codenames
    assert "view_consent_proof" not in codenames


def test_triage_staff_cannot_export(triage_client):
    cb = CallbackRequestFactory()
    response = triage_client.get(CHANGELIST)
    assert "export_csv" not in response.content.decode()
    refused = triage_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [cb.pk]})
    assert refused.get("Content-Type", "").startswith("text/html")
    assert b"reference,kind" not in refused.content


def test_export_with_permission_has_no_contact_or_health_details(triage_user):
    from django.contrib.auth.models import Permission

    triage_user.user_permissions.add(Permission.objects.get(codename="export_callbackrequest"))
    client = Client()
    client.force_login(triage_user)
    cb = CallbackRequestFactory(reference="CB-EXP01", name="=HYPERLINK(1)", phone="+447700900123", reason="Sciatica")
    response = client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [cb.pk]})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:5] == ["reference", "kind", "received", "priority", "status"]
    assert rows[1][0] == "CB-EXP01"
    for private in ("HYPERLINK", "+447700900123", "Sciatica"):
        assert private not in body


# One request's page


@pytest.fixture
def emergency_request(settings):
    settings.TIME_ZONE = "Europe/London"
    response = questionnaire_response_create(
        definition=definition_current("back-pain"), answers={"saddle_numbness": True}, complete=False
    )
    cb = CallbackRequestFactory(
        reference="CB-PAGE1",
        name="Priya Shah",
        phone="+447700900123",
        email="priya@example.org",
        priority=Priority.EMERGENCY,
        window_start=dt.datetime(2031, 7, 1, 9, 0, tzinfo=dt.UTC),
        window_end=dt.datetime(2031, 7, 1, 11, 0, tzinfo=dt.UTC),
        questionnaire_response=response,
    )
    NotificationFactory(
        request=cb, recipient="urgent@clinic.test", status=Notification.Status.SENT, sent_at=timezone.now()
    )
    return cb


def test_request_page_shows_contact_window_questionnaire_and_notifications(triage_client, emergency_request):
    response = triage_client.get(change_url(emergency_request))
    assert response.status_code == 200
    html = page_text(response)
    assert "Priya Shah" in html
    assert 'href="tel:+447700900123"' in html
    # 09:00-11:00 UTC in July is 10:00-12:00 in London.
    assert "Tuesday 1 July 2031, 10:00\u201312:00" in html
    assert "Europe/London" in html
    assert "Red flag (Emergency):" in html
    assert "Numbness or tingling in the saddle area" in html
    # Staff see how much of the questionnaire was answered.
    assert "Questionnaire not finished:" in html
    assert re.search(r"\d of \d parts answered\. Still open: ", html)
    assert "was shown the emergency advice" in html
    assert "urgent@clinic.test" in html
    assert "Notifications sent" in html


def test_request_page_has_no_editable_record_fields_and_no_save(triage_client, emergency_request):
    html = triage_client.get(change_url(emergency_request)).content.decode()
    assert 'name="_save"' not in html
    assert 'name="name"' not in html
    assert 'name="status"' not in html  # the workflow's own fields carry a prefix
    assert 'name="status-status"' in html


def test_record_form_post_changes_nothing(triage_client, emergency_request):
    triage_client.post(change_url(emergency_request), {"name": "Someone Else", "status": "closed", "priority": 4})
    emergency_request.refresh_from_db()
    assert (emergency_request.name, emergency_request.status, emergency_request.priority) == (
        "Priya Shah",
        Status.NEW,
        Priority.EMERGENCY,
    )


def test_history_is_one_read_only_timeline_even_for_superuser(admin_client, emergency_request, admin_user):
    """Timeline and History used to show the same events twice; the timeline is now the only one."""
    workflow.staff_note_add(request=emergency_request, text="Called GP.", actor=admin_user)
    workflow.callback_request_status_change(request=emergency_request, status=Status.IN_PROGRESS, actor=admin_user)
    response = admin_client.get(change_url(emergency_request))
    prefixes = {f.formset.prefix for f in response.context["inline_admin_formsets"]}
    assert "events" not in prefixes
    html = response.content.decode()
    assert "History (who changed what, when)" not in html
    assert html.count("Called GP.") == 1
    assert 'name="events-0-after"' not in html
    timeline = response.context["timeline"]
    assert [entry.title for entry in timeline] == ["Status", "Note", "Request received"]
    assert (timeline[0].before, timeline[0].after) == ("New", "In progress")


def test_workflow_assign_me_then_timeline_shows_it(triage_client, triage_user, emergency_request):
    response = triage_client.post(workflow_url(emergency_request, "assign_me"), follow=True)
    assert "The request is assigned to you." in page_text(response)
    emergency_request.refresh_from_db()
    assert emergency_request.assigned_to == triage_user
    timeline = response.context["timeline"]
    assert [entry.title for entry in timeline] == ["Assigned to", "Request received"]
    assert timeline[0].actor == "Fran Desk"


def test_workflow_log_call_note_and_schedule(triage_client, emergency_request):
    triage_client.post(workflow_url(emergency_request, "call"), {"call-outcome": "voicemail", "call-note": "Left msg"})
    triage_client.post(workflow_url(emergency_request, "note"), {"note-text": "GP letter on file."})
    tomorrow = timezone.localtime() + dt.timedelta(days=1)
    response = triage_client.post(
        workflow_url(emergency_request, "schedule"), {"schedule-at": tomorrow.strftime("%Y-%m-%dT%H:%M")}, follow=True
    )
    assert "Next call planned for" in page_text(response)
    emergency_request.refresh_from_db()
    assert emergency_request.status == Status.IN_PROGRESS
    assert emergency_request.next_attempt_at is not None
    assert CallAttempt.objects.get(request=emergency_request).note == "Left msg"
    assert StaffNote.objects.get(request=emergency_request).text == "GP letter on file."
    titles = [entry.title for entry in response.context["timeline"]]
    assert "Call: Left a voicemail" in titles
    assert "Note" in titles


def test_closing_without_outcome_shows_the_error_next_to_the_field(triage_client, emergency_request):
    response = triage_client.post(workflow_url(emergency_request, "status"), {"status-status": "closed"})
    assert response.status_code == 200
    html = page_text(response)
    assert '<p class="triage-error" id="id_status-outcome_error">Choose an outcome to close the request.</p>' in html
    assert 'aria-describedby="id_status-outcome_error"' in html
    assert "Nothing was changed" in html
    emergency_request.refresh_from_db()
    assert emergency_request.status == Status.NEW


def test_invalid_transition_is_refused_with_a_clear_message(triage_client, emergency_request):
    emergency_request.status = Status.BOOKED
    emergency_request.save()
    response = triage_client.post(workflow_url(emergency_request, "status"), {"status-status": "new"})
    html = page_text(response)
    assert "Nothing was changed" in html
    assert "Select a valid choice" in html or "cannot be set to" in html
    emergency_request.refresh_from_db()
    assert emergency_request.status == Status.BOOKED
    assert not RequestEvent.objects.filter(request=emergency_request).exists()


def test_service_refusal_is_shown_on_the_page(triage_client, emergency_request):
    response = triage_client.post(
        workflow_url(emergency_request, "schedule"),
        {"schedule-at": (timezone.localtime() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")},
    )
    html = page_text(response)
    assert '<p class="triage-error" role="alert">Choose a time in the future for the next call.</p>' in html
    emergency_request.refresh_from_db()
    assert emergency_request.next_attempt_at is None


def test_workflow_needs_post_and_csrf(triage_user, emergency_request):
    client = Client(enforce_csrf_checks=True)
    client.force_login(triage_user)
    assert client.get(workflow_url(emergency_request, "assign_me")).status_code == 405
    assert client.post(workflow_url(emergency_request, "assign_me")).status_code == 403
    emergency_request.refresh_from_db()
    assert emergency_request.assigned_to is None


def test_view_only_staff_cannot_use_the_workflow(emergency_request):
    from django.contrib.auth.models import Permission

    reader = UserFactory(username="reader")
    reader.user_permissions.add(Permission.objects.get(codename="view_callbackrequest"))
    client = Client()
    client.force_login(reader)
    page = client.get(change_url(emergency_request))
    assert page.status_code == 200
    assert "You can read this request but not work on it." in page.content.decode()
    assert client.post(workflow_url(emergency_request, "assign_me")).status_code == 403


# Admin home


def test_admin_home_shows_day_at_a_glance_and_chart(triage_client):
    now = timezone.now()
    CallbackRequestFactory(priority=Priority.EMERGENCY, deadline=now - dt.timedelta(minutes=5))
    CallbackRequestFactory(priority=Priority.URGENT, status=Status.IN_PROGRESS, assigned_to=UserFactory())
    CallbackRequestFactory(priority=Priority.ROUTINE, created_at=now - dt.timedelta(days=3))
    CallbackRequestFactory(priority=Priority.EMERGENCY, status=Status.CLOSED, outcome="advice")
    response = triage_client.get(reverse("admin:index"))
    glance = response.context["glance"]
    assert (glance.new, glance.urgent, glance.overdue, glance.unassigned) == (2, 2, 1, 2)
    html = response.content.decode()
    assert "The day at a glance" in html
    assert "<svg" in html
    assert html.count('<rect class="bar') == 42
    # Today's bar (three requests) is the last one; three days ago had one.
    titles = re.findall(r"<title>([^<]*)</title>", html.split("<svg", 1)[1])
    assert titles[-1].endswith(": 3 requests")
    assert titles[-4].endswith(": 1 request")
    assert all(title.endswith(": 0 requests") for title in titles[:-4])
    assert "style=" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "<script>" not in html


def test_admin_home_without_request_permission_has_no_glance():
    client = Client()
    client.force_login(UserFactory(username="content-editor"))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "glance" not in response.context


# The admin's address is a setting


@pytest.fixture
def admin_at_backoffice(settings):
    import clinic.urls

    settings.ADMIN_URL_PATH = "backoffice/"
    importlib.reload(clinic.urls)
    clear_url_caches()
    yield
    settings.ADMIN_URL_PATH = "admin/"
    importlib.reload(clinic.urls)
    clear_url_caches()


def test_admin_url_path_comes_from_the_setting(admin_at_backoffice, triage_client):
    assert reverse("admin:index") == "/backoffice/"
    assert triage_client.get("/backoffice/").status_code == 200
    assert triage_client.get("/admin/").status_code == 404


# Speed


def make_requests(count):
    from callbacks.requests.consent import CURRENT_CONSENT_VERSION, consent_text_sha256

    now = timezone.now()
    staff = UserFactory()
    CallbackRequest.objects.bulk_create(
        [
            CallbackRequest(
                reference=f"CB-Q{index:06d}",
                name=f"Patient {index}",
                phone=f"+447700{index:06d}",
                window_start=now,
                window_end=now + dt.timedelta(hours=2),
                reason="Back pain",
                consent_version=CURRENT_CONSENT_VERSION,
                consent_text_sha256=consent_text_sha256(),
                consent_given_at=now,
                priority=Priority.values[index % 4],
                deadline=now + dt.timedelta(minutes=index - count // 2),
                assigned_to=staff if index % 3 == 0 else None,
            )
            for index in range(count)
        ],
        batch_size=2000,
    )


def queue_queries(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return len(queries), len(response.context["cl"].result_list)


def test_queue_costs_the_same_queries_for_10_and_10000_requests(triage_client):
    make_requests(10)
    small, shown = queue_queries(triage_client)
    assert shown == 10
    CallbackRequest.objects.all().delete()
    make_requests(10_000)
    assert CallbackRequest.objects.count() == 10_000
    large, shown = queue_queries(triage_client)
    assert shown == 50
    assert large == small
    # Session, user, the count, the page, the user's groups/permissions: a handful, whatever the size.
    assert small <= 8
    filtered, _ = queue_queries(triage_client, overdue="yes", assigned="none", q="Patient 1")
    assert filtered == small
