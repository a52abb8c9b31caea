"""A working demo clinic for a fresh `make run`: one service, two practitioners and their weekly hours."""

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from callbacks.models import Practitioner, Service, WorkingHours

DEMO_SERVICE = "Initial assessment (demo)"
DEMO_DESCRIPTION = "Demo data loaded by `make run`: a first 45-minute look at your back. Replace it in the admin."
# (name, weekday -> (from, until)); Monday is 0. Within the embedded default opening hours.
DEMO_PRACTITIONERS = [
    ("Demo physiotherapist: Sam Rivers", {day: (dt.time(9), dt.time(17)) for day in range(5)}),
    (
        "Demo physiotherapist: Alex Moor",
        {0: (dt.time(10), dt.time(16)), 2: (dt.time(10), dt.time(16)), 5: (dt.time(9), dt.time(13))},
    ),
]


class Command(BaseCommand):
    help = (
        "Load a demo clinic (a service, two practitioners, their hours), named as demo data, so that online "
        "booking works on a fresh local run. Only on the embedded defaults (SQLite), and only when the clinic has "
        "no service yet; skip it by not running it (make run does)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-any-database", action="store_true", help="Load even when the database is not the local SQLite."
        )

    def handle(self, *args, allow_any_database=False, **options):
        engine = settings.DATABASES["default"]["ENGINE"]
        if engine != "django.db.backends.sqlite3" and not allow_any_database:
            raise CommandError("The demo clinic is for the embedded defaults (SQLite) only; this is not that database.")
        if Service.objects.exists():
            self.stdout.write("The clinic already has services: no demo data added.")
            return
        with transaction.atomic():
            service = Service.objects.create(name=DEMO_SERVICE, description=DEMO_DESCRIPTION, duration_minutes=45)
            for name, hours in DEMO_PRACTITIONERS:
                practitioner = Practitioner.objects.create(name=name)
                practitioner.services.add(service)
                WorkingHours.objects.bulk_create(
                    WorkingHours(practitioner=practitioner, weekday=day, start=start, end=end)
                    for day, (start, end) in hours.items()
                )
        self.stdout.write(f"Demo clinic loaded: {service.name} with {len(DEMO_PRACTITIONERS)} practitioners.")
