import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run the whole site on the embedded defaults: migrate, create the first staff user, load the articles and "
        "(on the local SQLite database, when it has no service yet) a demo clinic to book, then start a Celery "
        "worker, Celery beat and the web server on http://127.0.0.1:8000."
    )

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("ensure_admin")
        if settings.ADMIN_REQUIRE_2FA:
            # Two-factor sign-in is on here too: give the first admin an authenticator (printed once, with a QR).
            call_command("staff_totp_enrol", "admin", "--if-missing")
        call_command("load_articles")
        if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
            call_command("load_demo_clinic")
        celery = [sys.executable, "-m", "celery", "-A", "clinic"]
        # The links in e-mails lead to this server unless SITE_URL says otherwise (another --addrport included).
        environment = {**os.environ, "SITE_URL": os.environ.get("SITE_URL") or f"http://{addrport}"}
        # Fixed argument lists, no shell and no user input.
        children = [
            subprocess.Popen(
                [*celery, "worker", "--loglevel=INFO", "--concurrency=2", "--without-mingle", "--without-gossip"],
                env=environment,
            ),
            # The urgent lane's own worker (callbacks/notifications/lanes.py), as in docker-compose.yml.
            subprocess.Popen(
                [
                    *celery,
                    "worker",
                    "--loglevel=INFO",
                    "--concurrency=1",
                    "--queues=urgent",
                    "--hostname=urgent@%h",
                    "--without-mingle",
                    "--without-gossip",
                ],
                env=environment,
            ),
            subprocess.Popen([*celery, "beat", "--loglevel=INFO"], env=environment),
        ]
        self.stdout.write(
            f"\nSite: http://{addrport}/   Staff admin: http://{addrport}/{settings.ADMIN_URL_PATH}\n"
            f"E-mails are written to {settings.EMAIL_FILE_PATH}\n"
            + (f"Texts are written to {settings.SMS_FILE_PATH}\n" if settings.SMS_BACKEND == "file" else "")
        )
        try:
            subprocess.run([sys.executable, "manage.py", "runserver", addrport], check=False, env=environment)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                child.wait(timeout=30)
