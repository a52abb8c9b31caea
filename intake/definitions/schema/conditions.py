"""Conditions as written in a definition file (``show_if``, a rule's ``when``, a band's ``when``) and their checks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, Field, model_validator

from intake.conditions import COMPARISONS, NUMERIC_COMPARISONS, AllOf, AnyOf, Condition, Leaf, Not
from intake.definitions.schema.base import FileModel, Id, Loc, Number, Scalar, kind, listed, problem
from intake.definitions.types import CHOICE_TYPES, MULTI_TYPES, NUMBER_TYPES, AnswerType

if TYPE_CHECKING:
    from intake.definitions.schema.questions import QuestionFile


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


def condition_problems(
    condition: ConditionFile,
    loc: Loc,
    *,
    questions: Mapping[str, QuestionFile] | None,
    scores: set[str] | None,
) -> Iterator[tuple[Loc, str]]:
    """What is wrong with the names and values a condition compares against.

    ``questions`` are those the condition may name (None: none may be), ``scores`` likewise.
    """
    if condition.combinator:
        for part_loc, part in condition.parts:
            yield from condition_problems(part, loc + part_loc, questions=questions, scores=scores)
        return
    subject, op, operand = getattr(condition, condition.subject_kind), condition.op, condition.operand
    here = (*loc, op)
    if condition.subject_kind == "score":
        if scores is None:
            yield (*loc, "score"), "scores can only be used in scoring bands"
        elif subject not in scores:
            yield (*loc, "score"), f"unknown score {subject!r} (known: {listed(scores)})"
        elif op != "answered" and op not in NUMERIC_COMPARISONS:
            yield here, "a score can only be compared with lt, lte, gt, gte or answered"
        return
    if questions is None:
        yield (*loc, "question"), "questions cannot be used here; compare scores"
    elif subject not in questions:
        yield (*loc, "question"), f"unknown question {subject!r} (it must be asked before this point)"
    else:
        yield from operand_problems(questions[subject], op, operand, here)


def operand_problems(question: QuestionFile, op: str, operand: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Whether ``operand`` is something ``question`` can be compared with by ``op``."""
    qtype = question.type
    if op == "answered" or op in NUMERIC_COMPARISONS:
        if op != "answered" and qtype not in NUMBER_TYPES:
            yield loc, f"{op!r} needs a number question; {question.id!r} is {qtype}"
        return
    values = operand if isinstance(operand, list) else [operand]
    if op in ("contains", "contains_any"):
        if qtype not in MULTI_TYPES:
            yield loc, f"{op!r} needs a multiple-choice question; {question.id!r} is {qtype}"
            return
    elif qtype in MULTI_TYPES:
        yield loc, f"use 'contains' or 'contains_any' with the multiple-choice question {question.id!r}"
        return
    for value in values:
        if qtype in CHOICE_TYPES:
            if value not in question.choice_values:
                yield loc, f"{value!r} is not a choice of {question.id!r} ({listed(question.choice_values)})"
        elif qtype is AnswerType.YES_NO and not isinstance(value, bool):
            yield loc, f"must be true or false, not {kind(value)}"
        elif qtype in NUMBER_TYPES and (isinstance(value, bool) or not isinstance(value, int)):
            yield loc, f"must be a whole number, not {kind(value)}"
        elif qtype is AnswerType.TEXT and not (isinstance(value, str) and value.strip()):
            yield loc, f"must be a non-empty string, not {kind(value)}"
