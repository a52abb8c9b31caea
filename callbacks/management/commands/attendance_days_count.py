"""Count the attendance figures' days now, rather than leave them to the beat job and the pages.

    python manage.py attendance_days_count            # every stale or missing day of the window
    python manage.py attendance_days_count --recount  # every day of the window, current or not

``--recount`` is for after a change made outside the models (raw SQL, a restore), which marks nothing stale.
"""

import time

from django.core.management.base import BaseCommand

from callbacks.booking.attendance_days import attendance_days_count, attendance_days_window


class Command(BaseCommand):
    help = "Count the attendance figures' stale or missing days of the last ATTENDANCE_DAYS_WINDOW days."

    def add_arguments(self, parser):
        parser.add_argument("--recount", action="store_true", help="count every day of the window again")

    def handle(self, *args, recount: bool, **options):
        started = time.perf_counter()
        counted = attendance_days_count(limit=attendance_days_window(), recount=recount)
        self.stdout.write(f"{counted} day(s) counted in {time.perf_counter() - started:.1f} s.")
