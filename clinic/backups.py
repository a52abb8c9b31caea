"""Backing up and restoring the clinic's database: PostgreSQL with pg_dump/pg_restore, SQLite with its online
backup API (a copy of a live SQLite file can catch a write half-done; the backup API cannot).

A backup holds health data. With a GnuPG recipient it is encrypted to that public key before it touches the backup
directory (gpg runs on a private temporary file), and only the holder of the private key can restore it.
"""

import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

POSTGRES = "django.db.backends.postgresql"
SQLITE = "django.db.backends.sqlite3"
ENCRYPTED_SUFFIX = ".gpg"


class BackupError(Exception):
    """A backup or restore that did not happen, with a message for the operator (never a table's contents)."""


def backup_filename(*, database: Mapping[str, Any], now: dt.datetime) -> str:
    suffix = ".dump" if database["ENGINE"] == POSTGRES else ".sqlite3"
    return f"clinic-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}{suffix}"


def database_backup(*, database: Mapping[str, Any], path: Path, gpg_recipient: str = "") -> Path:
    """Write a consistent backup of ``database`` (a Django DATABASES entry) to ``path``; return the file written.

    With ``gpg_recipient`` the file written is ``path`` + ".gpg", encrypted to that key, and no unencrypted copy
    is left anywhere. The file appears only once it is complete (written beside it, then renamed).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    target = path.with_name(path.name + ENCRYPTED_SUFFIX) if gpg_recipient else path
    with tempfile.TemporaryDirectory(prefix="clinic-backup-") as work:
        plain = Path(work) / path.name
        _dump(database, plain)
        partial = target.with_name(f".{target.name}.partial")
        if gpg_recipient:
            encrypt = ["--recipient", gpg_recipient, "--trust-model", "always", "--output", str(partial), "--encrypt"]
            _gpg(encrypt, plain)
        else:
            shutil.copyfile(plain, partial)
        os.chmod(partial, 0o600)
        partial.replace(target)
    return target


def backups_prune(*, directory: Path, keep_days: int, now: dt.datetime) -> list[Path]:
    """Delete the backups (files named clinic-*) in ``directory`` last written more than ``keep_days`` days before
    ``now``; return them. ``keep_days`` 0 keeps everything."""
    if keep_days <= 0 or not Path(directory).is_dir():
        return []
    cutoff = (now - dt.timedelta(days=keep_days)).timestamp()
    pruned = [path for path in Path(directory).glob("clinic-*") if path.is_file() and path.stat().st_mtime < cutoff]
    for path in pruned:
        path.unlink()
    return sorted(pruned)


def database_restore(*, database: Mapping[str, Any], path: Path, replace: bool = False) -> None:
    """Restore the backup at ``path`` (encrypted when it ends in ".gpg") into ``database``.

    Refuses (BackupError, nothing changed) a database that already has tables unless ``replace``: a restore into
    the wrong database would otherwise overwrite it. PostgreSQL restores in one transaction, so a failed restore
    leaves the database as it was.
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    if not replace and database_tables(database):
        raise BackupError(
            f"The database {database['NAME']} is not empty. Restore into an empty database, or pass --replace "
            "to overwrite it."
        )
    with tempfile.TemporaryDirectory(prefix="clinic-restore-") as work:
        if path.name.endswith(ENCRYPTED_SUFFIX):
            plain = Path(work) / path.name.removesuffix(ENCRYPTED_SUFFIX)
            _gpg(["--output", str(plain), "--decrypt"], path)
            path = plain
        _load(database, path, replace=replace)


