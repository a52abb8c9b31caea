from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone

from clinic.backups import BackupError, backup_filename, backups_prune, database_backup


class Command(BaseCommand):
    help = (
        "Back up the database (DATABASE_URL): pg_dump's custom format for PostgreSQL, the online backup API for "
        "SQLite. Encrypted to CLINIC_BACKUP_GPG_RECIPIENT's public key when that is set. Written to "
        "CLINIC_BACKUP_DIR, where backups older than CLINIC_BACKUP_KEEP_DAYS are then deleted. Prints the file written."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            help="The backup file to write (default: a dated file in CLINIC_BACKUP_DIR, e.g. "
            "var/backups/clinic-20261207T031500Z.dump). With --output, no older backup is deleted.",
        )
        parser.add_argument("--database", default="default", help="Which DATABASES entry (default: default).")
        parser.add_argument(
            "--gpg-recipient",
            default=None,
            help="Encrypt to this GnuPG key (default: CLINIC_BACKUP_GPG_RECIPIENT; empty: not encrypted).",
        )

    def handle(self, *args, output=None, database="default", gpg_recipient=None, **options):
        settings_dict = connections[database].settings_dict
        if gpg_recipient is None:
            gpg_recipient = settings.CLINIC_BACKUP_GPG_RECIPIENT
        path = (
            Path(output)
            if output
            else Path(settings.CLINIC_BACKUP_DIR) / backup_filename(database=settings_dict, now=timezone.now())
        )
        try:
            written = database_backup(database=settings_dict, path=path, gpg_recipient=gpg_recipient)
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(str(written))
        if not output:
            for pruned in backups_prune(
                directory=settings.CLINIC_BACKUP_DIR, keep_days=settings.CLINIC_BACKUP_KEEP_DAYS, now=timezone.now()
            ):
                self.stdout.write(f"deleted {pruned} (older than {settings.CLINIC_BACKUP_KEEP_DAYS} days)")
