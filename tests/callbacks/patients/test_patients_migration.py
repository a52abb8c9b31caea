"""Migration 0027 gives the requests already stored their patients, grouped by phone number and name (the
matching rule), and goes back cleanly: the requests stay, the patients go."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("callbacks", "0026_capacity")]
AFTER = [("callbacks", "0027_patients")]


@pytest.mark.django_db(transaction=True)
def test_stored_requests_get_patients_by_phone_and_name_and_the_migration_reverses():
    try:
        grouped_and_reversed()
    finally:  # whatever happened, the database is left at the latest migration for the tests after this one
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def grouped_and_reversed():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    CallbackRequest = old.get_model("callbacks", "CallbackRequest")
    start = timezone.now() + dt.timedelta(days=3)
    people = [("Ann Lee", "+447400000001"), ("ANN  lee", "+447400000001"), ("Bob Lee", "+447400000001")]
    for number, (name, phone) in enumerate([*people, ("Ann Lee", "+447400000002")]):
        CallbackRequest.objects.create(
            reference=f"CB-MIG{number}",
            name=name,
            phone=phone,
            window_start=start,
            window_end=start + dt.timedelta(hours=1),
            reason="x",
            consent_version="1",
            consent_given_at=start,
        )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    stored = {r.reference: r.patient_record_id for r in new.get_model("callbacks", "CallbackRequest").objects.all()}
    assert None not in stored.values()
    assert stored["CB-MIG0"] == stored["CB-MIG1"]
    assert len({stored["CB-MIG0"], stored["CB-MIG2"], stored["CB-MIG3"]}) == 3
    assert new.get_model("callbacks", "Patient").objects.count() == 3
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(BEFORE)
    assert old.get_model("callbacks", "CallbackRequest").objects.count() == 4
    assert "callbacks_patient" not in connection.introspection.table_names()