def database_tables(database: Mapping[str, Any]) -> list[str]:
    """The names of the tables in ``database``, read on a connection of its own (the database may be a new one)."""
    if database["ENGINE"] == POSTGRES:
        import psycopg

        try:
            with psycopg.connect(**_psycopg_params(database)) as conn:
                rows = conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
                ).fetchall()
        except psycopg.OperationalError as error:
            raise BackupError(f"Cannot reach the database {database['NAME']}: {error}") from error
        return [row[0] for row in rows]
    if database["ENGINE"] == SQLITE:
        if not str(database["NAME"]).startswith("file:") and not Path(database["NAME"]).exists():
            return []
        with _sqlite_connect(database["NAME"]) as conn:
            rows = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            ).fetchall()
        return [row[0] for row in rows]
    raise BackupError(f"Backups of {database['ENGINE']} are not supported.")


def _dump(database: Mapping[str, Any], path: Path) -> None:
    if database["ENGINE"] == POSTGRES:
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(path)], database)
    elif database["ENGINE"] == SQLITE:
        source_name = str(database["NAME"])
        if not source_name.startswith("file:") and not Path(source_name).exists():
            raise BackupError(f"No SQLite database at {source_name}.")
        with _sqlite_connect(source_name) as source, _sqlite_connect(path) as copy:
            source.backup(copy)
    else:
        raise BackupError(f"Backups of {database['ENGINE']} are not supported.")


def _load(database: Mapping[str, Any], path: Path, *, replace: bool) -> None:
    if database["ENGINE"] == POSTGRES:
        command = ["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
        if replace:
            command += ["--clean", "--if-exists"]
        _run([*command, str(path)], database, dbname_flag=True)
    elif database["ENGINE"] == SQLITE:
        with _sqlite_connect(path) as backup:
            if backup.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{path} is not an intact SQLite database.")
            # The backup API replaces the whole destination, pages and schema, in one step.
            with _sqlite_connect(database["NAME"]) as destination:
                backup.backup(destination)
    else:
        raise BackupError(f"Backups of {database['ENGINE']} are not supported.")


def _sqlite_connect(path) -> closing[sqlite3.Connection]:
    # sqlite3's own context manager commits but never closes: closing() releases the file.
    name = str(path)
    # A "file:" URI names a database SQLite shares between connections (the test suite's in-memory one).
    conn = sqlite3.connect(name, timeout=20, uri=name.startswith("file:"))
    # The schema's CHECK constraints call REGEXP, a function Django adds to its own connections; the integrity
    # check evaluates them.
    conn.create_function("REGEXP", 2, _regexp, deterministic=True)
    return closing(conn)


def _regexp(pattern: str, value: Any) -> bool:
    return value is not None and re.search(pattern, str(value)) is not None


def _psycopg_params(database: Mapping[str, Any]) -> dict[str, Any]:
    params = {"dbname": database["NAME"], "user": database.get("USER") or None}
    params.update(_pg_env(database))
    return {key: value for key, value in params.items() if value}


def _pg_env(database: Mapping[str, Any]) -> dict[str, str]:
    env = {}
    if database.get("HOST"):
        env["host"] = str(database["HOST"])
    if database.get("PORT"):
        env["port"] = str(database["PORT"])
    if database.get("PASSWORD"):
        env["password"] = str(database["PASSWORD"])
    return env


def _run(command: list[str], database: Mapping[str, Any], *, dbname_flag: bool = False) -> None:
    """Run a PostgreSQL client tool against ``database``; the password travels in the environment, not argv."""
    env = {**os.environ, **{f"PG{key.upper()}": value for key, value in _pg_env(database).items()}}
    if database.get("USER"):
        env["PGUSER"] = str(database["USER"])
    env["PGDATABASE"] = str(database["NAME"])
    if dbname_flag:
        command = [command[0], "--dbname", str(database["NAME"]), *command[1:]]
    executable = shutil.which(command[0])
    if executable is None:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL's client tools).")
    result = subprocess.run([executable, *command[1:]], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[-2000:]}")


def _gpg(arguments: list[str], path: Path) -> None:
    gpg = shutil.which("gpg")
    if gpg is None:
        raise BackupError("gpg is not installed: it is needed for encrypted backups.")
    result = subprocess.run([gpg, "--batch", "--yes", *arguments, str(path)], capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"gpg failed: {result.stderr.strip()[-2000:]}")
