"""Steps, questions and their choices as written in a definition file."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, model_validator

from intake.definitions.schema.base import (
    MAX_SCALE_POINTS,
    MAX_TEXT_LENGTH,
    SCALE_DEFAULT_RANGE,
    ChoiceValue,
    FileModel,
    Id,
    Problems,
    Text,
    TypeName,
)
from intake.definitions.schema.conditions import ConditionFile
from intake.definitions.types import BODY_AREAS, CHOICE_TYPES, NUMBER_TYPES, AnswerType, Choice, Question, Step

# The fields that belong to some answer types only.
TYPE_FIELDS: dict[AnswerType, frozenset[str]] = {
    AnswerType.YES_NO: frozenset(),
    AnswerType.SINGLE_CHOICE: frozenset({"choices"}),
    AnswerType.MULTI_CHOICE: frozenset({"choices"}),
    AnswerType.BODY_AREA: frozenset({"choices"}),
    AnswerType.SCALE: frozenset({"min", "max", "min_label", "max_label"}),
    AnswerType.INTEGER: frozenset({"min", "max"}),
    AnswerType.TEXT: frozenset({"max_length"}),
}
TYPED_FIELDS = frozenset().union(*TYPE_FIELDS.values())


# Questions and steps ----------------------------------------------------------------------------------------


class ChoiceFile(FileModel):
    value: ChoiceValue = Field(description="Stored with the answer; never change it within a version.")
    label: Text = Field(description="What the patient reads.")


# An editor's schema checker learns what each answer type needs from these (pydantic checks them itself).
_TYPE_REQUIREMENTS = [
    {"if": {"properties": {"type": {"enum": sorted(str(t) for t in CHOICE_TYPES)}}}, "then": {"required": ["choices"]}},
    {"if": {"properties": {"type": {"const": str(AnswerType.INTEGER)}}}, "then": {"required": ["min", "max"]}},
    {"if": {"properties": {"type": {"const": str(AnswerType.TEXT)}}}, "then": {"required": ["max_length"]}},
] + [
    {
        "if": {"properties": {"type": {"const": str(answer_type)}}},
        "then": {"not": {"anyOf": [{"required": [key]} for key in sorted(TYPED_FIELDS - allowed)]}},
    }
    for answer_type, allowed in TYPE_FIELDS.items()
]


class QuestionFile(FileModel):
    model_config = ConfigDict(json_schema_extra={"allOf": _TYPE_REQUIREMENTS})

    id: Id = Field(description="Unique in the definition; answers are stored under it.")
    type: TypeName
    text: Text
    help: Text | None = Field(None, description="A hint shown under the question.")
    required: bool = True
    choices: list[ChoiceFile] | None = Field(None, min_length=1, description="For choice and body-area questions.")
    min: int | None = Field(None, description="Lowest number (scale: default 0; integer: required).")
    max: int | None = Field(None, description="Highest number (scale: default 10; integer: required).")
    min_label: Text | None = Field(None, description="What the lowest point of a scale means.")
    max_label: Text | None = Field(None, description="What the highest point of a scale means.")
    max_length: int | None = Field(None, ge=1, le=MAX_TEXT_LENGTH, description="Longest text answer, in characters.")
    show_if: ConditionFile | None = Field(None, description="Asked only when this condition is true.")

    @property
    def choice_values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices or ())

    @property
    def number_range(self) -> tuple[int, int]:
        low, high = SCALE_DEFAULT_RANGE if self.type is AnswerType.SCALE else (None, None)
        return (low if self.min is None else self.min, high if self.max is None else self.max)

    @model_validator(mode="after")
    def _fields_fit_the_answer_type(self) -> QuestionFile:
        problems = Problems(self)
        qtype = self.type
        for key in sorted(TYPED_FIELDS - TYPE_FIELDS[qtype]):
            if self.given(key):
                problems.add((key,), f"does not apply to a {qtype} question")
        if qtype in CHOICE_TYPES:
            if self.choices is None:
                problems.add(("choices",), f"a {qtype} question needs choices")
            seen: set[str] = set()
            for index, choice in enumerate(self.choices or ()):
                if choice.value in seen:
                    problems.add(("choices", index, "value"), f"duplicate choice {choice.value!r}")
                if qtype is AnswerType.BODY_AREA and choice.value not in BODY_AREAS:
                    problems.add(("choices", index, "value"), f"{choice.value!r} is not an area of the body diagram")
                seen.add(choice.value)
        elif qtype in NUMBER_TYPES:
            low, high = self.number_range
            missing = [key for key, value in (("min", low), ("max", high)) if value is None]
            for key in missing:
                problems.add((), f"missing required field {key!r} for an integer question")
            if not missing and low >= high:
                problems.add(("max",), f"must be greater than min ({low})")
            elif not missing and qtype is AnswerType.SCALE and high - low + 1 > MAX_SCALE_POINTS:
                problems.add(("max",), f"a scale has at most {MAX_SCALE_POINTS} points")
        elif qtype is AnswerType.TEXT and self.max_length is None:
            problems.add((), "missing required field 'max_length' for a text question")
        problems.raise_any()
        return self

    def to_question(self, step_id: str) -> Question:
        fields: dict[str, Any] = {}
        if self.type in NUMBER_TYPES:
            fields["min_value"], fields["max_value"] = self.number_range
        return Question(
            id=self.id,
            type=self.type,
            text=self.text,
            step_id=step_id,
            help=self.help or "",
            required=self.required,
            choices=tuple(Choice(value=choice.value, label=choice.label) for choice in self.choices or ()),
            min_label=self.min_label or "",
            max_label=self.max_label or "",
            max_length=self.max_length,
            show_if=self.show_if.to_condition() if self.show_if else None,
            **fields,
        )


class StepFile(FileModel):
    """One page of the questionnaire."""

    id: Id
    title: Text
    intro: Text | None = None
    screening: bool = Field(
        False, description="Asked before anything else; its emergency answers stop the questionnaire."
    )
    questions: list[QuestionFile] = Field(min_length=1)

    def to_step(self) -> Step:
        return Step(
            id=self.id,
            title=self.title,
            intro=self.intro or "",
            screening=self.screening,
            questions=tuple(question.to_question(self.id) for question in self.questions),
        )
