"""Backup and restore: a seeded clinic is backed up, restored into an empty database, and every table comes back
row for row (counts and a checksum of each table's rows in primary-key order), on PostgreSQL and on SQLite."""

import datetime as dt
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from contextlib import closing
from pathlib import Path
from unittest import mock

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from callbacks.booking.services import appointment_book
from callbacks.booking.slots import slots_free
from callbacks.models import (
    Appointment,
    CallbackRequest,
    FollowUp,
    Notification,
    Practitioner,
    Service,
    WorkingHours,
)
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
from callbacks.requests.services import callback_request_create
from clinic.backups import _sqlite_connect as sqlite_connect
from intake.definitions import BACK_PAIN, definition_current
from intake.services import QuestionnaireAnswers
from tests.callbacks.web.test_intake_flow import routine_answers
from tests.factories import ArticleFactory, FollowUpFactory, NotificationFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
PATIENT_NAME = "Morwenna Backupstone"
GPG_KEY = "Clinic backups <backups@clinic.test>"
SEEDED = (CallbackRequest, Notification, Appointment, FollowUp)


def seed_clinic() -> None:
    """A small clinic's worth of rows through the services: requests with answers, a booking, notifications and
    follow-ups, staff and an article."""
    definition = definition_current(BACK_PAIN)
    service = Service.objects.create(name="Initial assessment", duration_minutes=45)
    practitioner = Practitioner.objects.create(name="Sam Physio")
    practitioner.services.add(service)
    for weekday in range(7):
        WorkingHours.objects.create(practitioner=practitioner, weekday=weekday, start=dt.time(9), end=dt.time(17))
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        for number, answers in enumerate([routine_answers(), routine_answers(weight_loss=True), routine_answers()]):
            callback_request_create(
                name=PATIENT_NAME if number == 0 else f"Patient {number}",
                phone=f"+4474001234{number:02d}",
                email=f"patient{number}@example.test",
                window_start=timezone.now() + dt.timedelta(days=1),
                window_end=timezone.now() + dt.timedelta(days=1, hours=2),
                reason="Stiff lower back after gardening.",
                consent_version=CURRENT_CONSENT_VERSION,
                questionnaire=QuestionnaireAnswers(definition=definition, answers=answers),
            )
        slot = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=3), days=1)[0]
        appointment_book(
            service=service,
            practitioner_id=practitioner.pk,
            starts_at=slot.starts_at,
            name="Booked Patient",
            phone="+447400999111",
            email="booked@example.test",
            reason="Sciatica down the left leg.",
            consent_version=CURRENT_CONSENT_VERSION,
            questionnaire=QuestionnaireAnswers(definition=definition, answers=routine_answers()),
        )
        follow_up = FollowUpFactory()
        NotificationFactory(request=follow_up.request, kind=Notification.Kind.STAFF_NEW_REQUEST)
    UserFactory(username="frontdesk")
    ArticleFactory()


def primary_key_columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        columns = connection.introspection.get_primary_key_columns(cursor, table)
    assert columns, f"{table} has no primary key"
    return columns


def postgres_fingerprint(conn, tables) -> dict[str, tuple[int, str]]:
    """Per table: its row count and the md5 of its rows (as PostgreSQL prints them) in primary-key order."""
    fingerprint = {}
    for table in tables:
        order = ", ".join(f't."{column}"' for column in primary_key_columns(table))
        row = conn.execute(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY {order}), '')) FROM \"{table}\" t"  # noqa: S608
        ).fetchone()
        fingerprint[table] = (row[0], row[1])
    return fingerprint


def sqlite_fingerprint(conn, tables) -> dict[str, tuple[int, str]]:
    """Per table: its row count and the md5 of its rows (repr of each) in primary-key order."""
    fingerprint = {}
    for table in tables:
        order = ", ".join(f'"{column}"' for column in primary_key_columns(table))
        rows = conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}').fetchall()  # noqa: S608
        digest = hashlib.md5("\n".join(map(repr, rows)).encode(), usedforsecurity=False)
        fingerprint[table] = (len(rows), digest.hexdigest())
    return fingerprint


