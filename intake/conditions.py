"""Conditions used by `show_if`, triage rules and scoring bands, and their evaluation.

A condition is a small tree read from a definition file:

    {question: saddle_numbness, equals: true}
    {question: age, gt: 50}
    {question: tried, contains: other}
    {score: distress, gte: 4}
    {all: [...]}, {any: [...]}, {not: {...}}

Evaluation never raises: a value of the wrong type simply does not match. Each match carries its evidence
(the subjects and values that made it true), so that triage can say which answer triggered which rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

COMPARISONS = ("equals", "in", "contains", "contains_any", "lt", "lte", "gt", "gte", "answered")
NUMERIC_COMPARISONS = ("lt", "lte", "gt", "gte")


@dataclass(frozen=True)
class Leaf:
    """One comparison against one question's answer (``kind="question"``) or one score (``kind="score"``)."""

    kind: str
    subject: str
    op: str
    operand: Any


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    part: Condition


Condition = Leaf | AllOf | AnyOf | Not


@dataclass(frozen=True)
class Evidence:
    kind: str
    subject: str
    value: Any


def condition_subjects(condition: Condition) -> list[Leaf]:
    """Every leaf of the condition, in reading order."""
    if isinstance(condition, Leaf):
        return [condition]
    if isinstance(condition, Not):
        return condition_subjects(condition.part)
    return [leaf for part in condition.parts for leaf in condition_subjects(part)]


def condition_to_json(condition: Condition) -> dict[str, Any]:
    """The condition in the shape it was written in the definition file (for the browser's show/hide)."""
    if isinstance(condition, Leaf):
        operand = list(condition.operand) if isinstance(condition.operand, tuple) else condition.operand
        return {condition.kind: condition.subject, condition.op: operand}
    if isinstance(condition, Not):
        return {"not": condition_to_json(condition.part)}
    key = "all" if isinstance(condition, AllOf) else "any"
    return {key: [condition_to_json(part) for part in condition.parts]}


def condition_match(condition: Condition, values: Mapping[str, Any]) -> tuple[Evidence, ...] | None:
    """The evidence that makes ``condition`` true for ``values``, or None when it is false.

    ``values`` maps a subject id to its (already read) value; a missing subject is unanswered.
    A `not` contributes no evidence: an absence is not an answer to point at.
    """
    if isinstance(condition, Leaf):
        present = condition.subject in values and values[condition.subject] is not None
        value = values[condition.subject] if present else None
        if _leaf_true(condition.op, condition.operand, present, value):
            return (Evidence(condition.kind, condition.subject, value),)
        return None
    if isinstance(condition, Not):
        return () if condition_match(condition.part, values) is None else None
    if isinstance(condition, AllOf):
        evidence: list[Evidence] = []
        for part in condition.parts:
            found = condition_match(part, values)
            if found is None:
                return None
            evidence.extend(found)
        return tuple(evidence)
    for part in condition.parts:
        found = condition_match(part, values)
        if found is not None:
            return found
    return None


def condition_true(condition: Condition, values: Mapping[str, Any]) -> bool:
    return condition_match(condition, values) is not None


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not (isinstance(value, float) and math.isnan(value))


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python; an answer "yes" must never equal a number or the reverse.
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def _leaf_true(op: str, operand: Any, present: bool, value: Any) -> bool:
    if op == "answered":
        return present is bool(operand)
    if not present:
        return False
    if op == "equals":
        return _same(value, operand)
    if op == "in":
        return any(_same(value, item) for item in operand)
    if op in ("contains", "contains_any"):
        if not isinstance(value, list | tuple):
            return False
        wanted = [operand] if op == "contains" else list(operand)
        return any(_same(item, w) for item in value for w in wanted)
    if op in NUMERIC_COMPARISONS:
        if not _is_number(value):
            return False
        if op == "lt":
            return value < operand
        if op == "lte":
            return value <= operand
        if op == "gt":
            return value > operand
        return value >= operand
    return False
