"""Export questionnaires and patients' answers as FHIR R4 JSON.

``questionnaire`` needs intake alone; ``response`` lives here because only callbacks knows the requests'
references, and it is privacy-logged like every other export of patient data (hence ``--by``).
"""

import os
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from callbacks.models import CallbackRequest
from callbacks.privacy.services import callback_requests_fhir_export
from callbacks.requests.selectors import callback_requests_with_answers_flag
from intake.selectors import DefinitionNotFound, fhir_bundle, fhir_json, questionnaire_fhir, questionnaire_fhir_versions


class Command(BaseCommand):
    help = (
        "Print (or --output) a questionnaire definition as a FHIR Questionnaire, or requests' answers as "
        "QuestionnaireResponses (one resource, or a Bundle with --bundle, --all-versions, --all, several references "
        "or a request with follow-up answers)."
    )

    def add_arguments(self, parser):
        kinds = parser.add_subparsers(dest="kind", required=True)
        questionnaire = kinds.add_parser("questionnaire", help="a definition version as a Questionnaire")
        questionnaire.add_argument("slugs", nargs="+", metavar="slug", help="e.g. back-pain")
        questionnaire.add_argument("--version", type=int, help="the version (default: the current one)")
        questionnaire.add_argument(
            "--all-versions", action="store_true", help="every version of each slug, oldest first (a Bundle)"
        )
        response = kinds.add_parser("response", help="requests' answers as QuestionnaireResponses (logged)")
        response.add_argument("references", nargs="*", metavar="reference", help="e.g. CB-7KQ2M")
        response.add_argument(
            "--all", action="store_true", help="every request that has answers (its own or a follow-up's)"
        )
        response.add_argument("--by", required=True, help="the username of the member of staff exporting")
        response.add_argument("--with-names", action="store_true", help="put the patient's name in each resource")
        for sub in (questionnaire, response):
            sub.add_argument("--bundle", action="store_true", help="a Bundle even for a single resource")
            sub.add_argument(
                "--output", type=Path, help="write to this new file (readable by its owner only); never an existing one"
            )
            sub.add_argument(
                "--overwrite",
                action="store_true",
                help="with --output: replace an existing file (or link) by a new private file; never write through it",
            )

    def handle(self, *args, kind: str, output: Path | None, bundle: bool, overwrite: bool, **options):
        if output is None:
            self.stdout.write(self.text(kind, options, bundle))
            return
        if overwrite:
            text = self.text(kind, options, bundle)
            _file_replace_private(output, text + "\n")
        else:
            # Created before the export, so that an existing name is refused before anything is exported (and logged).
            descriptor = _file_create_private(output)
            try:
                text = self.text(kind, options, bundle)
            except BaseException:
                os.close(descriptor)
                output.unlink()
                raise
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(text + "\n")
        self.stderr.write(f"Wrote {output}.")

    def text(self, kind: str, options: dict, bundle: bool) -> str:
        if kind == "questionnaire":
            return self.questionnaires(options["slugs"], options["version"], bundle, options["all_versions"])
        return self.responses(options, bundle)

    def questionnaires(self, slugs: list[str], version: int | None, bundle: bool, all_versions: bool) -> str:
        if version is not None and all_versions:
            raise CommandError("--version and --all-versions do not go together")
        if version is not None and len(slugs) > 1:
            raise CommandError("--version goes with a single slug")
        try:
            if all_versions:
                resources = [resource for slug in slugs for resource in questionnaire_fhir_versions(slug=slug)]
            else:
                resources = [questionnaire_fhir(slug=slug, version=version) for slug in slugs]
        except DefinitionNotFound as error:
            raise CommandError(str(error)) from None
        bundle = bundle or all_versions
        resource = resources[0] if len(resources) == 1 and not bundle else fhir_bundle(resources=resources)
        return fhir_json(resource=resource)

    def responses(self, options: dict, bundle: bool) -> str:
        references, every = options["references"], options["all"]
        if bool(references) == every:
            raise CommandError("name the requests' references, or --all (not both)")
        actor = self.actor(options["by"])
        requests = callback_requests_with_answers_flag(
            CallbackRequest.objects.select_related("questionnaire_response").order_by("created_at")
        )
        if every:
            requests = requests.filter(has_answers=True)
        else:
            requests = requests.filter(reference__in=[reference.upper() for reference in references])
            missing = sorted({reference.upper() for reference in references} - {r.reference for r in requests})
            if missing:
                raise CommandError(f"no request with the reference {', '.join(missing)}")
            without = [r.reference for r in requests if not r.has_answers]
            if without:
                raise CommandError(f"no questionnaire answers for {', '.join(without)}; nothing exported")
        export = callback_requests_fhir_export(
            requests=requests, actor=actor, bundle=bundle or every, with_names=options["with_names"]
        )
        if not export.references:
            raise CommandError("no request has questionnaire answers; nothing exported")
        return export.content.decode()

    def actor(self, username: str):
        """The member of staff the privacy log names: an active account allowed to export patient data."""
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None or not user.has_perm("callbacks.export_patient_data"):
            raise CommandError(f"--by: {username!r} is not an active account allowed to export patient data")
        return user


def _file_create_private(path: Path) -> int:
    """A new file readable by its owner only, opened for writing. Health data: an existing file (whose
    permissions others may read) or a symbolic link (which could point anywhere) is refused, never written
    through, the link even when it points nowhere."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise CommandError(f"{path} exists already; nothing written (--overwrite replaces it)") from None
    except OSError as error:
        raise CommandError(f"{path}: cannot be created ({error.strerror or error}); nothing written") from None


def _file_replace_private(path: Path, text: str) -> None:
    """Write ``text`` to a new private file beside ``path`` and rename it over ``path``: an existing file is
    replaced (its permissions go with it) and a link is replaced, not followed."""
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise CommandError(f"{path}: cannot be written ({error.strerror or error}); nothing written") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except OSError as error:
        raise CommandError(f"{path}: cannot be written ({error.strerror or error}); nothing written") from None
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)
