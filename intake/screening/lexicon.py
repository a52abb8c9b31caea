"""The red-flag lexicon of a definition version: its file, its shape (pydantic models) and its checks.

The lexicon of ``<slug>/v<N>.yaml`` is ``<slug>/v<N>.lexicon.yaml`` beside it. The file's shape is checked by
the models below; what it says about the definition (each group names a yes/no safety question used by an
emergency or urgent rule, every such rule has a group, contradictions name real answers) by
`lexicon_for_definition`. Every problem raises `LexiconError` naming the file and the field.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from intake.conditions import condition_subjects
from intake.definitions import AnswerType, Definition, DefinitionError, Rule
from intake.definitions.registry import LEXICON_SUFFIX
from intake.definitions.types import CHOICE_TYPES

RED_FLAG_RULE_TIERS = ("emergency", "urgent")
# A word of a phrase: lowercase letters and digits, optionally ending in * ("numb*": any ending).
WORD_RE = re.compile(r"^[a-z0-9]+$")
PREFIX_RE = re.compile(r"^[a-z0-9]{3,}\*$")
ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Word = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=60)]


class LexiconError(DefinitionError):
    """A lexicon file is not usable. Caught wherever a bad definition file is (it is part of the definition)."""


def _check_alternative(value: str) -> str:
    words = value.lower().split()
    if not words:
        raise ValueError("an empty phrase")
    for word in words:
        if not (WORD_RE.match(word) or (len(words) == 1 and PREFIX_RE.match(word))):
            raise ValueError(
                f"{value!r}: write words in lowercase letters and digits without apostrophes (cant, not can't); "
                "a * may end a single word of three letters or more"
            )
    return " ".join(words)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    id: Annotated[str, StringConstraints(pattern=ID_RE.pattern)]
    title: Text
    url: Text | None = None


class Group(_Model):
    """The phrases that point at one safety question, and how to ask that question again."""

    question: Annotated[str, StringConstraints(pattern=ID_RE.pattern)]
    recheck: Text
    sources: list[str] = Field(min_length=1)
    # True for a rule about history (cancer, steroids, drugs): "years ago" still counts.
    history_counts: bool = False
    # Each phrase is a list of slots, each slot a list of alternatives (a plain string is one slot, one choice).
    phrases: list[str | list[list[str]]] = Field(min_length=1)
    unless: list[str] = []

    @field_validator("phrases")
    @classmethod
    def _phrases(cls, phrases: list[Any]) -> list[Any]:
        checked: list[Any] = []
        for phrase in phrases:
            if isinstance(phrase, str):
                checked.append(_check_alternative(phrase))
                continue
            if not phrase or any(not slot for slot in phrase):
                raise ValueError("a phrase of lists needs at least one list, each with at least one alternative")
            checked.append([[_check_alternative(alternative) for alternative in slot] for slot in phrase])
        return checked

    @field_validator("unless")
    @classmethod
    def _unless(cls, words: list[str]) -> list[str]:
        return [_check_alternative(word) for word in words]


class Marked(_Model):
    question: Annotated[str, StringConstraints(pattern=ID_RE.pattern)]
    any_of: list[str] = Field(min_length=1)


class Contradiction(_Model):
    """Answers that, all together, contradict a "no" to the safety question."""

    id: Annotated[str, StringConstraints(pattern=ID_RE.pattern)]
    question: Annotated[str, StringConstraints(pattern=ID_RE.pattern)]
    said: Text
    sources: list[str] = Field(min_length=1)
    marked: list[Marked] = Field(min_length=1)


class Lexicon(_Model):
    definition: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+/v[1-9][0-9]*$")]
    version: int = Field(ge=1)
    reviewed: dt.date
    sources: list[Source] = Field(min_length=1)
    read_as: dict[str, str] = {}
    negation_window: int = Field(ge=1, le=10)
    negation_cues: list[Word] = Field(min_length=1)
    not_negation_after: list[Word] = []
    past_markers: list[str] = []
    present_markers: list[str] = []
    others_window: int = Field(default=3, ge=0, le=10)
    others: list[Word] = []
    not_typos: list[Word] = []
    groups: list[Group] = Field(min_length=1)
    contradictions: list[Contradiction] = []

    @field_validator("read_as", mode="before")
    @classmethod
    def _read_as(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        return {_check_alternative(str(key)): _check_alternative(str(value)) for key, value in raw.items()}

    @field_validator("past_markers", "present_markers")
    @classmethod
    def _markers(cls, markers: list[str]) -> list[str]:
        return [_check_alternative(marker) for marker in markers]

    @model_validator(mode="after")
    def _references(self) -> Lexicon:
        known = {source.id for source in self.sources}
        if len(known) != len(self.sources):
            raise ValueError("two sources share an id")
        for where, items in (("groups", self.groups), ("contradictions", self.contradictions)):
            for index, item in enumerate(items):
                unknown = sorted(set(item.sources) - known)
                if unknown:
                    raise ValueError(f"{where}[{index}].sources: unknown source {unknown[0]!r}")
        questions = [group.question for group in self.groups]
        duplicates = sorted({question for question in questions if questions.count(question) > 1})
        if duplicates:
            raise ValueError(f"more than one group for the question {duplicates[0]!r}")
        ids = [item.id for item in self.contradictions]
        if len(set(ids)) != len(ids):
            raise ValueError("two contradictions share an id")
        return self

    def group(self, question_id: str) -> Group | None:
        return next((group for group in self.groups if group.question == question_id), None)

    def source_titles(self, ids: list[str]) -> str:
        titles = {source.id: source.title for source in self.sources}
        return "; ".join(titles[source_id] for source_id in ids)


def lexicon_path(definition: Definition) -> Path | None:
    if definition.path is None:
        return None
    return definition.path.with_name(f"v{definition.version}{LEXICON_SUFFIX}")


def lexicon_load(path: Path | str, definition: Definition) -> Lexicon:
    """Parse and check one lexicon file against the definition it belongs to; `LexiconError` if unusable."""
    source = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise LexiconError(source, "", f"cannot be read ({error.strerror or error})") from error
    except yaml.YAMLError as error:
        raise LexiconError(source, "", f"is not valid YAML ({error})") from error
    try:
        lexicon = Lexicon.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in first["loc"]).lstrip(".")
        raise LexiconError(source, where, first["msg"].removeprefix("Value error, ")) from None
    _check_against(lexicon, definition, source)
    return lexicon


_LOADED: dict[tuple[Path, str], Lexicon | None] = {}


def lexicon_for_definition(definition: Definition) -> Lexicon | None:
    """The lexicon beside the definition's file (loaded once per process), or None when it has none."""
    path = lexicon_path(definition)
    if path is None:
        return None
    key = (path, definition.key)
    if key not in _LOADED:
        _LOADED[key] = lexicon_load(path, definition) if path.is_file() else None
    return _LOADED[key]


