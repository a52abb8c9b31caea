"""The database itself refuses to change a row of a request's history, a call attempt or a note.

The models refuse it in Python already; this closes the other doors (a raw UPDATE, a shell, a bulk update).
Deleting stays possible, because the retention purge deletes a request together with its records.
"""

from django.db import migrations

TABLES = ("callbacks_requestevent", "callbacks_callattempt", "callbacks_staffnote")
MESSAGE = "append-only table: rows cannot be changed"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION callbacks_refuse_update() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END; $$ LANGUAGE plpgsql"
        )
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION callbacks_refuse_update()"
            )
    elif vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}")
        elif vendor == "sqlite":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS callbacks_refuse_update()")


class Migration(migrations.Migration):
    dependencies = [("callbacks", "0002_triage_and_intake")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
