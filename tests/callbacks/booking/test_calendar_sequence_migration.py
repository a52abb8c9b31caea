"""Migration 0025 starts each appointment's calendar counter where the files already sent left it (SEQUENCE was
2 * revision, +1 once confirmed), so the next file a patient gets still updates their event."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("callbacks", "0024_request_idempotency_key")]
AFTER = [("callbacks", "0025_appointment_calendar_sequence")]


@pytest.mark.django_db(transaction=True)
def test_the_counter_carries_on_from_the_last_sequence_sent():
    try:
        carried_over_checked()
    finally:  # whatever happened, the database is left at the latest migration for the tests after this one
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def carried_over_checked():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Service = old.get_model("callbacks", "Service")
    Practitioner = old.get_model("callbacks", "Practitioner")
    CallbackRequest = old.get_model("callbacks", "CallbackRequest")
    Appointment = old.get_model("callbacks", "Appointment")
    service = Service.objects.create(name="Assessment", duration_minutes=30)
    practitioner = Practitioner.objects.create(name="Sam")
    start = timezone.now() + dt.timedelta(days=3)
    expected = {}
    for number, (status, revision) in enumerate([("requested", 0), ("confirmed", 0), ("confirmed", 2)]):
        request = CallbackRequest.objects.create(
            reference=f"CB-MIG{number}",
            kind="booking",
            name="A",
            phone="+447400123456",
            window_start=start,
            window_end=start + dt.timedelta(hours=1),
            reason="x",
            consent_version="1",
            deadline=start,
            consent_given_at=start,
        )
        appointment = Appointment.objects.create(
            practitioner=practitioner,
            service=service,
            starts_at=start + dt.timedelta(hours=number),
            ends_at=start + dt.timedelta(hours=number, minutes=30),
            status=status,
            revision=revision,
            request=request,
        )
        expected[appointment.pk] = 2 * revision + (status == "confirmed")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    carried = dict(new.get_model("callbacks", "Appointment").objects.values_list("pk", "calendar_sequence"))
    assert carried == expected == dict(zip(expected, [0, 1, 5], strict=True))
