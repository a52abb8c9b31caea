"""Import a FHIR Questionnaire (e.g. made with LHC-Forms) as a new questionnaire definition version."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from intake.services import questionnaire_import


class Command(BaseCommand):
    help = (
        "Read a FHIR R4 Questionnaire (JSON) as the next version of a questionnaire definition and write its file "
        "under intake/definitions/, or explain what cannot be expressed. Nothing is written unless all of it can."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the Questionnaire, as JSON")
        parser.add_argument("--slug", help="the questionnaire's slug (default: from the file's identifier or name)")
        parser.add_argument("--directory", type=Path, help="the definitions directory (default: intake's own)")
        parser.add_argument("--dry-run", action="store_true", help="show the definition file; write nothing")

    def handle(self, *args, file: Path, slug: str | None, directory: Path | None, dry_run: bool, **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"{file}: cannot be read ({error.strerror or error})") from None
        try:
            imported = questionnaire_import(data=data, slug=slug, directory=directory, dry_run=dry_run)
        except FileExistsError:
            raise CommandError(f"{file}: a definition file of that version exists already; nothing written") from None
        for note in imported.found.notes:
            self.stderr.write(f"note: {note}")
        if imported.problems:
            lines = "\n".join(f"  - {problem}" for problem in imported.problems)
            raise CommandError(f"{file} cannot be imported; nothing was written:\n{lines}")
        if dry_run:
            self.stdout.write(imported.text)
            self.stderr.write(f"Would write {imported.path} ({imported.slug}/v{imported.version}).")
            return
        self.stdout.write(f"Wrote {imported.path} ({imported.slug}/v{imported.version}). Review it before use.")
