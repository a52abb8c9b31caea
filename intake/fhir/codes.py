"""The vocabulary shared by export and import: item types, extension addresses and how extensions are read."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.extension import Extension

from intake.definitions.types import AnswerType

# Standard extensions (FHIR core) for a number's bounds and how an item is shown.
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
SLIDER = "slider"
HELP = "help"

# Our own extensions, for what FHIR has no word for. Their address does not depend on the site's address, so
# a file exported by one clinic imports at another. Other systems ignore them (none is a modifier).
OWN_EXTENSION = "urn:clinic-intake:fhir:extension:"
ANSWER_TYPE = OWN_EXTENSION + "answer-type"
SCREENING = OWN_EXTENSION + "screening-step"
MIN_LABEL = OWN_EXTENSION + "min-label"
MAX_LABEL = OWN_EXTENSION + "max-label"
SHOW_IF = OWN_EXTENSION + "show-if"

# Our answer type -> the FHIR item type it is exported as.
ITEM_TYPES: dict[AnswerType, str] = {
    AnswerType.YES_NO: "boolean",
    AnswerType.SINGLE_CHOICE: "choice",
    AnswerType.MULTI_CHOICE: "choice",
    AnswerType.BODY_AREA: "choice",
    AnswerType.SCALE: "integer",
    AnswerType.INTEGER: "integer",
    AnswerType.TEXT: "text",
}

# Extensions an import may meet and safely pass over: they change how an item looks, not what it asks.
PRESENTATION_ONLY = (
    "http://hl7.org/fhir/StructureDefinition/rendering-",
    "http://hl7.org/fhir/StructureDefinition/entryFormat",
    "http://hl7.org/fhir/StructureDefinition/questionnaire-sliderStepValue",
    "http://hl7.org/fhir/StructureDefinition/questionnaire-choiceOrientation",
)


def extension_code(url: str, code: str) -> Extension:
    return Extension(url=url, valueCode=code)


def item_control(code: str) -> Extension:
    concept = CodeableConcept(coding=[Coding(system=ITEM_CONTROL_SYSTEM, code=code)])
    return Extension(url=ITEM_CONTROL, valueCodeableConcept=concept)


def extension_value(item: dict[str, Any], url: str) -> Any:
    """The value[x] of the first extension of ``item`` (as parsed JSON) with this address, or None."""
    for extension in item.get("extension") or ():
        if extension.get("url") == url:
            return next((value for key, value in extension.items() if key.startswith("value")), None)
    return None


def item_control_code(item: dict[str, Any]) -> str | None:
    concept = extension_value(item, ITEM_CONTROL) or {}
    return next((coding.get("code") for coding in concept.get("coding") or ()), None)