def red_flag_rules(definition: Definition) -> list[Rule]:
    return [rule for rule in definition.rules if rule.tier.value in RED_FLAG_RULE_TIERS]


def rule_questions(rule: Rule) -> list[str]:
    return [leaf.subject for leaf in condition_subjects(rule.when) if leaf.kind == "question"]


def rule_for_question(definition: Definition, question_id: str) -> Rule | None:
    """The most serious red-flag rule resting on the question (the one a text match points at)."""
    rules = [rule for rule in red_flag_rules(definition) if question_id in rule_questions(rule)]
    return max(rules, key=lambda rule: rule.tier.rank, default=None)


def _check_against(lexicon: Lexicon, definition: Definition, source: str) -> None:
    def fail(where: str, problem: str) -> LexiconError:
        return LexiconError(source, where, problem)

    if lexicon.definition != definition.key:
        raise fail("definition", f"is {lexicon.definition!r} but the file belongs to {definition.key}")
    questions = definition.question_map
    for index, group in enumerate(lexicon.groups):
        question = questions.get(group.question)
        if question is None or question.type is not AnswerType.YES_NO:
            raise fail(f"groups[{index}].question", f"{group.question!r} is not a yes/no question of {definition.key}")
        if rule_for_question(definition, group.question) is None:
            raise fail(f"groups[{index}].question", f"no emergency or urgent rule rests on {group.question!r}")
    covered = {group.question for group in lexicon.groups}
    for rule in red_flag_rules(definition):
        if not covered & set(rule_questions(rule)):
            raise fail("groups", f"the {rule.tier.value} rule {rule.id!r} has no group of phrases")
    for index, item in enumerate(lexicon.contradictions):
        if lexicon.group(item.question) is None:
            raise fail(f"contradictions[{index}].question", f"{item.question!r} has no group of phrases")
        for position, marked in enumerate(item.marked):
            where = f"contradictions[{index}].marked[{position}]"
            question = questions.get(marked.question)
            if question is None or question.type not in CHOICE_TYPES:
                raise fail(f"{where}.question", f"{marked.question!r} is not a choice question of {definition.key}")
            unknown = sorted(set(marked.any_of) - set(question.choice_values))
            if unknown:
                raise fail(f"{where}.any_of", f"{unknown[0]!r} is not an answer of {marked.question!r}")
