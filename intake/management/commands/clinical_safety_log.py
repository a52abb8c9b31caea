"""Write the clinical safety hazard log (docs/CLINICAL_SAFETY.md), or check that the committed copy is true."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from intake.definitions import DefinitionError
from intake.hazards import hazard_log_markdown, hazard_log_problems

LOG_PATH = Path(settings.BASE_DIR) / "docs" / "CLINICAL_SAFETY.md"


class Command(BaseCommand):
    help = (
        "Write the DCB0129-shaped hazard log of every questionnaire definition to docs/CLINICAL_SAFETY.md "
        "(or --check that it is current, that every rule has a hazard and every cited test exists)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=LOG_PATH, help=f"where to write (default {LOG_PATH})")
        parser.add_argument("--check", action="store_true", help="write nothing; fail when the log is not true")

    def handle(self, *args, output: Path, check: bool, **options):
        try:
            problems = hazard_log_problems()
            text = hazard_log_markdown()
        except DefinitionError as error:
            raise CommandError(str(error)) from None
        if problems:
            raise CommandError("The hazard log is not true:\n" + "\n".join(f"  {problem}" for problem in problems))
        if check:
            current = output.read_text(encoding="utf-8") if output.exists() else None
            if current != text:
                raise CommandError(f"{output} is out of date: run `manage.py clinical_safety_log` and commit it")
            self.stdout.write(f"{output} is up to date.")
            return
        output.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {output}.")
