"""Setting up a practitioner's weekly hours without typing each day: copy one day's blocks to other days."""

import logging
from collections.abc import Iterable

from django.db import transaction

from callbacks.models import Practitioner, WorkingHours

logger = logging.getLogger(__name__)


@transaction.atomic
def working_hours_copy(*, practitioner: Practitioner, from_weekday: int, to_weekdays: Iterable[int]) -> int:
    """Give each day of ``to_weekdays`` exactly the blocks of ``from_weekday`` ("same hours Monday to Friday").

    The target days' own blocks are replaced, all in one transaction. Copying from a day without hours clears
    the target days. Returns how many blocks were written.
    """
    targets = sorted({int(day) for day in to_weekdays} - {from_weekday})
    blocks = list(practitioner.working_hours.filter(weekday=from_weekday).order_by("start"))
    practitioner.working_hours.filter(weekday__in=targets).delete()
    created = WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=practitioner, weekday=day, start=block.start, end=block.end)
        for day in targets
        for block in blocks
    )
    logger.info("practitioner %s: hours of day %s copied to days %s", practitioner.pk, from_weekday, targets)
    return len(created)
