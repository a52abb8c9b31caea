"""Whether a condition's names and values fit the questions and scores it may compare against."""

from collections.abc import Iterator, Mapping
from typing import Any

from intake.conditions import NUMERIC_COMPARISONS
from intake.definitions.schema.base import Loc, kind, listed
from intake.definitions.schema.conditions import ConditionFile
from intake.definitions.schema.questions import QuestionFile
from intake.definitions.types import CHOICE_TYPES, MULTI_TYPES, NUMBER_TYPES, AnswerType


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
