from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run once per deploy, before the web and worker processes start: migrate, load the articles, and count the"
        " attendance figures' days not yet counted (so the first staff page after a deploy counts none)."
    )

    def handle(self, *args, **options):
        call_command("migrate", interactive=False)
        if "load_articles" in get_commands():
            call_command("load_articles")
        if "attendance_days_count" in get_commands():
            call_command("attendance_days_count")
