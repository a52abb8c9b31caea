import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the first staff superuser with a generated password, if no superuser exists yet. "
        "The password is printed once and written to var/admin-password.txt (readable by you only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username, **options):
        users = get_user_model()
        if users.objects.filter(is_superuser=True).exists():
            return
        password = secrets.token_urlsafe(15)
        users.objects.create_superuser(username=username, email="", password=password)
        password_file = settings.VAR_DIR / "admin-password.txt"
        password_file.parent.mkdir(parents=True, exist_ok=True)
        password_file.touch(mode=0o600)
        password_file.write_text(f"{username} {password}\n")
        self.stdout.write(
            self.style.SUCCESS(
                f"\nCreated the staff superuser '{username}' with password: {password}\n"
                f"(also kept in {password_file}; change it after signing in)\n"
            )
        )
