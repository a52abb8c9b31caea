"""A FHIR ``Questionnaire`` made elsewhere (LHC-Forms, another clinic) read as a new definition version.

All or nothing: the result is either a definition in the shape of a definition file, valid for the engine, or
the list of everything that cannot be expressed, each naming the item (its linkId) and the reason. Groups at
the top become steps; questions at the top (outside any group) are gathered into a step of their own. A linkId
or answer code that is not a valid id here is rewritten (lowercase, ``_``) and the rewrite is listed in
``notes``, as is a text answer given the engine's longest length for want of a ``maxLength``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from fhir.resources.R4B.questionnaire import Questionnaire
from pydantic import ValidationError

from clinic.text import text_hidden_character
from intake.definitions.loader import definition_problems
from intake.definitions.schema import SLUG_PATTERN, DefinitionFile
from intake.definitions.schema.base import MAX_TEXT_LENGTH
from intake.definitions.types import CHOICE_TYPES, NUMBER_TYPES, AnswerType
from intake.fhir import codes
from intake.fhir.enable_when import Target, condition_from_enable_when

SLUG_IDENTIFIER_SUFFIX = "/fhir/questionnaire-slug"
# FHIR item types that have an answer type here (the rest are in NO_EQUIVALENT, or not FHIR at all).
QUESTION_TYPES = frozenset({"boolean", "integer", "string", "text", "choice"})
# FHIR item types with no answer type here, and why (for the explanation).
NO_EQUIVALENT = {
    "decimal": "numbers here are whole numbers",
    "open-choice": "a choice here cannot also take free text",
    "date": "there is no date answer",
    "dateTime": "there is no date answer",
    "time": "there is no time answer",
    "url": "there is no web address answer",
    "attachment": "there is no file upload",
    "reference": "there is no reference to another record",
    "quantity": "there is no answer with a unit",
    "question": "it is not an R4 item type",
}
UNSUPPORTED_FIELDS = {
    "initial": "a pre-filled answer has no equivalent",
    "answerValueSet": "answers from a value set cannot be read; list them as answerOption",
    "modifierExtension": "a modifier extension changes the meaning in a way not understood here",
    "definition": None,  # a link to a data element: harmless, passed over
}
# Deeper than any Questionnaire needs (a step's question's help text is about 8 levels down).
MAX_DEPTH = 64
TOO_DEEP = f"the file nests more than {MAX_DEPTH} levels deep; a Questionnaire never needs that many"
# Prose, where a line break is text: the serializer quotes it. Anywhere else a line break is refused.
MULTI_LINE_FIELDS = frozenset({"description", "text"})
# What YAML 1.1 (PyYAML) reads as the end of a line.
YAML_LINE_BREAKS = frozenset("\n\r\x85\u2028\u2029")
KNOWN_EXTENSIONS = {
    codes.MIN_VALUE,
    codes.MAX_VALUE,
    codes.ITEM_CONTROL,
    codes.ANSWER_TYPE,
    codes.SCREENING,
    codes.MIN_LABEL,
    codes.MAX_LABEL,
    codes.SHOW_IF,
}


@dataclass(frozen=True)
class QuestionnaireImport:
    """What an import found: the definition (file shape) when everything fits, else the problems."""

    definition: dict[str, Any] | None
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def questionnaire_from_fhir(data: str | bytes | dict, *, version: int, slug: str | None = None) -> QuestionnaireImport:
    """Read a Questionnaire (JSON text or parsed) as version ``version`` of a definition.

    The slug is ``slug`` when given, else the one in our own identifier, else made from the name or title.
    Never raises on bad input: a file that is not a valid R4 Questionnaire is one more problem.
    """
    raw, problems = _parsed(data)
    if raw is None:
        return QuestionnaireImport(definition=None, problems=tuple(problems))
    reader = _Reader()
    definition = reader.definition(raw, slug=slug, version=version)
    if not reader.problems:
        reader.validate(definition)
    if reader.problems:
        return QuestionnaireImport(definition=None, problems=tuple(reader.problems), notes=tuple(reader.notes))
    return QuestionnaireImport(definition=definition, notes=tuple(reader.notes))


def _parsed(data: str | bytes | dict) -> tuple[dict | None, list[str]]:
    try:
        raw = json.loads(data) if isinstance(data, str | bytes) else data
    except ValueError as error:
        return None, [f"the file is not JSON ({error})"]
    except RecursionError:
        return None, [TOO_DEEP]
    if not isinstance(raw, dict) or raw.get("resourceType") != "Questionnaire":
        return None, ["the file is not a FHIR Questionnaire (its resourceType must be 'Questionnaire')"]
    # Before the FHIR models see it: they (and the reader below) recurse into nested items.
    problems = _strings_problems(raw)
    if problems:
        return None, problems
    try:
        Questionnaire.model_validate(raw)
    except ValidationError as error:
        return None, [_fhir_error(details) for details in error.errors(include_url=False)[:20]]
    return raw, []


def _strings_problems(raw: dict[str, Any]) -> list[str]:
    """Every string (key or value) that a definition file must not hold, naming its field; or the nesting depth.

    Walked with a stack, not recursion, so that no nesting raises. A line break is allowed only in the fields
    that are prose (``MULTI_LINE_FIELDS``), where the serializer quotes it; elsewhere, as in the ``version`` that
    heads the file in a comment, it could start a line of YAML of its own.
    """
    problems: list[str] = []
    stack: list[tuple[tuple[str, ...], Any]] = [((), raw)]
    while stack:
        path, value = stack.pop()
        if len(path) > MAX_DEPTH:
            return [TOO_DEEP]
        if isinstance(value, dict):
            for key, child in value.items():
                problem = _string_problem(str(key), (*path, str(key)), multi_line=False, what="name")
                problems.extend([problem] if problem else [])
                stack.append(((*path, str(key)), child))
        elif isinstance(value, list):
            stack.extend(((*path, str(index)), child) for index, child in enumerate(value))
        elif isinstance(value, str):
            multi_line = bool(path) and path[-1] in MULTI_LINE_FIELDS
            problem = _string_problem(value, path, multi_line=multi_line, what="field")
            problems.extend([problem] if problem else [])
    return sorted(problems)


def _string_problem(text: str, path: tuple[str, ...], *, multi_line: bool, what: str) -> str | None:
    where = f"the {what} {'.'.join(path) or 'at the top'}"
    for char in text:
        if char in YAML_LINE_BREAKS and not (multi_line and char in "\n\r"):
            return f"{where} holds a line break (U+{ord(char):04X}); it must be one line"
    hidden = text_hidden_character(text)
    if hidden is not None:
        return f"{where} holds a control character (U+{ord(hidden):04X}), which a definition cannot hold"
    return None


def definition_text_matches(text: str, definition: dict[str, Any]) -> bool:
    """Whether a definition file's text reads back as exactly ``definition`` (and nothing more)."""
    try:
        return yaml.safe_load(text) == definition
    except yaml.YAMLError:
        return False


