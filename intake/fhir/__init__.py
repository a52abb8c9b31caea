"""FHIR R4 for questionnaires: a definition version as a `Questionnaire`, a stored answer set as a
`QuestionnaireResponse`, and a `Questionnaire` made elsewhere read back into a definition where the engine can
express it.

The resources are built with the classes of ``fhir.resources`` (its R4B models, whose Questionnaire and
QuestionnaireResponse are those of R4), so that every export is valid by construction. Callers outside intake
reach this package through `intake.selectors` (exports) and `intake.services` (import).
"""

from intake.fhir.importer import (
    QuestionnaireImport,
    definition_text_matches,
    definition_yaml,
    questionnaire_from_fhir,
)
from intake.fhir.questionnaire import questionnaire_canonical, questionnaire_to_fhir
from intake.fhir.response import resource_json, resources_bundle, response_to_fhir

__all__ = [
    "QuestionnaireImport",
    "definition_text_matches",
    "definition_yaml",
    "questionnaire_canonical",
    "questionnaire_from_fhir",
    "questionnaire_to_fhir",
    "resource_json",
    "resources_bundle",
    "response_to_fhir",
]