def manage(*arguments, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def seeded_tables() -> list[str]:
    tables = connection.introspection.table_names()
    with connection.cursor() as cursor:
        for model in SEEDED:
            cursor.execute(f'SELECT count(*) FROM "{model._meta.db_table}"')  # noqa: S608
            assert cursor.fetchone()[0] > 0, f"{model.__name__}: nothing seeded"
    return tables


@pytest.fixture
def postgres_database():
    """A new, empty PostgreSQL database of this test's own, dropped afterwards."""
    settings_dict = connection.settings_dict
    name = f"clinic_restore_{uuid.uuid4().hex[:10]}"
    admin = {
        "dbname": "postgres",
        "user": settings_dict["USER"] or None,
        "host": settings_dict["HOST"] or None,
        "port": settings_dict["PORT"] or None,
        "password": settings_dict["PASSWORD"] or None,
    }
    admin = {key: value for key, value in admin.items() if value}
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield {**admin, "dbname": name}
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_url(params) -> str:
    password = f":{params['password']}" if params.get("password") else ""
    return (
        f"postgres://{params.get('user', '')}{password}@{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}"
        f"/{params['dbname']}"
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_postgresql_backup_restores_into_an_empty_database_table_for_table(tmp_path, postgres_database):
    seed_clinic()
    tables = seeded_tables()
    backup = tmp_path / "clinic.dump"
    call_command("backup", output=str(backup))
    assert backup.read_bytes()[:5] == b"PGDMP"

    restored = manage("restore", str(backup), database_url=postgres_url(postgres_database))
    assert restored.returncode == 0, restored.stderr
    assert f"into {postgres_database['dbname']}" in restored.stdout

    source_params = {**postgres_database, "dbname": connection.settings_dict["NAME"]}
    with psycopg.connect(**source_params) as source, psycopg.connect(**postgres_database) as copy:
        copy_tables = [
            row[0] for row in copy.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
        ]
        assert sorted(copy_tables) == sorted(tables)
        assert postgres_fingerprint(copy, tables) == postgres_fingerprint(source, tables)
        # The sequences come back too: the next request saved in the restored clinic gets a fresh id.
        sequences = "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
        assert copy.execute(sequences).fetchall() == source.execute(sequences).fetchall()

    # The restored database is the clinic's schema as it stands: no migration is missing.
    check = manage("migrate", "--check", database_url=postgres_url(postgres_database))
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_postgresql_restore_refuses_a_database_that_has_tables(tmp_path, postgres_database):
    seed_clinic()
    backup = tmp_path / "clinic.dump"
    call_command("backup", output=str(backup))
    url = postgres_url(postgres_database)
    with psycopg.connect(**postgres_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE someone_elses (id int PRIMARY KEY)")
        conn.execute("INSERT INTO someone_elses VALUES (7)")

    refused = manage("restore", str(backup), database_url=url)

    assert refused.returncode != 0
    assert "is not empty" in refused.stderr and "--replace" in refused.stderr
    with psycopg.connect(**postgres_database) as conn:
        tables = [row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        assert tables == ["someone_elses"]


@pytest.mark.django_db(transaction=True)
def test_a_sqlite_backup_restores_into_a_new_file_table_for_table(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite pass")
    seed_clinic()
    tables = seeded_tables()
    backup = tmp_path / "clinic.sqlite3"
    call_command("backup", output=str(backup))
    with sqlite_connect(backup) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    target = tmp_path / "restored" / "db.sqlite3"
    target.parent.mkdir()
    restored = manage("restore", str(backup), database_url=f"sqlite:///{target}")
    assert restored.returncode == 0, restored.stderr

    source_name = connection.settings_dict["NAME"]
    with (
        closing(sqlite3.connect(source_name, uri=source_name.startswith("file:"))) as source,
        closing(sqlite3.connect(target)) as copy,
    ):
        copy_tables = [
            row[0]
            for row in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        ]
        assert sorted(copy_tables) == sorted(tables)
        assert sqlite_fingerprint(copy, tables) == sqlite_fingerprint(source, tables)
    check = manage("migrate", "--check", database_url=f"sqlite:///{target}")
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.fixture
def gpg_home(monkeypatch):
    """A GnuPG keyring of the test's own with one key, without a passphrase (the backup host's). A short path:
    gpg-agent's socket lives in it."""
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed")
    home = Path(tempfile.mkdtemp(prefix="gpg-"))
    home.chmod(0o700)
    monkeypatch.setenv("GNUPGHOME", str(home))
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", GPG_KEY, "default", "default", "never"],
        check=True,
        capture_output=True,
    )
    yield home
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], capture_output=True, check=False)
    shutil.rmtree(home, ignore_errors=True)


@pytest.mark.django_db(transaction=True)
def test_an_encrypted_backup_hides_the_patients_and_restores_with_the_key(tmp_path, gpg_home, settings):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite pass (the encryption is the same for both databases)")
    seed_clinic()
    settings.CLINIC_BACKUP_DIR = tmp_path / "backups"
    settings.CLINIC_BACKUP_GPG_RECIPIENT = "backups@clinic.test"

    call_command("backup")

    written = list((tmp_path / "backups").iterdir())
    assert [path.suffix for path in written] == [".gpg"], written
    encrypted = written[0]
    assert encrypted.name.startswith("clinic-") and encrypted.name.endswith(".sqlite3.gpg")
    assert oct(encrypted.stat().st_mode & 0o777) == "0o600"
    assert PATIENT_NAME.encode() not in encrypted.read_bytes()

    target = tmp_path / "restored.sqlite3"
    restored = manage("restore", str(encrypted), database_url=f"sqlite:///{target}")
    assert restored.returncode == 0, restored.stderr
    with closing(sqlite3.connect(target)) as copy:
        query = f"SELECT name FROM {CallbackRequest._meta.db_table}"  # noqa: S608
        names = [row[0] for row in copy.execute(query)]
    assert PATIENT_NAME in names


@pytest.mark.django_db(transaction=True)
def test_an_unencrypted_backup_does_hold_the_patients_names(tmp_path):
    """The other half of the test above: without a key the same bytes are readable, so that test can fail."""
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite pass")
    seed_clinic()
    backup = tmp_path / "plain.sqlite3"
    call_command("backup", output=str(backup), gpg_recipient="")
    assert PATIENT_NAME.encode() in backup.read_bytes()


def test_a_restore_from_a_missing_file_says_so(tmp_path):
    with pytest.raises(CommandError, match="No backup file at"):
        call_command("restore", str(tmp_path / "nothing.dump"))


@pytest.mark.django_db(transaction=True)
def test_each_backup_deletes_the_backups_older_than_the_days_kept(tmp_path, settings):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite pass")
    settings.CLINIC_BACKUP_DIR = tmp_path
    settings.CLINIC_BACKUP_KEEP_DAYS = 35
    settings.CLINIC_BACKUP_GPG_RECIPIENT = ""
    old, recent, other = (
        tmp_path / "clinic-20261001T031500Z.sqlite3",
        tmp_path / "clinic-20261120T031500Z.sqlite3",
        tmp_path / "notes.txt",
    )
    for path, days in ((old, 36), (recent, 34), (other, 400)):
        path.write_text("x")
        stamp = (timezone.now() - dt.timedelta(days=days)).timestamp()
        os.utime(path, (stamp, stamp))

    call_command("backup")

    left = sorted(path.name for path in tmp_path.iterdir())
    assert old.name not in left
    assert recent.name in left and other.name in left
    assert len([name for name in left if name.startswith("clinic-")]) == 2


def make(*arguments, **variables) -> subprocess.CompletedProcess:
    assignments = [f"{key}={value}" for key, value in variables.items()]
    return subprocess.run(
        ["make", "--no-print-directory", "-s", *arguments, *assignments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_compose_make_targets_back_up_and_restore_through_the_db_containers_tools(tmp_path, postgres_database):
    """`make backup-compose` / `make restore-compose` with the container's `docker compose exec -T db` replaced
    by the same tools on this machine: the recipes' pipes, names and flags are the ones the operator runs."""
    seed_clinic()
    tables = seeded_tables()
    host = postgres_database.get("host", "127.0.0.1")
    port = postgres_database.get("port", 5432)
    run_in_db = f"env PGHOST={host} PGPORT={port}"
    backed_up = make(
        "backup-compose",
        BACKUP_DIR=tmp_path,
        COMPOSE_DB=run_in_db,
        POSTGRES_USER=postgres_database.get("user", "postgres"),
        POSTGRES_DB=connection.settings_dict["NAME"],
        GPG_RECIPIENT="",
    )
    assert backed_up.returncode == 0, backed_up.stderr
    written = Path(backed_up.stdout.strip())
    assert written.parent == tmp_path and written.name.startswith("clinic-") and written.suffix == ".dump"
    assert written.read_bytes()[:5] == b"PGDMP"

    restored = make(
        "restore-compose",
        FILE=written,
        COMPOSE_DB=run_in_db,
        POSTGRES_USER=postgres_database.get("user", "postgres"),
        RESTORE_DB=postgres_database["dbname"],
    )
    assert restored.returncode == 0, restored.stderr
    source_params = {**postgres_database, "dbname": connection.settings_dict["NAME"]}
    with psycopg.connect(**source_params) as source, psycopg.connect(**postgres_database) as copy:
        assert postgres_fingerprint(copy, tables) == postgres_fingerprint(source, tables)


@pytest.mark.postgres
def test_a_restore_into_a_database_that_does_not_exist_says_so_plainly(tmp_path):
    backup = tmp_path / "clinic.dump"
    backup.write_bytes(b"PGDMP")
    missing = {**connection.settings_dict, "NAME": f"clinic_missing_{uuid.uuid4().hex[:8]}"}
    url = postgres_url(
        {"user": missing["USER"], "host": missing["HOST"] or "127.0.0.1", "port": missing["PORT"] or 5432}
        | {"dbname": missing["NAME"]}
    )

    refused = manage("restore", str(backup), database_url=url)

    assert refused.returncode == 1
    assert f"Cannot reach the database {missing['NAME']}" in refused.stderr
    assert "Traceback" not in refused.stderr
