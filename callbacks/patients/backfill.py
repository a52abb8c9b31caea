"""Giving patients to requests stored without one (those from before patients existed, the bench's raw fill),
by the matching rule's grouping (`callbacks.patients.matching`): one patient per phone number and name key.

Set-based, for a clinic's whole history: on PostgreSQL two statements (a million requests take seconds, not a
loop of a million); elsewhere (SQLite, the tests) a plain loop. Only requests without a patient are touched, so it
can run again. No link history is written for these: the patient's page shows their requests, and each
request's history starts with the first change staff make.
"""

from callbacks.patients.matching import name_key

# The name key in SQL is `name_key` in Python: whitespace runs to one space, trimmed, lower case.
_POSTGRES = [
    r"""
    INSERT INTO callbacks_patient (name, name_key, phone, created_at)
    SELECT DISTINCT ON (phone, key) name, key, phone, created_at
    FROM (SELECT name, lower(btrim(regexp_replace(name, '\s+', ' ', 'g'))) AS key, phone, created_at
          FROM callbacks_callbackrequest WHERE patient_record_id IS NULL) AS r
    WHERE NOT EXISTS (SELECT 1 FROM callbacks_patient p WHERE p.phone = r.phone AND p.name_key = r.key)
    ORDER BY phone, key, created_at
    """,
    r"""
    UPDATE callbacks_callbackrequest AS r SET patient_record_id = p.id
    FROM callbacks_patient AS p
    WHERE r.patient_record_id IS NULL AND p.phone = r.phone
      AND p.name_key = lower(btrim(regexp_replace(r.name, '\s+', ' ', 'g')))
    """,
]


def patients_backfill(connection) -> int:
    """Give every request without a patient its patient (see above). Returns how many requests were given one."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_POSTGRES[0])
            cursor.execute(_POSTGRES[1])
            return cursor.rowcount
        cursor.execute(
            "SELECT id, name, phone, created_at FROM callbacks_callbackrequest WHERE patient_record_id IS NULL "
            "ORDER BY created_at, id"
        )
        rows = cursor.fetchall()
        patients: dict[tuple[str, str], int] = {}
        for request_id, name, phone, created_at in rows:
            key = (phone, name_key(name))
            if key not in patients:
                cursor.execute(
                    "SELECT id FROM callbacks_patient WHERE phone = %s AND name_key = %s ORDER BY id", list(key)
                )
                found = cursor.fetchone()
                if found is None:
                    cursor.execute(
                        "INSERT INTO callbacks_patient (name, name_key, phone, created_at) VALUES (%s, %s, %s, %s)",
                        [name, key[1], phone, created_at],
                    )
                    cursor.execute("SELECT max(id) FROM callbacks_patient")
                    found = cursor.fetchone()
                patients[key] = found[0]
            cursor.execute(
                "UPDATE callbacks_callbackrequest SET patient_record_id = %s WHERE id = %s", [patients[key], request_id]
            )
        return len(rows)
