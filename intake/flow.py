"""Moving through a questionnaire one step at a time: which steps are asked, in which order, what is missing.

Plain functions over a definition and the answers so far. The web layer keeps a `Progress` (plain JSON) in the
server-side session between requests; nothing here touches a request or the database.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from intake.answers import answer_clean, answers_read, is_blank, question_visible
from intake.definitions import Definition, Step, Tier
from intake.screening import Recheck, screening_rechecks
from intake.triage import triage_compute


@dataclass
class Progress:
    """One patient's way through one questionnaire: the version they started on, their answers, steps done."""

    slug: str
    version: int
    answers: dict[str, Any] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    # Safety questions asked again because of what the patient wrote or marked: question id -> their answer.
    rechecks: dict[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "version": self.version,
            "answers": dict(self.answers),
            "done": list(self.done),
            "started_at": self.started_at,
            "rechecks": dict(self.rechecks),
        }

    @classmethod
    def from_dict(cls, raw: Any) -> Progress | None:
        """The progress stored by `to_dict`, or None when ``raw`` is not one (an old or damaged session)."""
        if not isinstance(raw, Mapping):
            return None
        slug, version, answers, done = raw.get("slug"), raw.get("version"), raw.get("answers"), raw.get("done")
        started_at = raw.get("started_at")
        if not (isinstance(slug, str) and isinstance(version, int) and isinstance(answers, dict)):
            return None
        if not (isinstance(done, list) and all(isinstance(step, str) for step in done)):
            return None
        if isinstance(started_at, bool) or not isinstance(started_at, int | float):
            return None
        rechecks = raw.get("rechecks", {})
        if not (isinstance(rechecks, dict) and all(isinstance(value, bool) for value in rechecks.values())):
            return None
        return cls(
            slug=slug, version=version, answers=dict(answers), done=list(done), started_at=started_at, rechecks=rechecks
        )

    @classmethod
    def start(cls, definition: Definition) -> Progress:
        return cls(slug=definition.slug, version=definition.version)


def step_visible_questions(step: Step, answers: Mapping[str, Any]) -> list:
    return [question for question in step.questions if question_visible(question, answers)]


def steps_asked(*, definition: Definition, answers: Mapping[str, Any]) -> list[Step]:
    """The steps that have at least one question to ask, given the answers so far, in order."""
    return [step for step in definition.steps if step_visible_questions(step, answers)]


def step_get(*, definition: Definition, step_id: str) -> Step | None:
    try:
        return definition.step(step_id)
    except KeyError:
        return None


def step_missing(*, step: Step, answers: Mapping[str, Any]) -> list[str]:
    """Ids of the step's visible questions that still need an answer, or whose stored answer does not fit."""
    missing = []
    for question in step_visible_questions(step, answers):
        value = answers.get(question.id)
        if is_blank(value):
            if question.required:
                missing.append(question.id)
            continue
        try:
            answer_clean(question, value)
        except ValidationError:
            missing.append(question.id)
    return missing


def progress_first_open_step(*, definition: Definition, progress: Progress) -> Step | None:
    """The first step still to be answered (not yet sent, or missing something), or None when all are done."""
    for step in steps_asked(definition=definition, answers=progress.answers):
        if step.id not in progress.done or step_missing(step=step, answers=progress.answers):
            return step
    return None


def steps_screening(*, definition: Definition, answers: Mapping[str, Any]) -> list[Step]:
    """The asked screening steps: every question that decides the tier, asked before a request is sent."""
    return [step for step in steps_asked(definition=definition, answers=answers) if step.screening]


def steps_after_screening(*, definition: Definition, answers: Mapping[str, Any]) -> list[Step]:
    """The asked steps after the screening ones: they help prepare for the call and may follow later."""
    return [step for step in steps_asked(definition=definition, answers=answers) if not step.screening]


def progress_first_open_screening_step(*, definition: Definition, progress: Progress) -> Step | None:
    """The first screening step still to be answered, or None once all of them are done."""
    step = progress_first_open_step(definition=definition, progress=progress)
    return step if step is not None and step.screening else None