def _fhir_error(details: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in details["loc"] if part != "Questionnaire")
    return f"not a valid R4 Questionnaire at {where or 'the top'}: {details['msg']}"


def as_id(text: str, *, letter_first: bool = True) -> str:
    """``text`` as an id here: lowercase, runs of anything else as ``_``; a question's id starts with a letter."""
    cleaned = re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")
    if letter_first and not cleaned[:1].isalpha():
        cleaned = f"q_{cleaned}"
    return cleaned[:63]


@dataclass
class _Reader:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Questions read so far, by FHIR linkId: what a later enableWhen may name.
    targets: dict[str, Target] = field(default_factory=dict)
    used_ids: set[str] = field(default_factory=set)

    def definition(self, raw: dict[str, Any], *, slug: str | None, version: int) -> dict[str, Any]:
        result: dict[str, Any] = {
            "slug": slug or self.slug(raw),
            "version": version,
            "title": raw.get("title") or raw.get("name") or "",
        }
        if not result["title"]:
            self.problems.append("the Questionnaire has neither a title nor a name")
        if raw.get("description"):
            result["intro"] = raw["description"]
        result["steps"] = self.steps(raw.get("item") or [], default_title=result["title"])
        if not result["steps"]:
            self.problems.append("the Questionnaire has no items")
        return result

    def slug(self, raw: dict[str, Any]) -> str:
        for identifier in raw.get("identifier") or ():
            if str(identifier.get("system", "")).endswith(SLUG_IDENTIFIER_SUFFIX):
                return identifier.get("value", "")
        slug = re.sub(r"[^a-z0-9]+", "-", (raw.get("name") or raw.get("title") or "").lower()).strip("-")
        if not re.match(SLUG_PATTERN, slug):
            self.problems.append("no slug can be made from the name or title: give one (--slug)")
        return slug

    def steps(self, items: list[dict[str, Any]], *, default_title: str) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = []
        loose: list[dict[str, Any]] = []
        for item in items:
            if item.get("type") == "group":
                self.flush(loose, steps, default_title)
                steps.append(self.step(item))
            else:
                loose.append(item)
        self.flush(loose, steps, default_title)
        return steps

    def flush(self, loose: list[dict[str, Any]], steps: list[dict[str, Any]], title: str) -> None:
        """Questions outside any group become a step of their own."""
        if loose:
            step_id = f"part_{len(steps) + 1}"
            self.notes.append(f"items {', '.join(repr(i.get('linkId')) for i in loose)} form step {step_id!r}")
            steps.append({"id": step_id, "title": title, "questions": self.questions(loose, parent=None)})
            loose.clear()

    def step(self, group: dict[str, Any]) -> dict[str, Any]:
        link_id = group.get("linkId", "")
        self.unsupported(group, link_id)
        if group.get("repeats"):
            self.problems.append(f"item {link_id!r}: a repeating group has no equivalent")
        if group.get("enableWhen"):
            self.problems.append(
                f"item {link_id!r}: a condition on a whole group has no equivalent; put it on its questions"
            )
        step: dict[str, Any] = {"id": self.own_id(link_id), "title": group.get("text") or ""}
        if not step["title"]:
            self.problems.append(f"item {link_id!r}: a group needs text (it is the page's title)")
        if codes.extension_value(group, codes.SCREENING) is True:
            step["screening"] = True
        children = list(group.get("item") or [])
        if children and children[0].get("type") == "display" and codes.item_control_code(children[0]) is None:
            step["intro"] = children.pop(0).get("text")
        step["questions"] = self.questions(children, parent=link_id)
        if not step["questions"]:
            self.problems.append(f"item {link_id!r}: a group without questions has no equivalent")
        return step

    def questions(self, items: list[dict[str, Any]], *, parent: str | None) -> list[dict[str, Any]]:
        questions = []
        for item in items:
            link_id, kind = item.get("linkId", ""), item.get("type")
            if kind == "group":
                self.problems.append(
                    f"item {link_id!r}: a group inside the group {parent!r}; steps hold questions only"
                )
            elif kind == "display":
                self.problems.append(f"item {link_id!r}: text between questions (a display item) has no equivalent")
            else:
                question = self.question(item)
                if question is not None:
                    questions.append(question)
        return questions

    def question(self, item: dict[str, Any]) -> dict[str, Any] | None:
        link_id, kind = item.get("linkId", ""), item.get("type")
        if kind not in QUESTION_TYPES:
            reason = NO_EQUIVALENT.get(kind, "it is not an R4 item type")
            self.problems.append(f"item {link_id!r}: type {kind!r} has no equivalent ({reason})")
            return None
        answer_type = self.answer_type(item)
        self.unsupported(item, link_id)
        question: dict[str, Any] = {
            "id": self.own_id(link_id),
            "type": answer_type.value,
            "text": item.get("text") or "",
        }
        if not question["text"]:
            self.problems.append(f"item {link_id!r}: a question needs text")
        question.update(self.help(item, link_id))
        question["required"] = bool(item.get("required", False))
        question.update(self.answers(item, link_id, answer_type))
        show_if = self.show_if(item, link_id)
        if show_if is not None:
            question["show_if"] = show_if
        self.targets[link_id] = Target(question["id"], answer_type, self.codes_of(item))
        return question

    def answer_type(self, item: dict[str, Any]) -> AnswerType:
        kind, link_id = item.get("type"), item.get("linkId", "")
        if kind == "boolean":
            return AnswerType.YES_NO
        if kind == "integer":
            return AnswerType.SCALE if codes.item_control_code(item) == codes.SLIDER else AnswerType.INTEGER
        if kind in ("string", "text"):
            if item.get("repeats"):
                self.problems.append(f"item {link_id!r}: a text question with several answers has no equivalent")
            return AnswerType.TEXT
        if codes.extension_value(item, codes.ANSWER_TYPE) == AnswerType.BODY_AREA.value:
            return AnswerType.BODY_AREA
        return AnswerType.MULTI_CHOICE if item.get("repeats") else AnswerType.SINGLE_CHOICE

    def unsupported(self, item: dict[str, Any], link_id: str) -> None:
        for key, reason in UNSUPPORTED_FIELDS.items():
            if item.get(key) and reason:
                self.problems.append(f"item {link_id!r}: {key}: {reason}")
        if item.get("readOnly"):
            self.problems.append(f"item {link_id!r}: a read-only item has no equivalent")
        for extension in item.get("extension") or ():
            url = extension.get("url", "")
            if url not in KNOWN_EXTENSIONS and not url.startswith(codes.PRESENTATION_ONLY):
                self.problems.append(f"item {link_id!r}: extension {url!r} is not understood")

    def help(self, item: dict[str, Any], link_id: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for child in item.get("item") or ():
            if child.get("type") == "display" and codes.item_control_code(child) == codes.HELP and "help" not in found:
                found["help"] = child.get("text")
            else:
                self.problems.append(
                    f"item {child.get('linkId')!r}: an item under the question {link_id!r} has no equivalent"
                )
        return found

    def answers(self, item: dict[str, Any], link_id: str, answer_type: AnswerType) -> dict[str, Any]:
        if answer_type in CHOICE_TYPES:
            return {"choices": self.choices(item, link_id)}
        if answer_type in NUMBER_TYPES:
            return self.bounds(item, link_id, answer_type)
        if answer_type is AnswerType.TEXT:
            if item.get("maxLength") is None:
                self.notes.append(f"item {link_id!r}: no maxLength; answers may be {MAX_TEXT_LENGTH} characters long")
            return {"max_length": item.get("maxLength") or MAX_TEXT_LENGTH}
        return {}

    def choices(self, item: dict[str, Any], link_id: str) -> list[dict[str, str]]:
        values = self.codes_of(item)
        renamed = [f"{code!r} as {value!r}" for code, value in values.items() if code != value]
        if renamed:
            self.notes.append(f"item {link_id!r}: answer codes stored as {', '.join(renamed)}")
        choices = []
        for option in item.get("answerOption") or ():
            code, label = self.option(option, link_id)
            if code is not None:
                choices.append({"value": values[code], "label": label})
        if not choices:
            self.problems.append(f"item {link_id!r}: a choice question needs answerOption")
        return choices

    def option(self, option: dict[str, Any], link_id: str) -> tuple[str | None, str]:
        if option.get("initialSelected"):
            self.problems.append(f"item {link_id!r}: a preselected option has no equivalent")
        if "valueCoding" in option:
            coding = option["valueCoding"]
            return coding.get("code"), coding.get("display") or coding.get("code") or ""
        for key in ("valueString", "valueInteger"):
            if key in option:
                return str(option[key]), str(option[key])
        kind = next((key for key in option if key.startswith("value")), "no value")
        self.problems.append(f"item {link_id!r}: an answerOption with {kind} has no equivalent")
        return None, ""

    @staticmethod
    def codes_of(item: dict[str, Any]) -> dict[str, str]:
        """Each option's FHIR code -> the choice value it becomes here."""
        found: dict[str, str] = {}
        for option in item.get("answerOption") or ():
            coding = option.get("valueCoding") or {}
            code = coding.get("code") if coding else option.get("valueString", option.get("valueInteger"))
            if code is not None:
                found[str(code)] = as_id(str(code), letter_first=False)
        return found

    def bounds(self, item: dict[str, Any], link_id: str, answer_type: AnswerType) -> dict[str, Any]:
        found = {
            "min": codes.extension_value(item, codes.MIN_VALUE),
            "max": codes.extension_value(item, codes.MAX_VALUE),
        }
        if answer_type is AnswerType.INTEGER and None in found.values():
            self.problems.append(f"item {link_id!r}: a whole-number question needs both minValue and maxValue")
        for key, url in (("min_label", codes.MIN_LABEL), ("max_label", codes.MAX_LABEL)):
            found[key] = codes.extension_value(item, url)
        return {key: value for key, value in found.items() if value is not None}

    def show_if(self, item: dict[str, Any], link_id: str) -> dict[str, Any] | None:
        own = codes.extension_value(item, codes.SHOW_IF)
        if own is not None:
            try:
                return json.loads(own)
            except ValueError:
                self.problems.append(f"item {link_id!r}: its show-if extension is not JSON")
                return None
        if not item.get("enableWhen"):
            return None
        condition, problems = condition_from_enable_when(link_id, item, self.targets)
        self.problems.extend(problems)
        return condition

    def own_id(self, link_id: str) -> str:
        own = as_id(link_id)
        if own != link_id:
            self.notes.append(f"item {link_id!r}: stored as {own!r}")
        if own in self.used_ids:
            self.problems.append(f"item {link_id!r}: its id {own!r} is already taken by another item")
        self.used_ids.add(own)
        return own

    def validate(self, definition: dict[str, Any]) -> None:
        """The engine's own checks, which the file will meet when loaded."""
        try:
            DefinitionFile.model_validate(definition)
        except ValidationError as error:
            self.problems.extend(f"{where}: {problem}" for where, problem in definition_problems(error))


def definition_yaml(definition: dict[str, Any], *, source: str) -> str:
    """The imported definition as a definition file, headed by where it came from."""
    header = (
        f"# Imported from the FHIR Questionnaire {source} by `manage.py fhir_import`.\n"
        "# Review it like any definition: a Questionnaire carries no triage rules or scoring; add them here.\n"
    )
    return header + yaml.safe_dump(definition, sort_keys=False, allow_unicode=True, width=110)
