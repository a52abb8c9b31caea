"""Read a questionnaire definition file and check every part of it before anything uses it.

The checks are the pydantic models of `intake.definitions.schema`. Every mistake raises `DefinitionError`
naming the file, the field and the problem, e.g.
``intake/definitions/back-pain/v1.yaml: steps[2].questions[0].show_if.question: unknown question 'pian_now'``;
when a file has several mistakes the message lists each on a line of its own.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from intake.definitions.schema import SLUG_PATTERN, DefinitionFile, kind
from intake.definitions.types import Definition

FILE_RE = re.compile(r"^v([1-9][0-9]*)\.ya?ml$")


class DefinitionError(ValueError):
    """A definition file is not usable. The message names the file, the field and the problem.

    ``where`` and ``problem`` are those of the first mistake; ``others`` holds (where, problem) of the rest.
    """

    def __init__(self, source: str, where: str, problem: str, others: tuple[tuple[str, str], ...] = ()):
        self.source, self.where, self.problem, self.others = source, where, problem, others
        lines = [f"{source}: {where}: {problem}" if where else f"{source}: {problem}"]
        lines += [f"  and {other_where or 'the file'}: {other}" for other_where, other in others]
        super().__init__("\n".join(lines))


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
    try:
        parsed = DefinitionFile.model_validate(raw)
    except ValidationError as error:
        problems = definition_problems(error)
        (where, problem), others = problems[0], tuple(problems[1:])
        raise DefinitionError(source, where, problem, others) from None
    return parsed.to_definition(path)


def definition_problems(error: ValidationError, root: type[BaseModel] = DefinitionFile) -> list[tuple[str, str]]:
    """Each problem pydantic found as (where in the file, what is wrong), in the words of the file's format.

    ``root`` is the model of the whole file (a definition, or a red-flag lexicon beside it).
    """
    problems: list[tuple[str, str]] = []
    for details in error.errors(include_url=False):
        found = _problem(details, root)
        if found not in problems:
            problems.append(found)
    return problems


def _problem(details: Any, root: type[BaseModel]) -> tuple[str, str]:
    loc, raw, ctx = tuple(details["loc"]), details.get("input"), details.get("ctx") or {}
    match details["type"]:
        case "missing":
            return where(loc[:-1]), f"missing required field {loc[-1]!r}"
        case "extra_forbidden":
            allowed = ", ".join(sorted(_fields_at(loc[:-1], root)))
            return where(loc), f"unknown field (allowed: {allowed})"
        case "model_type" | "model_attributes_type" | "dict_type":
            return where(loc), f"must be a mapping, not {kind(raw)}"
        case "list_type":
            return where(loc), f"must be a list, not {kind(raw)}"
        case "string_type":
            return where(loc), f"must be a non-empty string, not {kind(raw)}"
        case "string_too_short":
            return where(loc), "must be a non-empty string"
        case "int_type":
            return where(loc), f"must be a whole number, not {kind(raw)}"
        case "bool_type":
            return where(loc), f"must be true or false, not {kind(raw)}"
        case "too_short":
            return where(loc), "must not be empty"
        case "greater_than_equal":
            return where(loc), f"must be {ctx['ge']} or more"
        case "less_than_equal":
            return where(loc), f"must be {ctx['le']} or less"
        case "string_pattern_mismatch" if ctx.get("pattern") == SLUG_PATTERN:
            return where(loc), f"{raw!r} is not a valid slug (lowercase letters, digits and -, e.g. back-pain)"
        case "string_pattern_mismatch":
            return where(loc), f"{raw!r} is not a valid id (lowercase letters, digits and _, e.g. pain_now)"
    return where(loc), details["msg"]


def where(loc: tuple[str | int, ...]) -> str:
    """A location as an editor reads it: ``steps[2].questions[0].show_if``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _fields_at(loc: tuple[str | int, ...], root: type[BaseModel]) -> list[str]:
    """The field names a file may use at ``loc`` (for "unknown field" messages)."""
    annotation: Any = root
    for part in loc:
        annotation = _strip(annotation)
        if isinstance(part, int):
            annotation = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else annotation
            continue
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        fields = {field.alias or name: field for name, field in annotation.model_fields.items()}
        if part not in fields:
            return []
        annotation = fields[part].annotation
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [field.alias or name for name, field in annotation.model_fields.items()]
    return []


def _strip(annotation: Any) -> Any:
    """``X | None`` and ``Annotated[X, ...]`` as X."""
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif typing.get_origin(annotation) in (typing.Union, types.UnionType):
            members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation
