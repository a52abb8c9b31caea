"""Readers of intake data, for staff screens and for the callbacks flow.

With `intake.services` this is intake's public API: besides the readers of stored responses it offers the
questionnaire definitions (types and look-ups) and the questions about a patient's progress through one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from intake.answers import answers_read
from intake.conditions import condition_subjects
from intake.definitions import (
    BACK_PAIN,
    OUTCOMES,
    AnswerType,
    Definition,
    DefinitionNotFound,
    Question,
    Step,
    Tier,
    definition_current,
    definition_get,
    definitions_registry,
)
from intake.fhir import questionnaire_to_fhir, resource_json, resources_bundle, response_to_fhir
from intake.flow import (
    answers_tier,
    progress_first_open_screening_step,
    progress_first_open_step,
    progress_is_emergency,
    progress_rechecks,
    progress_step_reachable,
    step_done,
    step_get,
    step_neighbours,
    steps_asked,
    steps_screening,
)
from intake.models import QuestionnaireResponse
from intake.screening import Recheck, screening_rechecks
from intake.triage import MESSAGE_PREFIX, POSSIBLE_RED_FLAG, TIER_PRIORITY, Reason, reasons_advice_tier, triage_compute

__all__ = [
    "BACK_PAIN",
    "MESSAGE_PREFIX",
    "OUTCOMES",
    "AnswerType",
    "Definition",
    "DefinitionNotFound",
    "Question",
    "Step",
    "Tier",
    "answers_tier",
    "definition_current",
    "definition_get",
    "fhir_bundle",
    "fhir_json",
    "possible_red_flag_q",
    "progress_first_open_screening_step",
    "progress_first_open_step",
    "progress_is_emergency",
    "progress_rechecks",
    "progress_step_reachable",
    "questionnaire_fhir",
    "questionnaire_fhir_versions",
    "questionnaire_response_advice_priority",
    "questionnaire_response_answers",
    "questionnaire_response_fhir",
    "questionnaire_response_message_priority",
    "questionnaire_response_progress",
    "questionnaire_response_rechecks",
    "questionnaire_response_score_values",
    "questionnaire_response_staff_priority",
    "questionnaire_response_summary",
    "questionnaire_step_known_answers",
    "step_get",
    "step_neighbours",
    "steps_asked",
    "steps_screening",
]


@dataclass(frozen=True)
class SummaryLine:
    question_id: str
    step_title: str
    question_text: str
    answer_text: str
    # The most serious tier of the rules this answer triggered, or None.
    flag_tier: Tier | None
    flag_reasons: tuple[str, ...] = ()

    @property
    def is_red_flag(self) -> bool:
        return self.flag_tier in (Tier.EMERGENCY, Tier.URGENT)


@dataclass(frozen=True)
class ReasonLine:
    """One triage reason as staff read it: the rule's words, the answers that triggered it, its source."""

    tier: Tier
    text: str
    source: str
    # "Question as asked: answer" for each answer the rule rested on.
    answers: tuple[str, ...]
    rule_id: str = ""

    @property
    def is_red_flag(self) -> bool:
        return self.tier in (Tier.EMERGENCY, Tier.URGENT)

    @property
    def is_possible_red_flag(self) -> bool:
        """Found in the patient's own words or in answers contradicting a safety answer (`intake.screening`)."""
        return self.rule_id.startswith(f"{POSSIBLE_RED_FLAG}.")


@dataclass(frozen=True)
class EarlierVersion:
    """An earlier version of a response's answers, replaced by the patient's correction: what it said, with the
    answers the correction changed or dropped marked."""

    version: int
    answered_at: Any
    replaced_at: Any
    tier: Tier
    lines: tuple[SummaryLine, ...]
    changed: tuple[str, ...]  # question ids whose answer the next version changed or dropped


