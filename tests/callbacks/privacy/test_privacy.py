"""Data protection in the staff admin: who saw a patient's details, a copy of the data, erasure, retention."""

import datetime as dt
import json
import logging

import pytest
from celery.schedules import crontab
from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from callbacks import tasks
from callbacks.booking.waitlist import waitlist_entry_join
from callbacks.models import (
    Appointment,
    CallAttempt,
    CallbackRequest,
    Notification,
    Practitioner,
    PrivacyLogEntry,
    RequestEvent,
    Service,
    StaffNote,
    WaitlistEntry,
    WaitlistOffer,
)
from callbacks.privacy.retention import callback_requests_purge_expired
from callbacks.privacy.services import callback_request_erase, callback_request_export, callback_request_view_record
from callbacks.requests import workflow
from callbacks.requests.consent import CURRENT_CONSENT_VERSION, consent_text
from intake.definitions import definition_current
from intake.models import Answer, AnswerChoice, QuestionnaireResponse
from intake.selectors import answer_text
from intake.services import questionnaire_response_create, questionnaire_response_step_save
from tests.factories import CallbackRequestFactory, NotificationFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = CallbackRequest.Status
Action = PrivacyLogEntry.Action
LOG_LIST = reverse("admin:callbacks_privacylogentry_changelist")


def change_url(obj):
    return reverse("admin:callbacks_callbackrequest_change", args=[obj.pk])


def export_url(obj):
    return reverse("admin:callbacks_callbackrequest_privacy_export", args=[obj.pk])


def erase_url(obj):
    return reverse("admin:callbacks_callbackrequest_privacy_erase", args=[obj.pk])


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def triage_user():
    user = UserFactory(username="frontdesk", first_name="Fran", last_name="Desk")
    user.groups.add(Group.objects.get(name="Triage staff"))
    return user


@pytest.fixture
def officer():
    user = UserFactory(username="dpo", first_name="Dana", last_name="Officer")
    user.groups.add(Group.objects.get(name="Privacy officer"))
    return user


@pytest.fixture
def patient_request(triage_user):
    """A request with answers (a multiple choice and free text), a call, a note, history and a notification."""
    response = questionnaire_response_create(
        definition=definition_current("back-pain"),
        answers={
            "saddle_numbness": False,
            "fever": True,
            "pain_areas": ["lower_back_centre", "buttock_left"],
            "goals": "Carry my grandson again.",
        },
        complete=False,
    )
    cb = CallbackRequestFactory(
        reference="CB-PRIV1",
        name="Olwen Pryce",
        phone="+447700900456",
        email="olwen@example.org",
        reason="Spasms low in my back since I lifted a sofa.",
        questionnaire_response=response,
    )
    NotificationFactory(request=cb, recipient="frontdesk@clinic.test")
    NotificationFactory(
        request=cb,
        channel=Notification.Channel.WEBHOOK,
        recipient="https://chat.example/hooks/SECRET-TOKEN",
        kind=Notification.Kind.STAFF_NEW_REQUEST,
    )
    workflow.call_attempt_log(request=cb, actor=triage_user, outcome=CallAttempt.Outcome.NO_ANSWER, note="Rang twice.")
    workflow.staff_note_add(request=cb, text="Prefers mornings, mentioned a sick note.", actor=triage_user)
    cb.refresh_from_db()
    return cb


# The groups


def test_privacy_officer_group_holds_the_log_and_the_export_and_erase_permissions_and_triage_staff_does_not():
    officer = set(Group.objects.get(name="Privacy officer").permissions.values_list("codename", flat=True))
    assert {"view_privacylogentry", "export_patient_data", "erase_patient_data"} <= officer
    triage = set(Group.objects.get(name="Triage staff").permissions.values_list("codename", flat=True))
    assert not triage & {"view_privacylogentry", "export_patient_data", "erase_patient_data"}
    # Nobody may change or delete a log line, not even through a permission an administrator hands out.
    assert not Permission.objects.filter(codename__in=["change_privacylogentry", "delete_privacylogentry"]).exists()


# Who saw what


