"""The parsed, validated shape of a questionnaire definition. Immutable: one object per file version."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from django.db import models

from intake.conditions import Condition


class AnswerType(StrEnum):
    YES_NO = "yes_no"
    SINGLE_CHOICE = "single_choice"
    MULTI_CHOICE = "multi_choice"
    BODY_AREA = "body_area"
    SCALE = "scale"
    INTEGER = "integer"
    TEXT = "text"


CHOICE_TYPES = frozenset({AnswerType.SINGLE_CHOICE, AnswerType.MULTI_CHOICE, AnswerType.BODY_AREA})
MULTI_TYPES = frozenset({AnswerType.MULTI_CHOICE, AnswerType.BODY_AREA})
NUMBER_TYPES = frozenset({AnswerType.SCALE, AnswerType.INTEGER})


class Tier(models.TextChoices):
    """How soon a person needs to be seen, from the answers alone. Compare with `rank`, never by value."""

    ROUTINE = "routine", "Routine"
    REVIEW = "review", "Clinician review"
    URGENT = "urgent", "Urgent: see a doctor today"
    EMERGENCY = "emergency", "Emergency"

    @property
    def rank(self) -> int:
        """0 for routine up to 3 for emergency: a higher rank is more serious."""
        return TIER_ORDER.index(self)


# Least to most serious. The staff queue's "priority 1 first" is the reverse of this.
TIER_ORDER: tuple[Tier, ...] = (Tier.ROUTINE, Tier.REVIEW, Tier.URGENT, Tier.EMERGENCY)


def tier_highest(*tiers: Tier) -> Tier:
    """The most serious of the given tiers (routine when none are given)."""
    return max(tiers, key=lambda tier: tier.rank, default=Tier.ROUTINE)


# The regions of the body diagram. A definition's body-area question picks its choices from these, so that
# every choice has a shape on the diagram. "left" and "right" are the patient's own left and right.
BODY_AREAS: tuple[str, ...] = (
    "neck",
    "upper_back",
    "middle_back",
    "lower_back_left",
    "lower_back_centre",
    "lower_back_right",
    "buttock_left",
    "buttock_right",
    "hip_left",
    "hip_right",
    "groin",
    "thigh_left",
    "thigh_right",
    "knee_left",
    "knee_right",
    "lower_leg_left",
    "lower_leg_right",
    "foot_left",
    "foot_right",
)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Question:
    id: str
    type: AnswerType
    text: str
    step_id: str
    help: str = ""
    required: bool = True
    choices: tuple[Choice, ...] = ()
    min_value: int | None = None
    max_value: int | None = None
    min_label: str = ""
    max_label: str = ""
    max_length: int | None = None
    show_if: Condition | None = None

    def choice_label(self, value: Any) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return str(value)

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    questions: tuple[Question, ...]
    intro: str = ""
    # A screening step is asked before anything else; its emergency answers stop the questionnaire.
    screening: bool = False


@dataclass(frozen=True)
class Rule:
    id: str
    tier: Tier
    when: Condition
    reason: str
    source: str


@dataclass(frozen=True)
class ScoreItem:
    question_id: str
    # Answer value -> points. Empty for a number question: its answer is the points.
    values: tuple[tuple[Any, float], ...] = ()

    def points(self, answer: Any) -> float | None:
        for value, points in self.values:
            if type(value) is type(answer) and value == answer:
                return points
        return None


@dataclass(frozen=True)
class Score:
    id: str
    label: str
    item_ids: tuple[str, ...]
    # "sum" adds the answered items' points; "mean" averages them (rounded to one decimal place), so an
    # instrument whose patients answer a varying number of items (the PSFS) is scored as published.
    aggregate: str = "sum"


@dataclass(frozen=True)
class Band:
    id: str
    label: str
    # None: the fallback band, taken when no earlier band matched.
    when: Condition | None = None
    # A band may raise the triage tier, never lower it.
    tier: Tier | None = None


@dataclass(frozen=True)
class Instrument:
    id: str
    title: str
    source: str
    items: tuple[ScoreItem, ...]
    scores: tuple[Score, ...]
    bands: tuple[Band, ...]
    # How many items may go unanswered before the instrument is reported incomplete (no band).
    max_missing: int = 0


@dataclass(frozen=True)
class Definition:
    slug: str
    version: int
    title: str
    steps: tuple[Step, ...]
    rules: tuple[Rule, ...] = ()
    instruments: tuple[Instrument, ...] = ()
    intro: str = ""
    path: Path | None = field(default=None, compare=False)

    @cached_property
    def questions(self) -> tuple[Question, ...]:
        return tuple(question for step in self.steps for question in step.questions)

    @cached_property
    def question_map(self) -> dict[str, Question]:
        return {question.id: question for question in self.questions}

    def question(self, question_id: str) -> Question:
        return self.question_map[question_id]

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    @property
    def key(self) -> str:
        return f"{self.slug}/v{self.version}"

    def __str__(self) -> str:
        return self.key