@dataclass(frozen=True)
class ResponseSummary:
    title: str
    definition_key: str
    tier: Tier
    reasons: tuple[Reason, ...]
    # Flagged answers first (most serious first), then the rest in the order they were asked.
    lines: tuple[SummaryLine, ...]
    scores: tuple[dict[str, Any], ...]
    is_complete: bool
    reason_lines: tuple[ReasonLine, ...] = ()
    # How much was answered, by step: the titles of the steps answered and of those still open.
    parts_answered: tuple[str, ...] = ()
    parts_remaining: tuple[str, ...] = ()
    # The current version of the answers (1 until the patient corrects one), when it was last answered, and the
    # versions it replaced, newest first.
    version: int = 1
    answered_at: Any = None
    earlier_versions: tuple[EarlierVersion, ...] = ()

    @property
    def parts_total(self) -> int:
        return len(self.parts_answered) + len(self.parts_remaining)

    @property
    def red_flags(self) -> tuple[SummaryLine, ...]:
        return tuple(line for line in self.lines if line.is_red_flag)

    @property
    def possible_red_flags(self) -> tuple[ReasonLine, ...]:
        return tuple(line for line in self.reason_lines if line.is_possible_red_flag)


@dataclass(frozen=True)
class ResponseProgress:
    """Which steps of a stored response are answered and which remain, in the order they are asked."""

    answered: tuple[Step, ...]
    remaining: tuple[Step, ...]

    @property
    def total(self) -> int:
        return len(self.answered) + len(self.remaining)


def questionnaire_response_progress(*, response: QuestionnaireResponse) -> ResponseProgress:
    """How much of the questionnaire the patient has answered (shows no answer, only the steps)."""
    definition = response.definition
    answers = questionnaire_response_answers(response=response)
    asked = steps_asked(definition=definition, answers=answers)
    answered = tuple(step for step in asked if step_done(step=step, answers=answers))
    return ResponseProgress(answered=answered, remaining=tuple(step for step in asked if step not in answered))


def questionnaire_response_rechecks(
    *, response: QuestionnaireResponse, other_text: dict[str, str] | None = None
) -> list[Recheck]:
    """The safety questions to ask again because of what the stored answers (or ``other_text``) say, that have
    not been asked again yet; none once the response is an emergency (nothing can raise it further)."""
    if response.tier == Tier.EMERGENCY:
        return []
    definition = response.definition
    values, _ = answers_read(definition=definition, answers=questionnaire_response_answers(response=response))
    return screening_rechecks(
        definition=definition, values=values, other_text=other_text, rechecks=response.rechecks or {}
    )


def questionnaire_step_known_answers(*, response: QuestionnaireResponse, step: Step) -> dict[str, Any]:
    """The stored answers to other steps that this step's `show_if` conditions look at, and nothing else.

    A page of the questionnaire reached by a link shows no earlier answer; it only needs these to know which
    of its questions to ask.
    """
    own = {question.id for question in step.questions}
    subjects = {
        leaf.subject
        for question in step.questions
        if question.show_if is not None
        for leaf in condition_subjects(question.show_if)
    }
    stored = questionnaire_response_answers(response=response)
    return {key: value for key, value in stored.items() if key in subjects and key not in own}


def questionnaire_response_answers(*, response: QuestionnaireResponse) -> dict[str, Any]:
    """The stored answers as a dict of question id to value, in question order."""
    return {answer.question_id: answer.value for answer in response.answers.all()}


def questionnaire_response_score_values(*, response: QuestionnaireResponse) -> dict[str, int | float]:
    """Every score of the response's complete instruments, by score id (no query: they are stored with it)."""
    values: dict[str, int | float] = {}
    for result in response.scores or ():
        if result.get("complete"):
            values.update(result.get("scores") or {})
    return values


