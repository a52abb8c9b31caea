"""Reading answers against a definition: strictly for storing, leniently for triage.

`answers_clean` is the gate in front of the database: it refuses anything that is not exactly what the
definition asks for, drops answers to questions hidden by `show_if`, and (for a complete response) insists on
every visible required question. `answers_read` is what triage uses: it never raises and reads what it can
("yes", 1 and True are all a yes), because a safety rule must not be switched off by a badly typed answer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError

from clinic.text import HIDDEN_CHARACTERS_MESSAGE, text_has_hidden_characters, text_without_invisible_characters
from intake.conditions import condition_true
from intake.definitions import AnswerType, Definition, Question
from intake.definitions.types import MULTI_TYPES, NUMBER_TYPES

Answers = dict[str, Any]

YES_WORDS = frozenset({"yes", "y", "true", "t", "1", "on"})
NO_WORDS = frozenset({"no", "n", "false", "f", "0", "off"})


class AnswersInvalid(ValidationError):
    """The answers do not fit the definition. ``message_dict`` maps question ids to what is wrong."""


def question_visible(question: Question, answers: Mapping[str, Any]) -> bool:
    """True when the question is asked, given the (cleaned) answers to the questions before it."""
    return question.show_if is None or condition_true(question.show_if, answers)


def is_blank(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, list | tuple) and not value)
    )


def answers_clean(*, definition: Definition, answers: Mapping[str, Any], complete: bool = True) -> Answers:
    """The answers in canonical form, in question order, with hidden and blank answers dropped.

    Raises `AnswersInvalid` for an unknown question, a value of the wrong type or out of range, or (when
    ``complete``) a visible required question left unanswered. Never changes a valid answer's meaning.
    """
    if not isinstance(answers, Mapping):
        raise AnswersInvalid({"__all__": ["The answers must be a mapping of question ids to answers."]})
    known = definition.question_map
    errors: dict[str, list[str]] = {}
    for key in answers:
        if key not in known:
            errors[str(key)] = [f"{key!r} is not a question of {definition.key}."]
    cleaned: Answers = {}
    for question in definition.questions:
        if not question_visible(question, cleaned):
            continue
        raw = answers.get(question.id)
        if is_blank(raw):
            if complete and question.required:
                errors[question.id] = ["This question needs an answer."]
            continue
        try:
            cleaned[question.id] = answer_clean(question, raw)
        except ValidationError as error:
            errors[question.id] = error.messages
    if errors:
        raise AnswersInvalid(errors)
    return cleaned


def answer_clean(question: Question, raw: Any) -> Any:
    """One answer in canonical form, or ValidationError. ``raw`` is not blank."""
    qtype = question.type
    if qtype is AnswerType.YES_NO:
        if not isinstance(raw, bool):
            raise ValidationError("Answer yes or no.")
        return raw
    if qtype in NUMBER_TYPES:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValidationError("Enter a whole number.")
        if not question.min_value <= raw <= question.max_value:
            raise ValidationError(f"Enter a number from {question.min_value} to {question.max_value}.")
        return raw
    if qtype is AnswerType.SINGLE_CHOICE:
        if not isinstance(raw, str) or raw not in question.choice_values:
            raise ValidationError("Choose one of the answers listed.")
        return raw
    if qtype in MULTI_TYPES:
        if not isinstance(raw, list | tuple) or not all(isinstance(item, str) for item in raw):
            raise ValidationError("Choose from the answers listed.")
        if any(item not in question.choice_values for item in raw) or len(set(raw)) != len(raw):
            raise ValidationError("Choose from the answers listed, each at most once.")
        return [value for value in question.choice_values if value in raw]
    if not isinstance(raw, str):
        raise ValidationError("Enter some text.")
    text = raw.strip()
    if "\x00" in text:
        raise ValidationError("The text contains a character we cannot store.")
    if text_has_hidden_characters(text):
        raise ValidationError(HIDDEN_CHARACTERS_MESSAGE)
    text = text_without_invisible_characters(text).strip()
    if len(text) > question.max_length:
        raise ValidationError(f"Keep this to {question.max_length} characters or fewer (it has {len(text)}).")
    return text


def answers_read(*, definition: Definition, answers: Any) -> tuple[Answers, tuple[str, ...]]:
    """Every answer triage can make sense of, and the ids of the answers it could not read. Never raises.

    Visibility is not applied: an answer given to a hidden question still counts, so that a red flag is
    never ignored because of how the form was filled in.
    """
    if not isinstance(answers, Mapping):
        return {}, ()
    values: Answers = {}
    unreadable: list[str] = []
    for question in definition.questions:
        raw = answers.get(question.id)
        if is_blank(raw):
            continue
        value = answer_read(question, raw)
        if value is None:
            unreadable.append(question.id)
        else:
            values[question.id] = value
    return values, tuple(unreadable)


def answer_read(question: Question, raw: Any) -> Any:
    """A lenient reading of one answer, or None when it cannot be understood."""
    qtype = question.type
    if qtype is AnswerType.YES_NO:
        return _read_yes_no(raw)
    if qtype in NUMBER_TYPES:
        return _read_number(raw)
    if qtype is AnswerType.SINGLE_CHOICE:
        if isinstance(raw, list | tuple) and len(raw) == 1:
            raw = raw[0]
        return raw.strip() if isinstance(raw, str) and raw.strip() in question.choice_values else None
    if qtype in MULTI_TYPES:
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, Iterable) or isinstance(raw, Mapping | bytes):
            return None
        given = {item.strip() for item in raw if isinstance(item, str)}
        chosen = [value for value in question.choice_values if value in given]
        return chosen or None
    return raw if isinstance(raw, str) else None


def _read_yes_no(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in YES_WORDS:
            return True
        if word in NO_WORDS:
            return False
    return None


def _read_number(raw: Any) -> int | float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return raw if math.isfinite(raw) else None
    if isinstance(raw, str) and len(raw) <= 20:
        try:
            return int(raw.strip())
        except ValueError:
            return None
    return None
