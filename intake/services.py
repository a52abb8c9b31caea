"""Writers of intake data. Callers hand in answers; these functions validate, judge and store them.

With `intake.selectors` this is intake's public API: `callbacks` imports nothing else of intake (an import-linter
contract keeps it so). Besides its own writers it offers what a patient page needs to collect and keep answers
as they come: the forms that clean a step's answers, the session progress and its savers, and the error raised
for answers that do not fit.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from intake.answers import AnswersInvalid, answers_clean
from intake.definitions import AnswerType, Definition, Step, Tier, tier_highest
from intake.definitions.registry import definition_directories, definitions_registry
from intake.definitions.types import MULTI_TYPES, NUMBER_TYPES
from intake.fhir import QuestionnaireImport, definition_text_matches, definition_yaml, questionnaire_from_fhir
from intake.flow import (
    Progress,
    progress_answers_keep,
    progress_rechecks_save,
    progress_step_save,
    step_done,
    steps_asked,
)
from intake.forms import StepForm
from intake.models import Answer, AnswerChoice, QuestionnaireResponse, ResponseRevision
from intake.screening.forms import FIELD_PREFIX, RecheckForm, recheck_answers, recheck_fields
from intake.triage import triage_compute

logger = logging.getLogger(__name__)

__all__ = [
    "FIELD_PREFIX",
    "AnswersInvalid",
    "Progress",
    "QuestionnaireAnswers",
    "QuestionnaireImported",
    "RecheckForm",
    "StepForm",
    "progress_answers_keep",
    "progress_rechecks_save",
    "progress_step_save",
    "questionnaire_import",
    "questionnaire_response_create",
    "questionnaire_response_step_save",
    "questionnaire_responses_delete",
    "recheck_answers",
    "recheck_fields",
]


@dataclass(frozen=True)
class QuestionnaireAnswers:
    """A patient's answers to one definition version, ready to be stored with whatever they came with.

    ``complete`` is False when the patient stopped at the emergency advice and sent their request from there.
    """

    definition: Definition
    answers: Mapping[str, Any] = field(default_factory=dict)
    complete: bool = True
    # Safety questions asked again (question id -> answer), and text given with the answers that
    # is not a question of the definition (the request's reason): both are read for red flags by triage.
    rechecks: Mapping[str, bool] = field(default_factory=dict)
    other_text: Mapping[str, str] = field(default_factory=dict)


@transaction.atomic
def questionnaire_response_create(
    *,
    definition: Definition,
    answers: Mapping[str, Any],
    complete: bool = True,
    rechecks: Mapping[str, bool] | None = None,
    other_text: Mapping[str, str] | None = None,
) -> QuestionnaireResponse:
    """Validate ``answers`` against ``definition``, triage and score them, and store it all at once.

    Guarantees: the stored response names the exact definition version; every kept answer is one `Answer`
    row in its typed column (and one `AnswerChoice` row per chosen option); answers to questions hidden by
    `show_if` are dropped; the stored tier and reasons are those of the stored answers. Raises
    `intake.answers.AnswersInvalid` (nothing stored) when an answer does not fit. With ``complete=False``
    required questions may be missing: the patient sent the request from the emergency advice page.
    ``rechecks`` and ``other_text`` are read for red flags too (`intake.screening`); their findings are kept in
    the stored reasons, which only staff read.
    """
    cleaned = answers_clean(definition=definition, answers=answers, complete=complete)
    result = triage_compute(definition=definition, answers=cleaned, rechecks=rechecks, other_text=other_text)
    response = QuestionnaireResponse.objects.create(
        questionnaire=definition.slug,
        definition_version=definition.version,
        tier=result.tier,
        triage_reasons=result.reasons_json(),
        scores=result.scores_json(),
        is_complete=complete,
        rechecks=dict(rechecks or {}),
    )
    _answers_store(response=response, definition=definition, cleaned=cleaned)
    # Ids and the tier only: never an answer in the log.
    logger.info("questionnaire response %s stored (%s, tier %s)", response.pk, definition.key, response.tier)
    return response


@dataclass(frozen=True)
class StepSaved:
    """What saving one more page of answers did: the tier before and after (never lower), complete or not."""

    response: QuestionnaireResponse
    tier_before: Tier
    tier: Tier

    @property
    def tier_rose(self) -> bool:
        return self.tier.rank > self.tier_before.rank


@transaction.atomic
def questionnaire_response_step_save(
    *,
    response_id: int,
    step: Step | None,
    step_answers: Mapping[str, Any] | None = None,
    rechecks: Mapping[str, bool] | None = None,
    other_text: Mapping[str, str] | None = None,
    messages: Mapping[str, str] | None = None,
) -> StepSaved:
    """Store one step's answers on a stored response (replacing that step's earlier answers) and re-triage.

    With ``rechecks`` (and no step), store the patient's answers to safety questions asked again: a yes is a yes
    to the question itself, so its rule (and advice) applies; either answer is kept for staff. ``other_text`` is
    the text that came with the request (its reason), read for red flags again. ``messages`` are messages the
    patient sent later (a text message, keyed "message_<id>"), read for red flags at the tier of the safety
    question a finding points at, for staff only (`intake.triage.triage_compute`).

    Guarantees: the response row is locked while it changes, so two pages sent at once do not lose either;
    the answers are checked against the version the response answered (`AnswersInvalid`, nothing stored, when
    they do not fit); the tier can rise and never falls (the reasons already recorded are kept); the response
    is marked complete once every asked step is answered. Answers are never overwritten: when the new answers
    change or drop one already stored (a part answered again, a safety question answered "yes" where it was
    "no"), the answers they replace are kept as a `ResponseRevision` and the response's version counts up;
    answers only added keep the version.
    """
    response = QuestionnaireResponse.objects.select_for_update().get(pk=response_id)
    definition = response.definition
    ids = {question.id for question in step.questions} if step is not None else set()
    stored = {answer.question_id: answer.value for answer in response.answers.all()}
    stored_rechecks = dict(response.rechecks or {})
    answers = {key: value for key, value in stored.items() if key not in ids}
    answers.update({key: value for key, value in (step_answers or {}).items() if key in ids})
    all_rechecks = dict(response.rechecks or {})
    for question_id, said_yes in (rechecks or {}).items():
        if question_id in definition.question_map:
            all_rechecks[question_id] = bool(said_yes)
            if said_yes:
                answers[question_id] = True
    cleaned = answers_clean(definition=definition, answers=answers, complete=False)
    result = triage_compute(
        definition=definition, answers=cleaned, rechecks=all_rechecks, other_text=other_text, messages=messages
    )
    before = Tier(response.tier)
    now = timezone.now()
    if _answers_replaced(stored, cleaned) or _answers_replaced(stored_rechecks, all_rechecks):
        ResponseRevision.objects.create(
            response=response,
            version=response.version,
            answers=stored,
            rechecks=stored_rechecks,
            tier=response.tier,
            triage_reasons=response.triage_reasons,
            answered_at=response.answered_at,
            replaced_at=now,
        )
        response.version += 1
        response.answered_at = now
    # The latest account of each rule replaces the earlier one (a re-asked question adds its answer); a rule
    # that no longer matches keeps its earlier reason, since the tier it gave is kept.
    latest = {reason["rule_id"]: reason for reason in result.reasons_json()}
    earlier = [r for r in (response.triage_reasons or []) if isinstance(r, dict) and r.get("rule_id") not in latest]
    response.tier = tier_highest(before, result.tier)
    response.triage_reasons = [*latest.values(), *earlier]
    response.scores = result.scores_json()
    response.rechecks = all_rechecks
    response.is_complete = all(
        step_done(step=asked, answers=cleaned) for asked in steps_asked(definition=definition, answers=cleaned)
    )
    if _answers_replaced(cleaned, stored) or _answers_replaced(all_rechecks, stored_rechecks):
        response.answered_at = now  # an answer was added; a changed one set it above
    response.save(
        update_fields=["tier", "triage_reasons", "scores", "is_complete", "rechecks", "version", "answered_at"]
    )
    response.answers.all().delete()
    _answers_store(response=response, definition=definition, cleaned=cleaned)
    logger.info(
        "questionnaire response %s: %s stored (tier %s)", response.pk, step.id if step else "rechecks", response.tier
    )
    return StepSaved(response=response, tier_before=before, tier=Tier(response.tier))


def _answers_replaced(stored: Mapping[str, Any], kept: Mapping[str, Any]) -> bool:
    """Whether keeping ``kept`` would change or drop any of the ``stored`` answers (adding some does not)."""
    return any(key not in kept or _same(kept[key]) != _same(value) for key, value in stored.items())


def _same(value: Any) -> Any:
    # The options of a multiple choice are one answer in whatever order they were ticked.
    return sorted(value) if isinstance(value, list) else value


def _answers_store(*, response: QuestionnaireResponse, definition: Definition, cleaned: Mapping[str, Any]) -> None:
    positions = {question.id: index for index, question in enumerate(definition.questions)}
    rows = [
        _answer_row(response=response, definition=definition, question_id=qid, value=value, position=positions[qid])
        for qid, value in cleaned.items()
    ]
    Answer.objects.bulk_create(rows)
    choices = [
        AnswerChoice(answer=row, question_id=row.question_id, value=value)
        for row in rows
        if row.value_choices
        for value in row.value_choices
    ]
    AnswerChoice.objects.bulk_create(choices)


def _answer_row(
    *, response: QuestionnaireResponse, definition: Definition, question_id: str, value: Any, position: int
) -> Answer:
    answer_type = definition.question(question_id).type
    row = Answer(response=response, question_id=question_id, answer_type=answer_type.value, position=position)
    if answer_type is AnswerType.YES_NO:
        row.value_bool = value
    elif answer_type in NUMBER_TYPES:
        row.value_int = value
    elif answer_type in MULTI_TYPES:
        row.value_choices = list(value)
    else:
        row.value_text = value
    return row


def questionnaire_responses_delete(*, response_ids: Iterable[int | None]) -> int:
    """Delete these responses with every answer stored for them (a patient's erasure, the retention purge).

    Ids of responses already gone are ignored. Returns how many responses were deleted. Call it after deleting
    what protects a response (a callback request), in the same transaction.
    """
    ids = [response_id for response_id in response_ids if response_id is not None]
    if not ids:
        return 0
    _, per_model = QuestionnaireResponse.objects.filter(pk__in=ids).delete()
    return per_model.get(QuestionnaireResponse._meta.label, 0)


@dataclass(frozen=True)
class QuestionnaireImported:
    """The outcome of importing a FHIR Questionnaire: the file written (or that would be), or why not."""

    found: QuestionnaireImport
    slug: str = ""
    version: int = 0
    path: Path | None = None
    text: str = ""
    written: bool = False

    @property
    def problems(self) -> tuple[str, ...]:
        return self.found.problems


TEXT_MISMATCH = "the definition file's text does not read back as the definition imported (nothing was written)"


def questionnaire_import(
    *, data: str | bytes, slug: str | None = None, directory: Path | None = None, dry_run: bool = False
) -> QuestionnaireImported:
    """Read a FHIR Questionnaire as the next version of a definition and, unless ``dry_run``, write its file.

    Guarantees: nothing is written when anything cannot be expressed or any string holds a control character
    or a line break where the file cannot hold one (``problems`` says what), nor when the file's text would not
    read back as exactly the definition imported; a written file
    is complete (written aside, then renamed into place) and never replaces an existing one; the version is one
    above the highest of that slug in the registry. ``directory`` defaults to the first definitions directory.
    """
    found = questionnaire_from_fhir(data, version=1, slug=slug)
    if found.definition is None:
        return QuestionnaireImported(found=found)
    slug = found.definition["slug"]
    version = max(definitions_registry().versions(slug), default=0) + 1
    # The version is a number the checks only want positive: it is set once the slug is known.
    definition = {**found.definition, "version": version}
    path = (directory or definition_directories()[0]) / slug / f"v{version}.yaml"
    text = definition_yaml(definition, source=_fhir_source(data))
    # The file is code the registry will load: it must say exactly what was imported, nothing more or less.
    if not definition_text_matches(text, definition):
        refused = QuestionnaireImport(definition=None, problems=(TEXT_MISMATCH,), notes=found.notes)
        return QuestionnaireImported(found=refused, slug=slug, version=version, path=path)
    imported = QuestionnaireImported(found=found, slug=slug, version=version, path=path, text=text)
    if dry_run:
        return imported
    _file_write_new(path, text)
    definitions_registry.cache_clear()
    logger.info("questionnaire %s/v%s imported from FHIR", slug, version)
    return QuestionnaireImported(found=found, slug=slug, version=version, path=path, text=text, written=True)


def _fhir_source(data: str | bytes) -> str:
    raw = json.loads(data)
    url, version = raw.get("url") or raw.get("id") or "without a url", raw.get("version")
    return f"{url}|{version}" if version else url


def _file_write_new(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".import-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        # A hard link fails when the name exists, so a file of the same version is never replaced.
        os.link(temporary, path)
    finally:
        os.unlink(temporary)