def questionnaire_response_summary(*, response: QuestionnaireResponse) -> ResponseSummary:
    """A readable account of a response for staff: each question as asked and its answer, red flags first.

    Read against the definition version the patient answered. If that file has gone from the repository the
    summary still shows every answer, by question id.
    """
    definition = _definition_or_none(response)
    questions, step_titles = _questions_and_step_titles(definition)
    reasons = tuple(Reason.from_json(item) for item in response.triage_reasons)
    flags: dict[str, list[Reason]] = {}
    for reason in reasons:
        for subject, _value in reason.evidence:
            flags.setdefault(subject, []).append(reason)
    lines = []
    for answer in response.answers.all():
        question = questions.get(answer.question_id)
        triggered = flags.get(answer.question_id, [])
        lines.append(
            SummaryLine(
                question_id=answer.question_id,
                step_title=step_titles.get(question.step_id, "") if question else "",
                question_text=question.text if question else answer.question_id,
                answer_text=answer_text(question, answer.value),
                flag_tier=max((r.tier for r in triggered), key=lambda tier: tier.rank, default=None),
                flag_reasons=tuple(r.text for r in triggered),
            )
        )
    lines.sort(key=lambda line: -(line.flag_tier.rank + 1) if line.flag_tier else 0)
    reason_lines = tuple(
        ReasonLine(
            rule_id=reason.rule_id,
            tier=reason.tier,
            text=reason.text,
            source=reason.source,
            answers=tuple(
                f"{questions[subject].text} — {answer_text(questions[subject], value)}"
                if subject in questions
                else f"{subject}: {value}"
                for subject, value in reason.evidence
            ),
        )
        for reason in reasons
    )
    progress = questionnaire_response_progress(response=response) if definition else None
    return ResponseSummary(
        parts_answered=tuple(step.title for step in progress.answered) if progress else (),
        parts_remaining=tuple(step.title for step in progress.remaining) if progress else (),
        title=definition.title if definition else response.questionnaire,
        definition_key=f"{response.questionnaire}/v{response.definition_version}",
        tier=Tier(response.tier),
        reasons=reasons,
        lines=tuple(lines),
        scores=tuple(response.scores or ()),
        is_complete=response.is_complete,
        reason_lines=reason_lines,
        version=response.version,
        answered_at=response.answered_at,
        earlier_versions=questionnaire_response_earlier_versions(response=response),
    )


def questionnaire_response_earlier_versions(*, response: QuestionnaireResponse) -> tuple[EarlierVersion, ...]:
    """The versions of the answers that the patient's corrections replaced, newest first, each as staff read it
    (question text and answer in words), with the answers the following version changed or dropped."""
    if response.version == 1:
        return ()  # never corrected: no query
    questions, step_titles = _questions_and_step_titles(_definition_or_none(response))
    following = questionnaire_response_answers(response=response)
    earlier = []
    for revision in response.revisions.order_by("-version"):
        answers = revision.answers or {}
        changed = tuple(
            key for key, value in answers.items() if _as_set(following.get(key, _MISSING)) != _as_set(value)
        )
        lines = tuple(
            SummaryLine(
                question_id=key,
                step_title=step_titles.get(questions[key].step_id, "") if key in questions else "",
                question_text=questions[key].text if key in questions else key,
                answer_text=answer_text(questions.get(key), value),
                flag_tier=None,
                flag_reasons=(),
            )
            for key, value in answers.items()
        )
        earlier.append(
            EarlierVersion(
                version=revision.version,
                answered_at=revision.answered_at,
                replaced_at=revision.replaced_at,
                tier=Tier(revision.tier),
                lines=lines,
                changed=changed,
            )
        )
        following = answers
    return tuple(earlier)


_MISSING = object()


def _definition_or_none(response: QuestionnaireResponse) -> Definition | None:
    """The definition version the patient answered; None if that file has gone from the repository."""
    try:
        return response.definition
    except DefinitionNotFound:
        return None


def _questions_and_step_titles(definition: Definition | None) -> tuple[dict, dict[str, str]]:
    """The questions by id and the steps' titles by id, for reading answers to staff (empty without a definition)."""
    if definition is None:
        return {}, {}
    return definition.question_map, {step.id: step.title for step in definition.steps}


def _as_set(value: Any) -> Any:
    return frozenset(value) if isinstance(value, list) else value


def answer_text(question: Question | None, value: Any) -> str:
    """An answer as a person would say it: "Yes", "7 out of 10", the labels of the chosen options."""
    if question is None:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if question.type is AnswerType.YES_NO:
        return "Yes" if value else "No"
    if question.type is AnswerType.SCALE:
        return f"{value} out of {question.max_value}"
    if question.type in (AnswerType.SINGLE_CHOICE,):
        return question.choice_label(value)
    if question.type in (AnswerType.MULTI_CHOICE, AnswerType.BODY_AREA):
        return "; ".join(question.choice_label(item) for item in value)
    return str(value)


