"""Show-if conditions as FHIR ``enableWhen`` (with ``enableBehavior``) and back.

FHIR's enableWhen is a flat list joined by one ``all`` or ``any``; our conditions are trees. Export writes a
condition that fits the flat shape; ``condition_to_enable_when`` returns None for one that does not (a ``not``,
an ``all`` inside an ``any``), and the caller keeps it in an extension of ours. An unanswered question makes
``=``, ``<`` ... false in both languages, which is why ``not`` (true when unanswered) is not written as ``!=``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.questionnaire import QuestionnaireItemEnableWhen

from intake.conditions import NUMERIC_COMPARISONS, AllOf, AnyOf, Condition, Leaf
from intake.definitions.types import CHOICE_TYPES, MULTI_TYPES, NUMBER_TYPES, AnswerType, Question

OPERATORS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
COMPARISON_OF = {symbol: op for op, symbol in OPERATORS.items()}
NUMBER_ANSWERS = ("answerInteger", "answerDecimal")


# Export -------------------------------------------------------------------------------------------------------


def condition_to_enable_when(
    condition: Condition, questions: Mapping[str, Question]
) -> tuple[str | None, list[QuestionnaireItemEnableWhen]] | None:
    """(enableBehavior, enableWhen) for ``condition``, or None when the flat FHIR shape cannot say it.

    The behaviour is None when there is a single enableWhen (FHIR asks for it only with two or more).
    """
    alternatives = _alternatives(condition, questions)
    if alternatives is not None:
        return ("any" if len(alternatives) > 1 else None), alternatives
    if isinstance(condition, AllOf):
        parts = [_alternatives(part, questions) for part in condition.parts]
        if all(part is not None and len(part) == 1 for part in parts):
            return "all", [part[0] for part in parts]
    return None


def _alternatives(condition: Condition, questions: Mapping[str, Question]) -> list[QuestionnaireItemEnableWhen] | None:
    """The condition as enableWhen of which any one suffices, or None."""
    if isinstance(condition, Leaf):
        return _leaf_alternatives(condition, questions[condition.subject])
    if isinstance(condition, AnyOf):
        parts = [_alternatives(part, questions) for part in condition.parts]
        if all(part is not None for part in parts):
            return [alternative for part in parts for alternative in part]
    return None


def _leaf_alternatives(leaf: Leaf, question: Question) -> list[QuestionnaireItemEnableWhen]:
    if leaf.op == "answered":
        return [QuestionnaireItemEnableWhen(question=leaf.subject, operator="exists", answerBoolean=leaf.operand)]
    if leaf.op in NUMERIC_COMPARISONS:
        key = "answerInteger" if isinstance(leaf.operand, int) else "answerDecimal"
        return [QuestionnaireItemEnableWhen(question=leaf.subject, operator=OPERATORS[leaf.op], **{key: leaf.operand})]
    values = leaf.operand if leaf.op in ("in", "contains_any") else (leaf.operand,)
    return [
        QuestionnaireItemEnableWhen(question=leaf.subject, operator="=", **_answer(question, value)) for value in values
    ]


def _answer(question: Question, value: Any) -> dict[str, Any]:
    if question.type is AnswerType.YES_NO:
        return {"answerBoolean": value}
    if question.type in CHOICE_TYPES:
        return {"answerCoding": Coding(code=value, display=question.choice_label(value))}
    if question.type in NUMBER_TYPES:
        return {"answerInteger": value}
    return {"answerString": value}


# Import -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What an import knows of the question an enableWhen names: its id in the definition and its answers."""

    question_id: str
    type: AnswerType
    # FHIR answer code -> our choice value.
    codes: Mapping[str, str]


def condition_from_enable_when(
    link_id: str, item: Mapping[str, Any], targets: Mapping[str, Target]
) -> tuple[dict[str, Any] | None, list[str]]:
    """The show_if (in the file's shape) for ``item``'s enableWhen, or None with the reasons it cannot be.

    ``targets`` are the questions asked before ``item``, by FHIR linkId.
    """
    entries = item.get("enableWhen") or []
    behavior = item.get("enableBehavior")
    problems: list[str] = []
    if len(entries) > 1 and behavior not in ("all", "any"):
        problems.append(f"item {link_id!r}: several enableWhen need enableBehavior 'all' or 'any'")
    parts = []
    for entry in entries:
        part, problem = _entry_condition(link_id, entry, targets)
        problems.extend([problem] if problem else [])
        parts.append(part)
    if problems:
        return None, problems
    if len(parts) == 1:
        return parts[0], []
    return _merged(parts) if behavior == "any" else {behavior: parts}, []


def _entry_condition(link_id: str, entry: Mapping[str, Any], targets: Mapping[str, Target]) -> tuple[Any, str]:
    source, operator = entry.get("question"), entry.get("operator")
    where = f"item {link_id!r}: enableWhen on {source!r}"
    target = targets.get(source)
    if target is None:
        return None, f"{where}: no question before this item has that linkId (a condition may only look back)"
    key, value = next(((k, v) for k, v in entry.items() if k.startswith("answer")), (None, None))
    if operator == "exists" and key == "answerBoolean":
        return {"question": target.question_id, "answered": value}, ""
    if operator in COMPARISON_OF and key in NUMBER_ANSWERS and target.type in NUMBER_TYPES:
        return {"question": target.question_id, COMPARISON_OF[operator]: value}, ""
    if operator in ("=", "!="):
        operand, problem = _operand(target, key, value)
        if problem:
            return None, f"{where}: {problem}"
        if operator == "=":
            return {"question": target.question_id, "contains" if target.type in MULTI_TYPES else "equals": operand}, ""
        if target.type not in MULTI_TYPES:
            # '!=' is false while the question is unanswered; our 'not' alone would be true then.
            equals = {"question": target.question_id, "equals": operand}
            return {"all": [{"question": target.question_id, "answered": True}, {"not": equals}]}, ""
        return None, f"{where}: operator '!=' on a question with several answers has no equivalent"
    return (
        None,
        f"{where}: operator {operator!r} with {key or 'no answer'} has no equivalent for a {target.type} question",
    )


def _operand(target: Target, key: str | None, value: Any) -> tuple[Any, str]:
    expected = {AnswerType.YES_NO: "answerBoolean", AnswerType.TEXT: "answerString"}.get(target.type)
    if target.type in CHOICE_TYPES:
        code = (value or {}).get("code") if key == "answerCoding" else value if key == "answerString" else None
        if code not in target.codes:
            return None, f"the answer {code!r} is not one of the question's options"
        return target.codes[code], ""
    if target.type in NUMBER_TYPES:
        expected = "answerInteger"
    if key != expected:
        return None, f"{key or 'no answer'} cannot be compared with a {target.type} question"
    return value, ""


def _merged(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """``any`` of equals (or contains) on one question, as ``in`` (or ``contains_any``): the shape we export."""
    subjects = {part.get("question") for part in parts}
    ops = {next((key for key in part if key != "question"), None) for part in parts}
    if len(subjects) == 1 and ops in ({"equals"}, {"contains"}):
        op = "in" if ops == {"equals"} else "contains_any"
        return {"question": subjects.pop(), op: [next(v for k, v in part.items() if k != "question") for part in parts]}
    return {"any": parts}
