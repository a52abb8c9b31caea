"""Loading the red-flag lexicon of a definition version: ``<slug>/v<N>.lexicon.yaml`` beside ``v<N>.yaml``.

The file's shape and its fit with the definition are the pydantic models of
`intake.definitions.schema.lexicon`; this module reads the file, turns their errors into an editor's messages
(`LexiconError`, naming the file and the field, like a broken definition), and keeps each lexicon once loaded.
"""

from __future__ import annotations

from pathlib import Path

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
)

Lexicon = LexiconFile
Group = GroupFile


class LexiconError(DefinitionError):
    """A lexicon file is not usable. Caught wherever a bad definition file is (it is part of the definition)."""


def lexicon_path(definition: Definition) -> Path | None:
    if definition.path is None:
        return None
    return definition.path.with_name(f"v{definition.version}{LEXICON_SUFFIX}")


def lexicon_load(path: Path | str, definition: Definition) -> Lexicon:
    """Parse and check one lexicon file against the definition it belongs to; `LexiconError` if unusable."""
    source = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise LexiconError(source, "", f"cannot be read ({error.strerror or error})") from error
    except yaml.YAMLError as error:
        raise LexiconError(source, "", f"is not valid YAML ({error})") from error
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
]