def possible_red_flag_q(*, prefix: str = "") -> Q:
    """Responses (or, with ``prefix`` such as "questionnaire_response__", rows linked to one) whose triage found
    a possible red flag in the patient's words or in contradicting answers. For a queue marker: one query."""
    return Q(**{f"{prefix}triage_reasons__icontains": f'"{POSSIBLE_RED_FLAG}.'})


def questionnaire_response_staff_priority(*, response: QuestionnaireResponse) -> int:
    """The staff priority (1 emergency ... 4 routine) that the response's triage tier calls for."""
    return TIER_PRIORITY[Tier(response.tier)]


def questionnaire_response_message_priority(*, response: QuestionnaireResponse, key: str) -> int | None:
    """The staff priority (1 ... 4) of the red flags found in the later message ``key`` (a text message, keyed
    ``MESSAGE_PREFIX`` + its id), or None when it raised none."""
    suffix = f".{key}"
    tiers = [
        Reason.from_json(item).tier
        for item in response.triage_reasons or []
        if isinstance(item, dict) and str(item.get("rule_id", "")).endswith(suffix)
    ]
    return min((TIER_PRIORITY[tier] for tier in tiers), default=None)


def message_priority(*, key: str, body: str, slug: str = BACK_PAIN) -> int | None:
    """The staff priority (1 ... 4) of the red flags in the patient's message ``body`` (keyed ``key``, as in
    `questionnaire_response_message_priority`) read against the lexicon of ``slug``'s current definition alone, or
    None when it raised none: for a message from a patient with no answers to screen it with (a request taken by
    phone without the safety questions, a waitlist booking, a number with no request at all)."""
    result = triage_compute(definition=definition_current(slug), answers={}, messages={key: body})
    suffix = f".{key}"
    tiers = [reason.tier for reason in result.reasons if reason.rule_id.endswith(suffix)]
    return min((TIER_PRIORITY[tier] for tier in tiers), default=None)


def questionnaire_response_advice_priority(*, response: QuestionnaireResponse) -> int:
    """The priority (1 ... 4) whose advice the patient is given: that of the reasons that advise. A possible red
    flag in the patient's words that they denied when asked again (or were not asked yet) tells staff only."""
    reasons = [Reason.from_json(item) for item in response.triage_reasons or []]
    return TIER_PRIORITY[reasons_advice_tier(reasons)]


# FHIR R4 -------------------------------------------------------------------------------------------------------


def questionnaire_fhir(*, slug: str, version: int | None = None) -> Any:
    """A definition version (the current one without ``version``) as a FHIR ``Questionnaire`` resource.

    Raises `DefinitionNotFound` for a slug or version the registry does not hold.
    """
    definition = definition_get(slug, version) if version is not None else definition_current(slug)
    return questionnaire_to_fhir(definition)


def questionnaire_fhir_versions(*, slug: str) -> list[Any]:
    """Every version of a definition, oldest first, as FHIR ``Questionnaire`` resources.

    Raises `DefinitionNotFound` for a slug the registry does not hold.
    """
    registry = definitions_registry()
    registry.current(slug)  # DefinitionNotFound for a slug it does not hold
    return [questionnaire_to_fhir(registry.get(slug, version)) for version in registry.versions(slug)]


def questionnaire_response_fhir(
    *, response: QuestionnaireResponse, reference: str, part: str | None = None, subject_display: str | None = None
) -> Any:
    """A stored answer set as a FHIR ``QuestionnaireResponse`` identified by ``reference`` (the request's own
    answer set) or by ``reference/part`` (another answer set of that request, e.g. ``part="follow-up-6w"``).

    The patient is named (as the subject's display) only when the caller passes ``subject_display``.
    """
    answers = questionnaire_response_answers(response=response)
    return response_to_fhir(
        response=response, answers=answers, reference=reference, part=part, subject_display=subject_display
    )


def fhir_bundle(*, resources: list[Any]) -> Any:
    """FHIR resources as one ``Bundle`` of type collection."""
    return resources_bundle(resources)


def fhir_json(*, resource: Any) -> str:
    """A FHIR resource (or Bundle) as JSON text."""
    return resource_json(resource)
