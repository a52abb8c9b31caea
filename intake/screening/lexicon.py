"""Loading the red-flag lexicon of a definition version: ``<slug>/v<N>.lexicon.yaml`` beside ``v<N>.yaml``.

The file's shape and its fit with the definition are the pydantic models of
`intake.definitions.schema.lexicon`; this module reads the file, turns their errors into an editor's messages
(`LexiconError`, naming the file and the field, like a broken definition), and keeps each lexicon once loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from intake.definitions import Definition, DefinitionError
from intake.definitions.loader import definition_problems
from intake.definitions.registry import LEXICON_SUFFIX
from intake.definitions.schema.lexicon import (
    GroupFile,
    LexiconFile,
    red_flag_rules,
    rule_for_question,
    rule_questions,
    tier_if_denied,
)

Lexicon = LexiconFile
Group = GroupFile


class LexiconError(DefinitionError):
    """A lexicon file is not usable. Caught wherever a bad definition file is (it is part of the definition)."""


def lexicon_path(definition: Definition) -> Path | None:
    if definition.path is None:
        return None
    return definition.path.with_name(f"v{definition.version}{LEXICON_SUFFIX}")


def _read(path: Path | str) -> Any:
    source = str(path)
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise LexiconError(source, "", f"cannot be read ({error.strerror or error})") from error
    except yaml.YAMLError as error:
        raise LexiconError(source, "", f"is not valid YAML ({error})") from error


def _extended(raw: Any, path: Path, definition: Definition) -> Any:
    """A lexicon that ``extends: <slug>/v<N>`` takes that lexicon's language and the groups of its own questions.

    One home for the words patients use: the follow-up questionnaire and older versions read the same phrases as
    the current intake. What the file itself says wins; its own groups replace the base's for the same question;
    contradictions are never inherited (they name the definition's own answers)."""
    if not isinstance(raw, dict) or "extends" not in raw:
        return raw
    base_key = raw.pop("extends")
    slug, _, version = str(base_key).partition("/v")
    base_path = path.parent.parent / slug / f"v{version}{LEXICON_SUFFIX}"
    if not base_path.is_file() or base_path.resolve() == path.resolve():
        raise LexiconError(str(path), "extends", f"{base_key!r} is not another lexicon beside this one")
    base = _read(base_path)
    if not isinstance(base, dict) or "extends" in base:
        raise LexiconError(str(path), "extends", f"{base_key!r} must be a lexicon that extends nothing")
    for source, where, value in ((path, "groups", raw.get("groups")), (base_path, "groups", base.get("groups"))):
        if value is not None and not isinstance(value, list):
            raise LexiconError(str(source), where, "must be a list of groups")
    own_groups = raw.get("groups") or []
    questions = definition.question_map
    own = {group.get("question") for group in own_groups if isinstance(group, dict)}
    inherited = [
        group
        for group in base.get("groups") or []
        if isinstance(group, dict)
        and group.get("question") in questions
        and group.get("question") not in own
        and rule_for_question(definition, group.get("question")) is not None
    ]
    merged = {key: value for key, value in base.items() if key not in ("groups", "contradictions")}
    merged.update(raw)
    merged["groups"] = inherited + list(own_groups)
    return merged


def lexicon_load(path: Path | str, definition: Definition) -> Lexicon:
    """Parse and check one lexicon file against the definition it belongs to; `LexiconError` if unusable."""
    source = str(path)
    raw = _extended(_read(path), Path(path), definition)
    try:
        return LexiconFile.model_validate(raw, context={"definition": definition})
    except ValidationError as error:
        problems = definition_problems(error, LexiconFile)
        (where, problem), others = problems[0], tuple(problems[1:])
        raise LexiconError(source, where, problem, others) from None


_LOADED: dict[tuple[Path, str], Lexicon | None] = {}


def lexicon_for_definition(definition: Definition) -> Lexicon | None:
    """The lexicon beside the definition's file (loaded once per process), or None when it has none."""
    path = lexicon_path(definition)
    if path is None:
        return None
    key = (path, definition.key)
    if key not in _LOADED:
        _LOADED[key] = lexicon_load(path, definition) if path.is_file() else None
    return _LOADED[key]


__all__ = [
    "Group",
    "Lexicon",
    "LexiconError",
    "lexicon_for_definition",
    "lexicon_load",
    "lexicon_path",
    "red_flag_rules",
    "rule_for_question",
    "rule_questions",
    "tier_if_denied",
]
