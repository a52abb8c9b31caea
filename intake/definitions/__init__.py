"""Questionnaire definitions: versioned YAML files in this folder, validated on load.

``definition_current("back-pain")`` is what a new patient answers; ``definition_get(slug, version)`` reads any
older version, which is how a stored response keeps answering to the version it was given.
"""

from intake.definitions.loader import DefinitionError, definition_from_dict, definition_load
from intake.definitions.registry import (
    DEFINITIONS_DIR,
    DefinitionNotFound,
    Registry,
    definition_current,
    definition_get,
    definitions_registry,
    registry_load,
)
from intake.definitions.types import (
    BODY_AREAS,
    TIER_ORDER,
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
    tier_highest,
)

# The questionnaire every callback and booking request asks.
BACK_PAIN = "back-pain"
# The outcome follow-up questionnaire (pain, PSFS, global rating of change), e-mailed after a request is booked.
OUTCOMES = "outcomes"

__all__ = [
    "BACK_PAIN",
    "BODY_AREAS",
    "DEFINITIONS_DIR",
    "OUTCOMES",
    "TIER_ORDER",
    "AnswerType",
    "Band",
    "Choice",
    "Definition",
    "DefinitionError",
    "DefinitionNotFound",
    "Instrument",
    "Question",
    "Registry",
    "Rule",
    "Score",
    "ScoreItem",
    "Step",
    "Tier",
    "definition_current",
    "definition_from_dict",
    "definition_get",
    "definition_load",
    "definitions_registry",
    "registry_load",
    "tier_highest",
]