def step_done(*, step: Step, answers: Mapping[str, Any]) -> bool:
    """A step counts as answered when it holds at least one answer and misses no required one."""
    visible = step_visible_questions(step, answers)
    return any(not is_blank(answers.get(q.id)) for q in visible) and not step_missing(step=step, answers=answers)


def progress_step_reachable(*, definition: Definition, progress: Progress, step: Step) -> bool:
    """A step may be shown once every step before it is done: no skipping ahead by URL."""
    first_open = progress_first_open_step(definition=definition, progress=progress)
    if first_open is None:
        return step in steps_asked(definition=definition, answers=progress.answers)
    asked = steps_asked(definition=definition, answers=progress.answers)
    return step in asked and asked.index(step) <= asked.index(first_open)


def progress_step_save(
    *, definition: Definition, progress: Progress, step: Step, step_answers: Mapping[str, Any]
) -> None:
    """Replace the step's answers and mark it done; drop answers that a changed answer has made irrelevant."""
    ids = {question.id for question in step.questions}
    answers = {key: value for key, value in progress.answers.items() if key not in ids}
    answers.update({key: value for key, value in step_answers.items() if key in ids})
    kept: dict[str, Any] = {}
    for question in definition.questions:
        if question.id in answers and question_visible(question, kept):
            kept[question.id] = answers[question.id]
    progress.answers = kept
    if step.id not in progress.done:
        progress.done.append(step.id)


def progress_answers_keep(
    *, definition: Definition, progress: Progress, step: Step, answers: Mapping[str, Any]
) -> None:
    """Keep the answers a patient gave on a page that is not finished yet (the step is not marked done).

    Used when an answer on an unfinished page already calls for emergency care: the advice comes first, and
    the answers given so far go with the request.
    """
    ids = {question.id for question in step.questions}
    progress.answers.update({key: value for key, value in answers.items() if key in ids})


def step_neighbours(
    *, definition: Definition, answers: Mapping[str, Any], step: Step
) -> tuple[Step | None, Step | None]:
    """The asked steps just before and just after ``step`` (None at either end)."""
    asked = steps_asked(definition=definition, answers=answers)
    if step not in asked:
        return None, None
    index = asked.index(step)
    return (asked[index - 1] if index else None), (asked[index + 1] if index + 1 < len(asked) else None)


def screening_done(*, definition: Definition, progress: Progress) -> bool:
    return all(step.id in progress.done for step in definition.steps if step.screening)


def progress_tier(*, definition: Definition, progress: Progress) -> Tier:
    """The triage tier of the answers so far."""
    return triage_compute(definition=definition, answers=progress.answers, rechecks=progress.rechecks).tier


def progress_rechecks(
    *, definition: Definition, progress: Progress, other_text: Mapping[str, str] | None = None
) -> list[Recheck]:
    """The safety questions to ask again before the request is sent: what the patient wrote (in the answers or
    in ``other_text``, such as the request's reason) or marked points at them, and they have not been asked
    again yet. Empty until every screening step is done (the later steps are asked after the request is sent),
    and after an emergency (nothing can raise it further)."""
    if progress_first_open_screening_step(definition=definition, progress=progress) is not None:
        return []
    if progress_is_emergency(definition=definition, progress=progress):
        return []
    values, _ = answers_read(definition=definition, answers=progress.answers)
    return screening_rechecks(definition=definition, values=values, other_text=other_text, rechecks=progress.rechecks)


def progress_rechecks_save(*, definition: Definition, progress: Progress, answers: Mapping[str, bool]) -> None:
    """Record the patient's answers to the questions asked again. A yes is a yes to the safety question itself,
    so its rule (and its advice) applies; a no is kept so that staff see it next to the possible red flag."""
    for question_id, said_yes in answers.items():
        if question_id not in definition.question_map:
            continue
        progress.rechecks[question_id] = said_yes
        if said_yes:
            progress.answers[question_id] = True


def answers_tier(*, definition: Definition, answers: Mapping[str, Any]) -> Tier:
    return triage_compute(definition=definition, answers=answers).tier


def progress_is_emergency(*, definition: Definition, progress: Progress) -> bool:
    """True as soon as any answer so far calls for emergency care, whatever else is still unanswered:
    the emergency advice is shown next and no further question is asked."""
    return progress_tier(definition=definition, progress=progress) is Tier.EMERGENCY
