"""Write the JSON Schema of a questionnaire definition file, or check that the committed copy is current."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from intake.definitions.schema import definition_json_schema_text

SCHEMA_PATH = Path(settings.BASE_DIR) / "docs" / "questionnaire-definition.schema.json"


class Command(BaseCommand):
    help = "Write the JSON Schema of questionnaire definition files to docs/ (or --check that it is current)."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=SCHEMA_PATH, help=f"where to write (default {SCHEMA_PATH})")
        parser.add_argument(
            "--check", action="store_true", help="write nothing; fail when the file differs from the models"
        )

    def handle(self, *args, output: Path, check: bool, **options):
        text = definition_json_schema_text()
        if check:
            current = output.read_text(encoding="utf-8") if output.exists() else None
            if current != text:
                raise CommandError(f"{output} is out of date: run `manage.py questionnaire_schema` and commit it")
            self.stdout.write(f"{output} is up to date.")
            return
        output.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {output}.")