def test_opening_a_request_page_records_who_and_when(triage_user, patient_request):
    client = logged_in(triage_user)
    before = timezone.now()
    assert client.get(change_url(patient_request)).status_code == 200
    entry = PrivacyLogEntry.objects.get(action=Action.VIEWED)
    assert (entry.reference, entry.actor, entry.count) == ("CB-PRIV1", triage_user, None)
    assert before <= entry.at <= timezone.now()
    # The queue is recorded as a listing, not as a view of the details; a second visit is a second line.
    client.get(reverse("admin:callbacks_callbackrequest_changelist"))
    client.get(change_url(patient_request))
    assert PrivacyLogEntry.objects.filter(action=Action.VIEWED).count() == 2


def test_the_queue_records_whom_it_showed(triage_user, patient_request):
    other = CallbackRequestFactory(reference="CB-PRIV2")
    client = logged_in(triage_user)
    assert client.get(reverse("admin:callbacks_callbackrequest_changelist")).status_code == 200
    listed = PrivacyLogEntry.objects.filter(action=Action.LISTED)
    assert sorted((entry.reference, entry.actor) for entry in listed.all()) == [
        ("CB-PRIV1", triage_user),
        (other.reference, triage_user),
    ]
    assert len({entry.at for entry in listed.all()}) == 1
    # A search shows only what it found, and only that is recorded.
    client.get(reverse("admin:callbacks_callbackrequest_changelist"), {"q": "CB-PRIV2"})
    assert [entry.reference for entry in listed.order_by("-pk")[:1]] == ["CB-PRIV2"]
    assert listed.count() == 3
    # A refused lookup shows nobody and records nothing.
    client.get(reverse("admin:callbacks_callbackrequest_changelist"), {"name__regex": "["})
    assert listed.count() == 3


def test_a_refused_or_missing_page_records_nothing(patient_request):
    outsider = UserFactory(username="noperms")
    assert logged_in(outsider).get(change_url(patient_request)).status_code == 403
    missing = reverse("admin:callbacks_callbackrequest_change", args=[999999])
    logged_in(UserFactory(username="root", is_superuser=True)).get(missing)
    assert not PrivacyLogEntry.objects.exists()


