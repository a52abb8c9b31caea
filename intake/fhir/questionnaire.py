"""A definition version as a FHIR R4 ``Questionnaire``: one ``group`` item per step, one item per question.

What maps to what (the README has the table): yes/no is ``boolean``; a single choice ``choice`` with
``answerOption`` codings; a multiple choice, and a body-area question, ``choice`` with ``repeats``; a scale an
``integer`` shown as a slider; an integer an ``integer``; text ``text`` with ``maxLength``. A number's bounds are
the standard minValue/maxValue extensions, a question's help a ``display`` child shown as help, a step's intro a
``display`` item first in its group. Triage rules, scored instruments and the red-flag lexicon are the clinic's
own and are not part of the resource.
"""

from __future__ import annotations

import json

from django.conf import settings
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.questionnaire import Questionnaire, QuestionnaireItem, QuestionnaireItemAnswerOption

from intake.conditions import condition_to_json
from intake.definitions.types import MULTI_TYPES, NUMBER_TYPES, AnswerType, Definition, Question, Step
from intake.fhir import codes
from intake.fhir.enable_when import condition_to_enable_when

HELP_SUFFIX = ".help"
INTRO_SUFFIX = ".intro"


def questionnaire_canonical(slug: str) -> str:
    """The Questionnaire's canonical URL: the clinic's site address, then the questionnaire's slug."""
    return f"{settings.SITE_URL}/fhir/Questionnaire/{slug}"


def questionnaire_to_fhir(definition: Definition) -> Questionnaire:
    """``definition`` as a Questionnaire resource; its canonical with ``|version`` names this exact version."""
    url = questionnaire_canonical(definition.slug)
    return Questionnaire(
        id=f"{definition.slug}-v{definition.version}",
        url=url,
        identifier=[Identifier(system=f"{settings.SITE_URL}/fhir/questionnaire-slug", value=definition.slug)],
        version=str(definition.version),
        name=_computable_name(definition.slug),
        title=definition.title,
        description=definition.intro or None,
        status="active",
        item=[_step_item(step, definition) for step in definition.steps],
    )


def _computable_name(slug: str) -> str:
    # FHIR's name is for machines: a capital first, letters and digits (back-pain -> BackPain).
    return "".join(part.capitalize() for part in slug.split("-"))


def _step_item(step: Step, definition: Definition) -> QuestionnaireItem:
    children = [_display(step.id + INTRO_SUFFIX, step.intro)] if step.intro else []
    children += [_question_item(question, definition) for question in step.questions]
    return QuestionnaireItem(
        linkId=step.id,
        text=step.title,
        type="group",
        extension=[Extension(url=codes.SCREENING, valueBoolean=True)] if step.screening else None,
        item=children,
    )


def _display(link_id: str, text: str, control: str | None = None) -> QuestionnaireItem:
    extension = [codes.item_control(control)] if control else None
    return QuestionnaireItem(linkId=link_id, text=text, type="display", extension=extension)


def _question_item(question: Question, definition: Definition) -> QuestionnaireItem:
    fields: dict = {
        "linkId": question.id,
        "text": question.text,
        "type": codes.ITEM_TYPES[question.type],
        "required": question.required,
        "extension": _question_extensions(question) or None,
    }
    if question.type in MULTI_TYPES:
        fields["repeats"] = True
    if question.choices:
        fields["answerOption"] = [
            QuestionnaireItemAnswerOption(valueCoding=Coding(code=choice.value, display=choice.label))
            for choice in question.choices
        ]
    if question.max_length is not None:
        fields["maxLength"] = question.max_length
    if question.help:
        fields["item"] = [_display(question.id + HELP_SUFFIX, question.help, codes.HELP)]
    if question.show_if is not None:
        fields.update(_enable_when(question, definition))
    return QuestionnaireItem(**fields)


def _question_extensions(question: Question) -> list[Extension]:
    extensions = []
    if question.type is AnswerType.BODY_AREA:
        extensions.append(codes.extension_code(codes.ANSWER_TYPE, question.type.value))
    if question.type is AnswerType.SCALE:
        extensions.append(codes.item_control(codes.SLIDER))
    if question.type in NUMBER_TYPES:
        extensions.append(Extension(url=codes.MIN_VALUE, valueInteger=question.min_value))
        extensions.append(Extension(url=codes.MAX_VALUE, valueInteger=question.max_value))
    for url, label in ((codes.MIN_LABEL, question.min_label), (codes.MAX_LABEL, question.max_label)):
        if label:
            extensions.append(Extension(url=url, valueString=label))
    return extensions


def _enable_when(question: Question, definition: Definition) -> dict:
    found = condition_to_enable_when(question.show_if, definition.question_map)
    if found is None:
        # Not sayable in enableWhen: other systems will show the question always; an import of ours reads it.
        extension = Extension(url=codes.SHOW_IF, valueString=json.dumps(condition_to_json(question.show_if)))
        return {"extension": [*(_question_extensions(question)), extension]}
    behavior, entries = found
    return {"enableWhen": entries, "enableBehavior": behavior}
