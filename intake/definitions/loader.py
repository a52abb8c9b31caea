"""Read a questionnaire definition file and check every part of it before anything uses it.

Every mistake raises `DefinitionError` naming the file and the field, e.g.
``intake/definitions/back-pain/v1.yaml: steps[2].questions[0].show_if.question: unknown question 'pian_now'``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from intake.conditions import COMPARISONS, NUMERIC_COMPARISONS, AllOf, AnyOf, Condition, Leaf, Not, condition_subjects
from intake.definitions.types import (
    BODY_AREAS,
    CHOICE_TYPES,
    MULTI_TYPES,
    NUMBER_TYPES,
    AnswerType,
    Band,
    Choice,
    Definition,
    Instrument,
    Question,
    Rule,
    Score,
    ScoreItem,
    Step,
    Tier,
)

ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
CHOICE_RE = re.compile(r"^[a-z0-9][a-z0-9_]{0,62}$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+){0,8}$")
FILE_RE = re.compile(r"^v([1-9][0-9]*)\.ya?ml$")
MAX_TEXT_LENGTH = 5000
MAX_SCALE_POINTS = 21

DEFINITION_KEYS = {"slug", "version", "title", "intro", "steps", "rules", "instruments"}
STEP_KEYS = {"id", "title", "intro", "screening", "questions"}
QUESTION_KEYS = {
    "id",
    "type",
    "text",
    "help",
    "required",
    "choices",
    "min",
    "max",
    "min_label",
    "max_label",
    "max_length",
    "show_if",
}
TYPE_KEYS = {
    AnswerType.YES_NO: set(),
    AnswerType.SINGLE_CHOICE: {"choices"},
    AnswerType.MULTI_CHOICE: {"choices"},
    AnswerType.BODY_AREA: {"choices"},
    AnswerType.SCALE: {"min", "max", "min_label", "max_label"},
    AnswerType.INTEGER: {"min", "max"},
    AnswerType.TEXT: {"max_length"},
}
RULE_KEYS = {"id", "tier", "when", "reason", "source"}
INSTRUMENT_KEYS = {"id", "title", "source", "items", "scores", "bands", "max_missing"}
BAND_KEYS = {"id", "label", "when", "tier"}


class DefinitionError(ValueError):
    """A definition file is not usable. The message names the file, the field and the problem."""

    def __init__(self, source: str, where: str, problem: str):
        self.source, self.where, self.problem = source, where, problem
        super().__init__(f"{source}: {where}: {problem}" if where else f"{source}: {problem}")


def definition_load(path: Path | str) -> Definition:
    """Parse and validate one file named ``<slug>/v<N>.yaml``; its slug and version must match the name."""
    path = Path(path)
    source = str(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DefinitionError(source, "", f"cannot be read ({error.strerror or error})") from error
    except yaml.YAMLError as error:
        raise DefinitionError(source, "", f"is not valid YAML ({error})") from error
    definition = definition_from_dict(raw, source=source, path=path)
    match = FILE_RE.match(path.name)
    if match is None:
        raise DefinitionError(source, "", "the file name must be v<version>.yaml, e.g. v1.yaml")
    if int(match.group(1)) != definition.version:
        raise DefinitionError(source, "version", f"is {definition.version} but the file is named {path.name}")
    if path.parent.name != definition.slug:
        raise DefinitionError(source, "slug", f"is {definition.slug!r} but the file is in {path.parent.name!r}/")
    return definition


def definition_from_dict(raw: Any, *, source: str = "<definition>", path: Path | None = None) -> Definition:
    """Validate an already-parsed definition (a dict as read from YAML)."""
    return _Reader(source).definition(raw, path)


class _Reader:
    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, problem: str) -> DefinitionError:
        return DefinitionError(self.source, where, problem)

    # Small typed getters -------------------------------------------------------------------------------

    def mapping(self, raw: Any, where: str, allowed: set[str], required: set[str]) -> Mapping[str, Any]:
        if not isinstance(raw, Mapping):
            raise self.fail(where, f"must be a mapping, not {_kind(raw)}")
        for key in raw:
            if key not in allowed:
                raise self.fail(f"{where}.{key}" if where else str(key), f"unknown field (allowed: {_list(allowed)})")
        for key in sorted(required):
            if key not in raw:
                raise self.fail(where, f"missing required field {key!r}")
        return raw

    def text(self, raw: Any, where: str, *, optional: bool = False) -> str:
        if raw is None and optional:
            return ""
        if not isinstance(raw, str) or not raw.strip():
            raise self.fail(where, f"must be a non-empty string, not {_kind(raw)}")
        return " ".join(raw.split())

    def integer(self, raw: Any, where: str) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise self.fail(where, f"must be a whole number, not {_kind(raw)}")
        return raw

    def number(self, raw: Any, where: str) -> float | int:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise self.fail(where, f"must be a number, not {_kind(raw)}")
        return raw

    def boolean(self, raw: Any, where: str) -> bool:
        if not isinstance(raw, bool):
            raise self.fail(where, f"must be true or false, not {_kind(raw)}")
        return raw

    def identifier(self, raw: Any, where: str, pattern: re.Pattern = ID_RE) -> str:
        if not isinstance(raw, str) or not pattern.match(raw):
            raise self.fail(where, f"{raw!r} is not a valid id (lowercase letters, digits and _, e.g. pain_now)")
        return raw

    def sequence(self, raw: Any, where: str, *, allow_empty: bool = False) -> list[Any]:
        if not isinstance(raw, list):
            raise self.fail(where, f"must be a list, not {_kind(raw)}")
        if not raw and not allow_empty:
            raise self.fail(where, "must not be empty")
        return raw

    def tier(self, raw: Any, where: str) -> Tier:
        if raw not in Tier.values:
            raise self.fail(where, f"{raw!r} is not a tier (one of: {', '.join(Tier.values)})")
        return Tier(raw)

    # The definition --------------------------------------------------------------------------------------

    def definition(self, raw: Any, path: Path | None) -> Definition:
        raw = self.mapping(raw, "", DEFINITION_KEYS, {"slug", "version", "title", "steps"})
        slug = self.identifier(raw["slug"], "slug", SLUG_RE)
        version = self.integer(raw["version"], "version")
        if version < 1:
            raise self.fail("version", "must be 1 or more")
        seen: dict[str, Question] = {}
        step_ids: set[str] = set()
        steps = []
        for index, step_raw in enumerate(self.sequence(raw["steps"], "steps")):
            step = self.step(step_raw, f"steps[{index}]", seen)
            if step.id in step_ids:
                raise self.fail(f"steps[{index}].id", f"duplicate step id {step.id!r}")
            step_ids.add(step.id)
            steps.append(step)
        screening_done = False
        for index, step in enumerate(steps):
            if step.screening and screening_done:
                raise self.fail(f"steps[{index}].screening", "screening steps must come before all other steps")
            screening_done = screening_done or not step.screening
        rules = self.rules(raw.get("rules", []), seen, steps)
        instruments = self.instruments(raw.get("instruments", []), seen)
        return Definition(
            slug=slug,
            version=version,
            title=self.text(raw["title"], "title"),
            intro=self.text(raw.get("intro"), "intro", optional=True),
            steps=tuple(steps),
            rules=rules,
            instruments=instruments,
            path=path,
        )

    def step(self, raw: Any, where: str, seen: dict[str, Question]) -> Step:
        raw = self.mapping(raw, where, STEP_KEYS, {"id", "title", "questions"})
        step_id = self.identifier(raw["id"], f"{where}.id")
        questions = []
        for index, question_raw in enumerate(self.sequence(raw["questions"], f"{where}.questions")):
            question = self.question(question_raw, f"{where}.questions[{index}]", step_id, seen)
            seen[question.id] = question
            questions.append(question)
        return Step(
            id=step_id,
            title=self.text(raw["title"], f"{where}.title"),
            intro=self.text(raw.get("intro"), f"{where}.intro", optional=True),
            screening=self.boolean(raw.get("screening", False), f"{where}.screening"),
            questions=tuple(questions),
        )

    def question(self, raw: Any, where: str, step_id: str, seen: dict[str, Question]) -> Question:
        raw = self.mapping(raw, where, QUESTION_KEYS, {"id", "type", "text"})
        question_id = self.identifier(raw["id"], f"{where}.id")
        if question_id in seen:
            raise self.fail(f"{where}.id", f"duplicate question id {question_id!r}")
        if raw["type"] not in set(AnswerType):
            raise self.fail(f"{where}.type", f"{raw['type']!r} is not an answer type (one of: {_list(AnswerType)})")
        answer_type = AnswerType(raw["type"])
        for key in raw:
            if key in set().union(*TYPE_KEYS.values()) and key not in TYPE_KEYS[answer_type]:
                raise self.fail(f"{where}.{key}", f"does not apply to a {answer_type} question")
        fields: dict[str, Any] = {}
        if answer_type in CHOICE_TYPES:
            fields["choices"] = self.choices(raw.get("choices"), f"{where}.choices", answer_type)
        elif answer_type in NUMBER_TYPES:
            default_min, default_max = (0, 10) if answer_type is AnswerType.SCALE else (None, None)
            for key, default in (("min", default_min), ("max", default_max)):
                if key not in raw and default is None:
                    raise self.fail(where, f"missing required field {key!r} for an integer question")
            low = self.integer(raw.get("min", default_min), f"{where}.min")
            high = self.integer(raw.get("max", default_max), f"{where}.max")
            if low >= high:
                raise self.fail(f"{where}.max", f"must be greater than min ({low})")
            if answer_type is AnswerType.SCALE:
                if high - low + 1 > MAX_SCALE_POINTS:
                    raise self.fail(f"{where}.max", f"a scale has at most {MAX_SCALE_POINTS} points")
                fields["min_label"] = self.text(raw.get("min_label"), f"{where}.min_label", optional=True)
                fields["max_label"] = self.text(raw.get("max_label"), f"{where}.max_label", optional=True)
            fields["min_value"], fields["max_value"] = low, high
        elif answer_type is AnswerType.TEXT:
            if "max_length" not in raw:
                raise self.fail(where, "missing required field 'max_length' for a text question")
            length = self.integer(raw["max_length"], f"{where}.max_length")
            if not 1 <= length <= MAX_TEXT_LENGTH:
                raise self.fail(f"{where}.max_length", f"must be between 1 and {MAX_TEXT_LENGTH}")
            fields["max_length"] = length
        show_if = None
        if "show_if" in raw:
            show_if = self.condition(raw["show_if"], f"{where}.show_if", questions=seen, scores=None)
        return Question(
            id=question_id,
            type=answer_type,
            text=self.text(raw["text"], f"{where}.text"),
            help=self.text(raw.get("help"), f"{where}.help", optional=True),
            required=self.boolean(raw.get("required", True), f"{where}.required"),
            step_id=step_id,
            show_if=show_if,
            **fields,
        )

    def choices(self, raw: Any, where: str, answer_type: AnswerType) -> tuple[Choice, ...]:
        if raw is None:
            raise self.fail(where, f"a {answer_type} question needs choices")
        choices = []
        values = set()
        for index, choice_raw in enumerate(self.sequence(raw, where)):
            here = f"{where}[{index}]"
            choice_raw = self.mapping(choice_raw, here, {"value", "label"}, {"value", "label"})
            value = self.identifier(choice_raw["value"], f"{here}.value", CHOICE_RE)
            if value in values:
                raise self.fail(f"{here}.value", f"duplicate choice {value!r}")
            if answer_type is AnswerType.BODY_AREA and value not in BODY_AREAS:
                raise self.fail(f"{here}.value", f"{value!r} is not an area of the body diagram")
            values.add(value)
            choices.append(Choice(value=value, label=self.text(choice_raw["label"], f"{here}.label")))
        return tuple(choices)

    # Conditions ------------------------------------------------------------------------------------------

    def condition(
        self, raw: Any, where: str, *, questions: Mapping[str, Question] | None, scores: set[str] | None
    ) -> Condition:
        if not isinstance(raw, Mapping) or not raw:
            raise self.fail(where, f"must be a condition mapping, not {_kind(raw)}")
        combinators = [key for key in ("all", "any", "not") if key in raw]
        if combinators:
            if len(raw) != 1:
                raise self.fail(where, f"{combinators[0]!r} must be the only field of its condition")
            key = combinators[0]
            if key == "not":
                return Not(self.condition(raw["not"], f"{where}.not", questions=questions, scores=scores))
            parts = tuple(
                self.condition(part, f"{where}.{key}[{index}]", questions=questions, scores=scores)
                for index, part in enumerate(self.sequence(raw[key], f"{where}.{key}"))
            )
            return AllOf(parts) if key == "all" else AnyOf(parts)
        subject_keys = [key for key in ("question", "score") if key in raw]
        ops = [key for key in raw if key in COMPARISONS]
        unknown = set(raw) - set(subject_keys) - set(ops)
        if unknown:
            allowed = ["all", "any", "not", "question", "score", *COMPARISONS]
            raise self.fail(f"{where}.{sorted(unknown)[0]}", f"unknown field (allowed: {', '.join(allowed)})")
        if len(subject_keys) != 1:
            raise self.fail(where, "needs exactly one of 'question' or 'score'")
        if len(ops) != 1:
            raise self.fail(where, f"needs exactly one comparison (one of: {', '.join(COMPARISONS)})")
        kind, op = subject_keys[0], ops[0]
        subject = raw[kind]
        operand = raw[op]
        here = f"{where}.{op}"
        if kind == "score":
            if scores is None:
                raise self.fail(f"{where}.score", "scores can only be used in scoring bands")
            if subject not in scores:
                raise self.fail(f"{where}.score", f"unknown score {subject!r} (known: {_list(scores)})")
            if op == "answered":
                self.boolean(operand, here)
            elif op in NUMERIC_COMPARISONS:
                self.number(operand, here)
            else:
                raise self.fail(here, "a score can only be compared with lt, lte, gt, gte or answered")
            return Leaf(kind, subject, op, operand)
        if questions is None:
            raise self.fail(f"{where}.question", "questions cannot be used here; compare scores")
        if subject not in questions:
            raise self.fail(f"{where}.question", f"unknown question {subject!r} (it must be asked before this point)")
        question = questions[subject]
        return Leaf(kind, subject, op, self.operand(question, op, operand, here))

    def operand(self, question: Question, op: str, operand: Any, where: str) -> Any:
        qtype = question.type
        if op == "answered":
            return self.boolean(operand, where)
        if op in NUMERIC_COMPARISONS:
            if qtype not in NUMBER_TYPES:
                raise self.fail(where, f"{op!r} needs a number question; {question.id!r} is {qtype}")
            return self.number(operand, where)
        if op in ("contains", "contains_any"):
            if qtype not in MULTI_TYPES:
                raise self.fail(where, f"{op!r} needs a multiple-choice question; {question.id!r} is {qtype}")
            values = [operand] if op == "contains" else self.sequence(operand, where)
            for value in values:
                self.choice_operand(question, value, where)
            return operand if op == "contains" else tuple(values)
        if qtype in MULTI_TYPES:
            raise self.fail(
                where, f"use 'contains' or 'contains_any' with the multiple-choice question {question.id!r}"
            )
        values = [operand] if op == "equals" else self.sequence(operand, where)
        for value in values:
            if qtype is AnswerType.YES_NO:
                self.boolean(value, where)
            elif qtype is AnswerType.SINGLE_CHOICE:
                self.choice_operand(question, value, where)
            elif qtype in NUMBER_TYPES:
                self.integer(value, where)
            else:
                self.text(value, where)
        return operand if op == "equals" else tuple(values)

    def choice_operand(self, question: Question, value: Any, where: str) -> None:
        if value not in question.choice_values:
            raise self.fail(where, f"{value!r} is not a choice of {question.id!r} ({_list(question.choice_values)})")

    # Triage rules -----------------------------------------------------------------------------------------

    def rules(self, raw: Any, questions: Mapping[str, Question], steps: list[Step]) -> tuple[Rule, ...]:
        screening = {question.id for step in steps if step.screening for question in step.questions}
        rules = []
        ids: set[str] = set()
        for index, rule_raw in enumerate(self.sequence(raw, "rules", allow_empty=True)):
            where = f"rules[{index}]"
            rule_raw = self.mapping(rule_raw, where, RULE_KEYS, RULE_KEYS)
            rule_id = self.identifier(rule_raw["id"], f"{where}.id")
            if rule_id in ids:
                raise self.fail(f"{where}.id", f"duplicate rule id {rule_id!r}")
            ids.add(rule_id)
            tier = self.tier(rule_raw["tier"], f"{where}.tier")
            when = self.condition(rule_raw["when"], f"{where}.when", questions=questions, scores=None)
            if tier is Tier.EMERGENCY:
                # The emergency advice is shown before any further question, so an emergency can only rest on
                # answers from the screening steps.
                outside = [leaf.subject for leaf in condition_subjects(when) if leaf.subject not in screening]
                if outside:
                    raise self.fail(
                        f"{where}.when", f"an emergency rule may only use screening questions, not {outside[0]!r}"
                    )
            rules.append(
                Rule(
                    id=rule_id,
                    tier=tier,
                    when=when,
                    reason=self.text(rule_raw["reason"], f"{where}.reason"),
                    source=self.text(rule_raw["source"], f"{where}.source"),
                )
            )
        return tuple(rules)

    # Scored instruments -----------------------------------------------------------------------------------

    def instruments(self, raw: Any, questions: Mapping[str, Question]) -> tuple[Instrument, ...]:
        instruments = []
        ids: set[str] = set()
        for index, instrument_raw in enumerate(self.sequence(raw, "instruments", allow_empty=True)):
            where = f"instruments[{index}]"
            instrument = self.instrument(instrument_raw, where, questions)
            if instrument.id in ids:
                raise self.fail(f"{where}.id", f"duplicate instrument id {instrument.id!r}")
            ids.add(instrument.id)
            instruments.append(instrument)
        return tuple(instruments)

    def instrument(self, raw: Any, where: str, questions: Mapping[str, Question]) -> Instrument:
        raw = self.mapping(raw, where, INSTRUMENT_KEYS, {"id", "title", "source", "items", "scores", "bands"})
        items = []
        item_ids: list[str] = []
        for index, item_raw in enumerate(self.sequence(raw["items"], f"{where}.items")):
            item = self.score_item(item_raw, f"{where}.items[{index}]", questions)
            if item.question_id in item_ids:
                raise self.fail(f"{where}.items[{index}].question", f"{item.question_id!r} is listed twice")
            item_ids.append(item.question_id)
            items.append(item)
        scores = []
        for index, score_raw in enumerate(self.sequence(raw["scores"], f"{where}.scores")):
            here = f"{where}.scores[{index}]"
            score_raw = self.mapping(score_raw, here, {"id", "label", "items"}, {"id", "label", "items"})
            score_id = self.identifier(score_raw["id"], f"{here}.id")
            if any(score.id == score_id for score in scores):
                raise self.fail(f"{here}.id", f"duplicate score id {score_id!r}")
            if score_raw["items"] == "all":
                members = tuple(item_ids)
            else:
                members = tuple(self.sequence(score_raw["items"], f"{here}.items"))
                for member in members:
                    if member not in item_ids:
                        raise self.fail(f"{here}.items", f"{member!r} is not an item of this instrument")
            scores.append(Score(id=score_id, label=self.text(score_raw["label"], f"{here}.label"), item_ids=members))
        score_ids = {score.id for score in scores}
        bands = []
        for index, band_raw in enumerate(self.sequence(raw["bands"], f"{where}.bands")):
            here = f"{where}.bands[{index}]"
            band_raw = self.mapping(band_raw, here, BAND_KEYS, {"id", "label"})
            band_id = self.identifier(band_raw["id"], f"{here}.id")
            if any(band.id == band_id for band in bands):
                raise self.fail(f"{here}.id", f"duplicate band id {band_id!r}")
            if bands and bands[-1].when is None:
                raise self.fail(here, "comes after the fallback band (the one without 'when'), so it is never used")
            when = None
            if "when" in band_raw:
                when = self.condition(band_raw["when"], f"{here}.when", questions=None, scores=score_ids)
            tier = self.tier(band_raw["tier"], f"{here}.tier") if "tier" in band_raw else None
            bands.append(Band(id=band_id, label=self.text(band_raw["label"], f"{here}.label"), when=when, tier=tier))
        max_missing = self.integer(raw.get("max_missing", 0), f"{where}.max_missing")
        if not 0 <= max_missing < len(items):
            raise self.fail(f"{where}.max_missing", f"must be between 0 and {len(items) - 1}")
        return Instrument(
            id=self.identifier(raw["id"], f"{where}.id"),
            title=self.text(raw["title"], f"{where}.title"),
            source=self.text(raw["source"], f"{where}.source"),
            items=tuple(items),
            scores=tuple(scores),
            bands=tuple(bands),
            max_missing=max_missing,
        )

    def score_item(self, raw: Any, where: str, questions: Mapping[str, Question]) -> ScoreItem:
        raw = self.mapping(raw, where, {"question", "values"}, {"question"})
        question_id = raw["question"]
        if question_id not in questions:
            raise self.fail(f"{where}.question", f"unknown question {question_id!r}")
        question = questions[question_id]
        if question.type is AnswerType.TEXT:
            raise self.fail(f"{where}.question", f"{question_id!r} is a text question and cannot be scored")
        if question.type in NUMBER_TYPES and "values" not in raw:
            return ScoreItem(question_id=question_id)
        if "values" not in raw:
            raise self.fail(where, f"missing required field 'values' (points for each answer to {question_id!r})")
        values_raw = raw["values"]
        if not isinstance(values_raw, Mapping) or not values_raw:
            raise self.fail(f"{where}.values", f"must be a mapping of answer to points, not {_kind(values_raw)}")
        if question.type is AnswerType.YES_NO:
            expected: tuple[Any, ...] = (True, False)
        elif question.type in NUMBER_TYPES:
            expected = tuple(range(question.min_value, question.max_value + 1))
        else:
            expected = question.choice_values
        for answer in values_raw:
            if not any(type(answer) is type(e) and answer == e for e in expected):
                raise self.fail(f"{where}.values", f"{_as_yaml(answer)} is not an answer to {question_id!r}")
        if question.type not in MULTI_TYPES:
            missing = [e for e in expected if not any(type(a) is type(e) and a == e for a in values_raw)]
            if missing:
                raise self.fail(f"{where}.values", f"no points given for the answer {_as_yaml(missing[0])}")
        values = tuple(
            (answer, self.number(points, f"{where}.values.{answer}")) for answer, points in values_raw.items()
        )
        return ScoreItem(question_id=question_id, values=values)


def _kind(raw: Any) -> str:
    if isinstance(raw, str):
        return f"text {raw!r}"
    if isinstance(raw, bool):
        return f"{str(raw).lower()}"
    names = {type(None): "nothing", dict: "a mapping", list: "a list", int: "a number", float: "a number"}
    return names.get(type(raw), type(raw).__name__)


def _as_yaml(value: Any) -> str:
    """A value as it is written in the file: true / false rather than Python's True / False."""
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _list(values: Any) -> str:
    return ", ".join(sorted(str(value) for value in values))