def test_only_privacy_officers_can_read_the_log(triage_user, officer, patient_request):
    logged_in(triage_user).get(change_url(patient_request))
    triage = logged_in(triage_user)
    assert triage.get(LOG_LIST).status_code == 403
    assert "privacy log" not in triage.get(reverse("admin:index")).content.decode().lower()

    page = logged_in(officer).get(LOG_LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert "CB-PRIV1" in html and "Viewed health details" in html and "Fran Desk" in html
    # Read-only, even for the officer.
    assert "Add privacy log entry" not in html
    entry = PrivacyLogEntry.objects.get()
    detail = logged_in(officer).get(reverse("admin:callbacks_privacylogentry_change", args=[entry.pk]))
    assert 'name="reference"' not in detail.content.decode()


def test_log_lines_cannot_be_changed_even_by_raw_sql(officer):
    entry = PrivacyLogEntry.objects.create(action=Action.VIEWED, reference="CB-AAAAA", actor=officer)
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE callbacks_privacylogentry SET reference = 'CB-BBBBB'")
    entry.refresh_from_db()
    assert entry.reference == "CB-AAAAA"


# A copy of the data


def test_export_file_holds_everything_and_is_recorded_in_log_and_history(officer, patient_request):
    client = logged_in(officer)
    confirm = client.get(export_url(patient_request))
    assert confirm.status_code == 200
    assert "recorded" in confirm.content.decode()
    assert not PrivacyLogEntry.objects.filter(action=Action.EXPORTED).exists()

    response = client.post(export_url(patient_request))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == 'attachment; filename="patient-data-CB-PRIV1.json"'
    data = json.loads(response.content)
    assert data["contact"]["name"] == "Olwen Pryce"
    assert data["contact"]["phone"] == "+447700900456"
    assert data["contact"]["email"] == "olwen@example.org"
    assert data["contact"]["preferred_callback_from"]
    assert data["reason"] == "Spasms low in my back since I lifted a sofa."
    assert data["consent"]["text"] == consent_text(patient_request.consent_version)
    assert data["consent"]["version"] == patient_request.consent_version
    assert data["consent"]["text_sha256"] == patient_request.consent_text_sha256
    answers = {a["question_id"]: a for a in data["questionnaire"]["answers"]}
    assert answers["goals"]["answer"] == "Carry my grandson again."
    assert answers["fever"]["question"].startswith("Do you have a high temperature")
    assert answers["fever"]["answer"] == "Yes"
    assert answers["pain_areas"]["value"] == ["lower_back_centre", "buttock_left"]
    assert data["questionnaire"]["triage_tier"].startswith("Urgent")
    assert data["questionnaire"]["triage_reasons"]
    assert [c["note"] for c in data["call_attempts"]] == ["Rang twice."]
    assert [n["text"] for n in data["notes"]] == ["Prefers mornings, mentioned a sick note."]
    assert [n["recipient"] for n in data["notifications"]] == ["frontdesk@clinic.test", "the clinic's staff chat"]
    assert "SECRET-TOKEN" not in response.content.decode()
    assert {h["action"] for h in data["history"]} >= {"Call attempt", "Note"}

    entry = PrivacyLogEntry.objects.get(action=Action.EXPORTED)
    assert (entry.reference, entry.actor) == ("CB-PRIV1", officer)
    event = RequestEvent.objects.get(request=patient_request, action=RequestEvent.Action.EXPORTED)
    assert event.actor == officer
    # Staff see the download on the request's timeline.
    page = client.get(change_url(patient_request)).content.decode()
    assert "Patient data downloaded" in page


def test_the_download_holds_every_earlier_version_of_the_answers(officer, patient_request):
    response = patient_request.questionnaire_response
    where = next(step for step in response.definition.steps if step.id == "where")
    questionnaire_response_step_save(response_id=response.pk, step=where, step_answers={"pain_areas": ["neck"]})
    questionnaire_response_step_save(response_id=response.pk, step=where, step_answers={"pain_areas": ["hip_left"]})
    request = CallbackRequest.objects.get(pk=patient_request.pk)
    data = json.loads(callback_request_export(request=request, actor=officer))["questionnaire"]
    assert data["version"] == 3
    current = {answer["question_id"]: answer["value"] for answer in data["answers"]}
    assert current["pain_areas"] == ["hip_left"]
    assert [earlier["version"] for earlier in data["earlier_versions"]] == [2, 1]
    second, first = data["earlier_versions"]
    assert [line for line in first["answers"] if line["question_id"] == "pain_areas"] == [
        {
            "question_id": "pain_areas",
            "step": where.title,
            "question": next(q.text for q in where.questions if q.id == "pain_areas"),
            "answer": first_answer_text(response, "pain_areas", ["lower_back_centre", "buttock_left"]),
        }
    ]
    assert {line["question_id"] for line in first["answers"]} == {"saddle_numbness", "fever", "pain_areas", "goals"}
    assert "Carry my grandson again." in json.dumps(first)
    assert first["changed_by_the_next_version"] == ["pain_areas"] == second["changed_by_the_next_version"]
    assert first["triage_tier"] and first["replaced_at"] <= second["replaced_at"] <= data["answered_at"]
    assert data["started_at"] <= first["answered_at"]


def first_answer_text(response, question_id, value):
    question = next(q for step in response.definition.steps for q in step.questions if q.id == question_id)
    return answer_text(question, value)


def test_export_service_returns_utf8_json(officer, patient_request):
    CallbackRequest.objects.filter(pk=patient_request.pk).update(name="Siân Ó Briain")
    patient_request.refresh_from_db()
    content = callback_request_export(request=patient_request, actor=officer)
    assert json.loads(content.decode("utf-8"))["contact"]["name"] == "Siân Ó Briain"


# Erasure


def test_erase_asks_first_then_removes_everything_but_the_log_line(officer, patient_request):
    response_id = patient_request.questionnaire_response_id
    client = logged_in(officer)
    confirm = client.get(erase_url(patient_request))
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "cannot be undone" in html and "4 answers" in html and 'method="post"' in html
    assert CallbackRequest.objects.filter(pk=patient_request.pk).exists()

    response = client.post(erase_url(patient_request))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:callbacks_callbackrequest_changelist")
    assert not CallbackRequest.objects.exists()
    assert not QuestionnaireResponse.objects.filter(pk=response_id).exists()
    for model in (Answer, AnswerChoice, Notification, RequestEvent, CallAttempt, StaffNote):
        assert not model.objects.exists(), model.__name__
    entry = PrivacyLogEntry.objects.get(action=Action.ERASED)
    assert (entry.reference, entry.actor) == ("CB-PRIV1", officer)
    # The queue says what happened, and the page of the erased request is gone.
    assert "CB-PRIV1" in client.get(response["Location"]).content.decode()
    assert client.get(change_url(patient_request)).status_code == 302


def waitlisted(*, name, phone, email, weekdays=""):
    service, _ = Service.objects.get_or_create(name="Assessment", defaults={"duration_minutes": 45})
    return waitlist_entry_join(
        service=service,
        practitioner_id=None,
        weekdays=weekdays,
        name=name,
        phone=phone,
        email=email,
        consent_version=CURRENT_CONSENT_VERSION,
    )


def test_the_patients_waitlist_entries_are_in_their_export_and_go_with_erasure(officer, patient_request):
    """Issue 29, item 3: the patient's own entries (same phone, and the same e-mail or name) are theirs; a
    relative on the same landline with another name and e-mail, and a stranger, are not."""
    own = waitlisted(name="Olwen Pryce", phone="+447700900456", email="other.address@example.org", weekdays="03")
    own_by_email = waitlisted(name="O. Pryce", phone="+447700900456", email="Olwen@Example.org")
    practitioner = Practitioner.objects.create(name="Sam Physio")
    start = timezone.now() + dt.timedelta(days=2)
    WaitlistOffer.objects.create(
        entry=own, practitioner=practitioner, starts_at=start, ends_at=start + dt.timedelta(minutes=45)
    )
    relative = waitlisted(name="Huw Pryce", phone="+447700900456", email="huw@example.org")
    stranger = waitlisted(name="Olwen Pryce", phone="+447700900999", email="someone@example.org")
    client = logged_in(officer)

    data = json.loads(client.post(export_url(patient_request)).content)
    exported = {entry["reference"]: entry for entry in data["waitlist"]}
    assert set(exported) == {own.reference, own_by_email.reference}
    first = exported[own.reference]
    assert (first["name"], first["phone"], first["email"]) == (
        "Olwen Pryce",
        "+447700900456",
        "other.address@example.org",
    )
    assert (first["service"], first["practitioner"], first["days"]) == ("Assessment", "Any", ["Monday", "Thursday"])
    assert first["status"] == "Waiting" and first["joined_at"] and first["consent"]["version"] == own.consent_version
    assert [(o["practitioner"], o["status"]) for o in first["offers"]] == [("Sam Physio", "Offered")]

    confirm = client.get(erase_url(patient_request)).content.decode()
    assert "2 waitlist entries" in confirm and own.reference in confirm
    client.post(erase_url(patient_request))
    assert set(WaitlistEntry.objects.values_list("reference", flat=True)) == {relative.reference, stranger.reference}
    assert not WaitlistOffer.objects.exists()
    erased = set(PrivacyLogEntry.objects.filter(action=Action.ERASED).values_list("reference", flat=True))
    assert erased == {"CB-PRIV1", own.reference, own_by_email.reference}


def test_erase_of_a_request_without_questionnaire(officer):
    cb = CallbackRequestFactory()
    callback_request_erase(request=cb, actor=officer)
    assert not CallbackRequest.objects.exists()
    assert PrivacyLogEntry.objects.get().action == Action.ERASED


def test_erase_is_all_or_nothing(officer, patient_request, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("log unavailable")

    monkeypatch.setattr(PrivacyLogEntry.objects, "create", broken)
    with pytest.raises(RuntimeError):
        callback_request_erase(request=patient_request, actor=officer)
    assert CallbackRequest.objects.filter(pk=patient_request.pk).exists()
    assert Answer.objects.filter(response_id=patient_request.questionnaire_response_id).count() == 4


def test_staff_without_the_permissions_see_no_buttons_and_are_refused(triage_user, patient_request):
    client = logged_in(triage_user)
    page = client.get(change_url(patient_request)).content.decode()
    assert "Download this patient" not in page
    assert "Erase this patient" not in page
    for url in (export_url(patient_request), erase_url(patient_request)):
        assert client.get(url).status_code == 403
        assert client.post(url).status_code == 403
    assert CallbackRequest.objects.filter(pk=patient_request.pk).exists()
    assert not PrivacyLogEntry.objects.exclude(action=Action.VIEWED).exists()
    assert not RequestEvent.objects.filter(action=RequestEvent.Action.EXPORTED).exists()


def test_officer_sees_both_buttons(officer, patient_request):
    page = logged_in(officer).get(change_url(patient_request)).content.decode()
    assert f'href="{export_url(patient_request)}"' in page
    assert f'href="{erase_url(patient_request)}"' in page


def test_export_permission_alone_does_not_allow_erasing(patient_request):
    user = UserFactory(username="exporter")
    user.user_permissions.add(
        Permission.objects.get(codename="view_callbackrequest"),
        Permission.objects.get(codename="export_patient_data"),
    )
    client = logged_in(user)
    assert client.post(export_url(patient_request)).status_code == 200
    assert client.post(erase_url(patient_request)).status_code == 403
    assert CallbackRequest.objects.filter(pk=patient_request.pk).exists()


def test_plain_admin_delete_is_off_even_for_a_superuser(patient_request):
    root = logged_in(UserFactory(username="root", is_superuser=True))
    delete = reverse("admin:callbacks_callbackrequest_delete", args=[patient_request.pk])
    assert root.post(delete, {"post": "yes"}).status_code == 403
    assert CallbackRequest.objects.filter(pk=patient_request.pk).exists()


def test_view_record_service(officer):
    cb = CallbackRequestFactory()
    entry = callback_request_view_record(request=cb, actor=officer)
    assert (entry.action, entry.reference, entry.actor) == (Action.VIEWED, cb.reference, officer)


# Retention


def age(cb, days, now):
    moment = now - dt.timedelta(days=days)
    CallbackRequest.objects.filter(pk=cb.pk).update(created_at=moment, updated_at=moment)
    return cb


def test_purge_deletes_only_old_requests_that_never_became_patients(settings, officer, triage_user, caplog):
    settings.CLINIC_RETENTION_DAYS = 180
    now = timezone.now()
    response = questionnaire_response_create(
        definition=definition_current("back-pain"), answers={"saddle_numbness": False}, complete=False
    )
    gone = [
        age(CallbackRequestFactory(name="Gwen Old", questionnaire_response=response), 200, now),
        age(CallbackRequestFactory(status=Status.CLOSED, outcome=CallbackRequest.Outcome.ADVICE), 181, now),
        age(CallbackRequestFactory(status=Status.CONTACTED), 400, now),
    ]
    NotificationFactory(request=gone[0])
    kept = {
        "booked": age(CallbackRequestFactory(status=Status.BOOKED), 900, now),
        "appointment": age(
            CallbackRequestFactory(status=Status.CLOSED, outcome=CallbackRequest.Outcome.APPOINTMENT), 900, now
        ),
        "recent": age(CallbackRequestFactory(), 179, now),
        "recent note": CallbackRequestFactory(),
        "recent call": CallbackRequestFactory(),
    }
    workflow.staff_note_add(request=kept["recent note"], text="Patient rang back.", actor=triage_user)
    workflow.call_attempt_log(request=kept["recent call"], actor=triage_user, outcome=CallAttempt.Outcome.VOICEMAIL)
    age(kept["recent note"], 300, now)
    age(kept["recent call"], 300, now)
    # Downloading a copy is not a change: it does not keep the data longer.
    callback_request_export(request=gone[2], actor=officer)

    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        deleted = callback_requests_purge_expired(now=now, batch_size=2)

    assert deleted == 3
    assert set(CallbackRequest.objects.values_list("pk", flat=True)) == {cb.pk for cb in kept.values()}
    assert not QuestionnaireResponse.objects.filter(pk=response.pk).exists()
    assert not Notification.objects.filter(request_id=gone[0].pk).exists()
    entry = PrivacyLogEntry.objects.get(action=Action.PURGED)
    assert (entry.count, entry.actor, entry.reference) == (3, None, "")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "3" in logged
    for cb in gone:
        assert cb.reference not in logged
    assert "Gwen Old" not in logged


def test_purge_keeps_confirmed_appointments_and_recent_appointment_times(settings):
    settings.CLINIC_RETENTION_DAYS = 180
    now = timezone.now()
    service = Service.objects.create(name="Assessment", duration_minutes=45)
    practitioner = Practitioner.objects.create(name="Sam Physio")

    def booked(status, starts_days_ago):
        cb = age(CallbackRequestFactory(kind=CallbackRequest.Kind.BOOKING), 400, now)
        start = now - dt.timedelta(days=starts_days_ago)
        Appointment.objects.create(
            practitioner=practitioner,
            service=service,
            starts_at=start,
            ends_at=start + dt.timedelta(minutes=45),
            status=status,
            request=cb,
        )
        return cb

    confirmed = booked(Appointment.Status.CONFIRMED, 390)
    declined_long_ago = booked(Appointment.Status.DECLINED, 390)
    cancelled_recently = booked(Appointment.Status.CANCELLED, 10)
    assert callback_requests_purge_expired(now=now) == 1
    assert set(CallbackRequest.objects.values_list("pk", flat=True)) == {confirmed.pk, cancelled_recently.pk}
    assert not Appointment.objects.filter(request_id=declined_long_ago.pk).exists()


def test_export_includes_the_appointment(officer):
    service = Service.objects.create(name="Assessment", duration_minutes=45)
    practitioner = Practitioner.objects.create(name="Sam Physio")
    cb = CallbackRequestFactory(kind=CallbackRequest.Kind.BOOKING)
    start = timezone.now() + dt.timedelta(days=3)
    Appointment.objects.create(
        practitioner=practitioner,
        service=service,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=45),
        request=cb,
    )
    data = json.loads(callback_request_export(request=cb, actor=officer))
    assert data["appointment"]["service"] == "Assessment"
    assert data["appointment"]["practitioner"] == "Sam Physio"
    assert data["appointment"]["status"] == "Requested"


def test_purge_follows_the_retention_setting_and_records_a_run_with_nothing_to_do(settings):
    now = timezone.now()
    cb = age(CallbackRequestFactory(), 40, now)
    settings.CLINIC_RETENTION_DAYS = 60
    assert callback_requests_purge_expired(now=now) == 0
    assert CallbackRequest.objects.filter(pk=cb.pk).exists()
    settings.CLINIC_RETENTION_DAYS = 30
    assert callback_requests_purge_expired(now=now) == 1
    assert list(PrivacyLogEntry.objects.order_by("pk").values_list("count", flat=True)) == [0, 1]


def test_purge_counts_a_patients_text_as_activity_and_deletes_old_texts_from_unknown_numbers(settings):
    """Issue 25: a text from the patient keeps their request, like a call or a note; a text from a number no
    request had goes after the same period."""
    from callbacks.models import InboundText

    settings.CLINIC_RETENTION_DAYS = 30
    now = timezone.now()
    texted = age(CallbackRequestFactory(), 40, now)
    quiet = age(CallbackRequestFactory(), 40, now)

    def text(sid, request, days):
        return InboundText.objects.create(
            provider_sid=f"SM{sid:032x}",
            from_phone="+447400555444",
            body="hello",
            request=request,
            intent="other",
            outcome="for_staff",
            received_at=now - dt.timedelta(days=days),
        )

    text(1, texted, 2)
    old_unknown, new_unknown = text(2, None, 31), text(3, None, 29)
    assert callback_requests_purge_expired(now=now) == 1
    assert CallbackRequest.objects.filter(pk=texted.pk).exists()
    assert not CallbackRequest.objects.filter(pk=quiet.pk).exists()
    assert set(InboundText.objects.values_list("pk", flat=True)) == {
        texted.inbound_texts.get().pk,
        new_unknown.pk,
    }
    assert old_unknown.pk not in set(InboundText.objects.values_list("pk", flat=True))


def test_purge_task_runs_the_service(settings):
    settings.CLINIC_RETENTION_DAYS = 30
    age(CallbackRequestFactory(), 31, timezone.now())
    assert tasks.callback_requests_purge_expired.apply().get() == 1
    assert not CallbackRequest.objects.exists()


def test_sessions_task_clears_expired_sessions_only():
    expired, live = SessionStore(), SessionStore()
    expired["intake"] = {"answers": "x"}
    expired.set_expiry(-10)
    expired.save()
    live["intake"] = {"answers": "y"}
    live.save()
    tasks.sessions_clear_expired.apply().get()
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_beat_runs_the_purge_and_the_session_cleanup_every_night_in_clinic_time():
    from django.conf import settings

    from clinic.celery import app

    schedule = settings.CELERY_BEAT_SCHEDULE
    jobs = {entry["task"]: entry["schedule"] for entry in schedule.values()}
    for task in ("callbacks.tasks.callback_requests_purge_expired", "callbacks.tasks.sessions_clear_expired"):
        assert isinstance(jobs[task], crontab)
        assert jobs[task].hour == {3}
        assert task in app.tasks
    assert app.conf.timezone == settings.TIME_ZONE


# Unfinished answers in the session store (security review, finding 12)


def patient_sends_a_request_and_starts_another(client) -> str:
    """The patient's browser sends one request, then answers the first page of a second one and stops."""
    from tests.callbacks.web.test_forms import form_data
    from tests.support.questionnaire import NO_RED_FLAGS, SCREENING_STEPS, step_data

    url = reverse("callbacks:request")
    for step in SCREENING_STEPS:
        url = client.post(url, step_data(NO_RED_FLAGS[step]))["Location"]
    done = client.post(url, form_data(name="Wren Halloway"))
    assert done.status_code == 302
    reference = CallbackRequest.objects.get(name="Wren Halloway").reference
    unfinished = client.post(reverse("callbacks:request"), step_data(NO_RED_FLAGS["safety"]))
    assert unfinished.status_code == 302
    return reference


def session_rows_holding(text: str) -> list[Session]:
    return [row for row in Session.objects.all() if text in json.dumps(row.get_decoded())]


def test_erasure_deletes_the_patients_session_with_its_unfinished_flows(officer):
    patient, someone_else = Client(), Client()
    reference = patient_sends_a_request_and_starts_another(patient)
    someone_else.post(reverse("callbacks:request"), {"q-saddle_numbness": "no"})
    flows_key = "callbacks_intake_flows"
    assert session_rows_holding(reference) and patient.session.get(flows_key)
    sessions_before = Session.objects.count()

    callback_request_erase(request=CallbackRequest.objects.get(reference=reference), actor=officer)

    assert not session_rows_holding(reference)
    assert Session.objects.count() == sessions_before - 1  # the other patient's session is untouched
    assert not SessionStore(session_key=patient.session.session_key).get(flows_key)


def test_the_retention_purge_deletes_ended_sessions_with_unfinished_answers():
    ended = SessionStore()
    ended["callbacks_intake_flows"] = {"abc": {"answers": {"goals": "Walk to the Quarrington fair"}}}
    ended.set_expiry(timezone.now() - dt.timedelta(minutes=1))
    ended.save()
    live = SessionStore()
    live["callbacks_intake_flows"] = {"def": {"answers": {}}}
    live.save()
    callback_requests_purge_expired()
    assert not session_rows_holding("Quarrington")
    assert Session.objects.filter(session_key=live.session_key).exists()


def test_the_patients_download_holds_their_texts_and_each_texts_delivery(officer):
    """Issue 25: what the patient texted the clinic, and what became of the texts sent to them."""
    from callbacks.models import Notification
    from callbacks.notifications.receipts import text_receipt_record
    from callbacks.notifications.replies import inbound_text_receive

    cb = CallbackRequestFactory(phone="+447400123456")
    NotificationFactory(
        request=cb,
        kind=Notification.Kind.PATIENT_CONFIRMATION,
        channel=Notification.Channel.SMS,
        recipient="+447400123456",
        provider_message_id="SM" + "1" * 32,
    )
    text_receipt_record(provider_message_id="SM" + "1" * 32, status="delivered")
    inbound_text_receive(provider_sid="SM" + "2" * 32, from_phone="+447400123456", body="Can you call after 3?")
    data = json.loads(callback_request_export(request=cb, actor=officer))
    [text] = data["texts_from_you"]
    assert (text["from"], text["text"], text["what_it_did"]) == (
        "+447400123456",
        "Can you call after 3?",
        "For staff to read",
    )
    [sent] = [n for n in data["notifications"] if n["channel"] == "Text message"]
    assert (sent["recipient"], sent["delivery"]) == ("+447400123456", "Delivered")
