from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from clinic.backups import BackupError, database_restore


class Command(BaseCommand):
    help = (
        "Restore a backup written by `manage.py backup` (decrypted with gpg when it ends in .gpg) into the "
        "database (DATABASE_URL). Refuses a database that already has tables unless --replace."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file (.dump, .sqlite3, or either with .gpg).")
        parser.add_argument("--database", default="default", help="Which DATABASES entry (default: default).")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Overwrite a database that already has tables (stop the web, worker and beat processes first).",
        )

    def handle(self, *args, path, database="default", replace=False, **options):
        settings_dict = connections[database].settings_dict
        connections[database].close()
        try:
            database_restore(database=settings_dict, path=path, replace=replace)
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Restored {path} into {settings_dict['NAME']}.")
