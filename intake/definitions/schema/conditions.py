"""Conditions as written in a definition file (``show_if``, a rule's ``when``, a band's ``when``).

Checking a condition against the questions it names is `intake.definitions.schema.condition_checks`, a layer
above both (a question's ``show_if`` is a condition, so conditions cannot know questions).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, model_validator

from intake.conditions import COMPARISONS, AllOf, AnyOf, Condition, Leaf, Not
from intake.definitions.schema.base import FileModel, Id, Loc, Number, Scalar, problem

# Conditions -------------------------------------------------------------------------------------------------


class ConditionFile(FileModel):
    """``{question: age, gt: 50}``, ``{score: total, gte: 4}``, or ``all`` / ``any`` / ``not`` of conditions."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    all_: list[ConditionFile] | None = Field(None, alias="all", min_length=1, description="Every part is true.")
    any_: list[ConditionFile] | None = Field(None, alias="any", min_length=1, description="Some part is true.")
    not_: ConditionFile | None = Field(None, alias="not", description="The condition is false.")
    question: Id | None = Field(None, description="The id of a question asked before this point.")
    score: Id | None = Field(None, description="The id of a score of this instrument (scoring bands only).")
    equals: Scalar | None = Field(None, description="The answer is this value.")
    in_: list[Scalar] | None = Field(None, alias="in", min_length=1, description="The answer is one of these.")
    contains: Scalar | None = Field(None, description="A multiple-choice answer includes this choice.")
    contains_any: list[Scalar] | None = Field(None, min_length=1, description="It includes one of these choices.")
    lt: Number | None = Field(None, description="Less than.")
    lte: Number | None = Field(None, description="Less than or equal to.")
    gt: Number | None = Field(None, description="Greater than.")
    gte: Number | None = Field(None, description="Greater than or equal to.")
    answered: bool | None = Field(None, description="true: answered; false: left unanswered.")

    @property
    def written(self) -> list[str]:
        """The fields the file wrote, by their names in the file."""
        return [field.alias or name for name, field in type(self).model_fields.items() if self.given(name)]

    @property
    def combinator(self) -> str | None:
        return next((key for key in ("all", "any", "not") if key in self.written), None)

    @property
    def subject_kind(self) -> str:
        return "question" if self.given("question") else "score"

    @property
    def op(self) -> str:
        return next(key for key in self.written if key in COMPARISONS)

    @property
    def operand(self) -> Any:
        return getattr(self, {"in": "in_"}.get(self.op, self.op))

    @property
    def parts(self) -> list[tuple[Loc, ConditionFile]]:
        key = self.combinator
        if key == "not":
            return [(("not",), self.not_)]
        items = self.all_ if key == "all" else self.any_
        return [((key, index), part) for index, part in enumerate(items or [])]

    @model_validator(mode="after")
    def _one_kind_of_condition(self) -> ConditionFile:
        written = self.written
        combinators = [key for key in ("all", "any", "not") if key in written]
        if combinators:
            if len(written) != 1:
                raise problem(f"{combinators[0]!r} must be the only field of its condition")
            return self
        if not written:
            raise problem("must be a condition mapping, not an empty mapping")
        if sum(key in written for key in ("question", "score")) != 1:
            raise problem("needs exactly one of 'question' or 'score'")
        if sum(key in written for key in COMPARISONS) != 1:
            raise problem(f"needs exactly one comparison (one of: {', '.join(COMPARISONS)})")
        return self

    def to_condition(self) -> Condition:
        if self.combinator == "not":
            return Not(self.not_.to_condition())
        if self.combinator:
            parts = tuple(part.to_condition() for _, part in self.parts)
            return AllOf(parts) if self.combinator == "all" else AnyOf(parts)
        operand = self.operand
        if isinstance(operand, list):
            operand = tuple(operand)
        return Leaf(self.subject_kind, getattr(self, self.subject_kind), self.op, operand)
