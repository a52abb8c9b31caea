"""Migration 0029: follow-ups already scheduled for a patient not yet seen are withdrawn (the first attended mark
writes them again); a patient with a visit in the past keeps theirs; the first contact is the first reached call."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("callbacks", "0028_desk_cancel_undo")]
AFTER = [("callbacks", "0029_attendance")]


@pytest.mark.django_db(transaction=True)
def test_follow_ups_of_patients_not_yet_seen_are_withdrawn():
    try:
        migrated_checked()
    finally:  # the database is left at the latest migration for the tests after this one
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def migrated_checked():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Service = old.get_model("callbacks", "Service")
    Practitioner = old.get_model("callbacks", "Practitioner")
    CallbackRequest = old.get_model("callbacks", "CallbackRequest")
    Appointment = old.get_model("callbacks", "Appointment")
    FollowUp = old.get_model("callbacks", "FollowUp")
    CallAttempt = old.get_model("callbacks", "CallAttempt")
    User = old.get_model("auth", "User")
    service = Service.objects.create(name="Assessment", duration_minutes=30)
    practitioner = Practitioner.objects.create(name="Sam")
    now = timezone.now()
    requests = {}
    for name, starts in (("ahead", now + dt.timedelta(days=20)), ("past", now - dt.timedelta(days=3)), ("none", None)):
        request = CallbackRequest.objects.create(
            reference=f"CB-MIG{name[:2].upper()}",
            kind="booking" if starts else "callback",
            name="A",
            phone="+447400123456",
            window_start=now,
            window_end=now + dt.timedelta(hours=1),
            reason="x",
            consent_version="1",
            deadline=now,
            consent_given_at=now,
            status="booked" if starts else "closed",
        )
        requests[name] = request
        if starts:
            Appointment.objects.create(
                practitioner=practitioner,
                service=service,
                starts_at=starts,
                ends_at=starts + dt.timedelta(minutes=30),
                status="confirmed",
                request=request,
            )
        FollowUp.objects.create(request=request, weeks=2, due_at=now + dt.timedelta(days=14))
    staff = User.objects.create(username="mig-staff", is_staff=True)
    reached = now - dt.timedelta(hours=5)
    for outcome, at in (("no_answer", now - dt.timedelta(hours=6)), ("reached", reached), ("reached", now)):
        CallAttempt.objects.create(request=requests["none"], made_by=staff, made_at=at, outcome=outcome)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    FollowUp = new.get_model("callbacks", "FollowUp")
    CallbackRequest = new.get_model("callbacks", "CallbackRequest")
    kept = set(FollowUp.objects.values_list("request__reference", flat=True))
    assert kept == {requests["past"].reference, requests["none"].reference}
    assert CallbackRequest.objects.get(pk=requests["none"].pk).first_contact_at == reached
    assert CallbackRequest.objects.get(pk=requests["past"].pk).first_contact_at is None
