"""What the booking services announce to the layers above them without knowing those layers.

`slot_freed` is sent inside the transaction that frees a practitioner's time (a cancellation, a decline, an
appointment moved away), so that whatever the receivers write (the waitlist's offers and their outbox rows)
commits or rolls back with the change itself. Receivers get the practitioner's id and the freed times only.
"""

import datetime as dt

from django.dispatch import Signal

slot_freed = Signal()


def slot_freed_announce(*, practitioner_id: int, starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    slot_freed.send(sender=None, practitioner_id=practitioner_id, starts_at=starts_at, ends_at=ends_at)
