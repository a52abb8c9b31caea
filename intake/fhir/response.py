"""A stored answer set as a FHIR R4 ``QuestionnaireResponse``, several resources as a ``Bundle``, and JSON.

The response's items follow the Questionnaire's: one group per step with answers, in it one item per answered
question. Its identifier is what the caller passes: the request's reference alone for the answer set that
request was made with, or the reference and a ``part`` naming a later answer set of the same request (such as
``follow-up-6w``) under a system of its own, so that every answer set of a request has an identifier and a
resource id of its own. The patient appears only as a ``subject`` display, and only when the caller passes one.

In a Bundle each entry's ``fullUrl`` is a fresh ``urn:uuid``: unique in the Bundle (as FHIR requires when it is
present), never a web address this site would have to answer. The resources' own ids and identifiers are the
stable names.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse as FhirResponse,
)
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponseItem,
    QuestionnaireResponseItemAnswer,
)
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource

from intake.definitions.types import CHOICE_TYPES, NUMBER_TYPES, AnswerType, Definition, Question
from intake.fhir.questionnaire import questionnaire_canonical
from intake.models import QuestionnaireResponse


def response_to_fhir(
    *,
    response: QuestionnaireResponse,
    answers: dict[str, Any],
    reference: str,
    part: str | None = None,
    subject_display: str | None = None,
) -> FhirResponse:
    """``response`` (with its ``answers`` by question id) as a QuestionnaireResponse identified by ``reference``,
    or, for another answer set of the same request, by ``reference/part`` (e.g. ``CB-7KQ2M/follow-up-6w``)."""
    definition = response.definition
    return FhirResponse(
        id=_resource_id(reference if part is None else f"{reference}-{part}"),
        identifier=_identifier(reference, part),
        questionnaire=f"{questionnaire_canonical(definition.slug)}|{definition.version}",
        status="completed" if response.is_complete else "in-progress",
        authored=response.created_at.isoformat(),
        subject=Reference(display=subject_display) if subject_display else None,
        item=_step_items(definition, answers) or None,
    )


def _identifier(reference: str, part: str | None) -> Identifier:
    if part is None:
        return Identifier(system=f"{settings.SITE_URL}/fhir/request-reference", value=reference)
    return Identifier(system=f"{settings.SITE_URL}/fhir/request-answer-set", value=f"{reference}/{part}")


def _resource_id(reference: str) -> str:
    # A resource id allows letters, digits, '-' and '.', at most 64 characters.
    return "".join(c if c.isalnum() or c in "-." else "-" for c in reference)[:64]


def _step_items(definition: Definition, answers: dict[str, Any]) -> list[QuestionnaireResponseItem]:
    items = []
    for step in definition.steps:
        answered = [
            _question_item(question, answers[question.id]) for question in step.questions if question.id in answers
        ]
        if answered:
            items.append(QuestionnaireResponseItem(linkId=step.id, text=step.title, item=answered))
    return items


def _question_item(question: Question, value: Any) -> QuestionnaireResponseItem:
    values = value if isinstance(value, list) else [value]
    return QuestionnaireResponseItem(
        linkId=question.id,
        text=question.text,
        answer=[QuestionnaireResponseItemAnswer(**_value(question, item)) for item in values],
    )


def _value(question: Question, value: Any) -> dict[str, Any]:
    if question.type is AnswerType.YES_NO:
        return {"valueBoolean": value}
    if question.type in NUMBER_TYPES:
        return {"valueInteger": value}
    if question.type in CHOICE_TYPES:
        return {"valueCoding": Coding(code=value, display=question.choice_label(value))}
    return {"valueString": value}


def resources_bundle(resources: Iterable[Resource]) -> Bundle:
    """A Bundle of type ``collection`` holding the resources, stamped with the time it was made; each entry's
    ``fullUrl`` is a new ``urn:uuid``, so no two entries share one."""
    return Bundle(
        type="collection",
        timestamp=timezone.now().isoformat(),
        entry=[BundleEntry(fullUrl=uuid.uuid4().urn, resource=resource) for resource in resources],
    )


def resource_json(resource: Resource) -> str:
    """The resource as FHIR JSON (fields in FHIR's order, empty ones left out), indented for people."""
    return resource.model_dump_json(exclude_none=True, indent=2)
