"""The shape of a questionnaire definition file, as pydantic models, and the checks that tie its parts together.

Two kinds of check live here. The shape (which fields exist, their types, ids, allowed values, what each answer
type needs) is declared on the fields, so that ``manage.py questionnaire_schema`` can export it as the JSON
Schema an editor validates a file against. The cross-references (a condition names a question asked earlier, an
operand is a choice the question offers, an emergency rule rests on screening answers only, points exist for
every answer) are model validators on the model that can see both ends.

``base`` holds the field types, the strict base model and the way problems are reported; ``conditions``,
``questions`` (steps, questions, choices), ``scoring`` (instruments) and ``definition`` (the file, its rules,
the checks across parts and the JSON Schema) one part of the format each.

A validator that finds several problems reports all of them, each at its own location in the file.
`intake.definitions.loader` turns the errors into messages an editor can act on, and `to_definition` turns a
valid file into the immutable types of `intake.definitions.types` that the rest of the code reads.

To add an optional section to the format: a model for it, an optional field on `DefinitionFile` (``None`` when the
file has no such section, so every existing file stays valid), its cross-reference checks in a validator of
its own on `DefinitionFile`, a field on `types.Definition` filled in `to_definition`; then re-export the schema.
"""

from intake.definitions.schema.base import CHOICE_PATTERN, ID_PATTERN, SLUG_PATTERN, FileModel, Problems, kind, problem
from intake.definitions.schema.conditions import ConditionFile
from intake.definitions.schema.definition import DefinitionFile, RuleFile, definition_json_schema_text
from intake.definitions.schema.questions import ChoiceFile, QuestionFile, StepFile
from intake.definitions.schema.scoring import BandFile, InstrumentFile, ScoreFile, ScoreItemFile

__all__ = [
    "CHOICE_PATTERN",
    "ID_PATTERN",
    "SLUG_PATTERN",
    "BandFile",
    "ChoiceFile",
    "ConditionFile",
    "DefinitionFile",
    "FileModel",
    "InstrumentFile",
    "Problems",
    "QuestionFile",
    "RuleFile",
    "ScoreFile",
    "ScoreItemFile",
    "StepFile",
    "definition_json_schema_text",
    "kind",
    "problem",
]
