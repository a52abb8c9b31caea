"""One step of a questionnaire as a Django form, built from the definition.

Every field is optional to Django; whether a question must be answered depends on `show_if`, so `clean`
decides it in question order, exactly as `intake.answers.answers_clean` does for the whole response.

A question whose `show_if` only becomes true on this step (the "something else" box after ticking "Something
else") is revealed by the browser script. Without the script the page comes back once with the new question
shown: the hidden ``shown`` inputs tell the server which conditional questions the patient could see.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from intake.answers import answer_clean, answer_read, is_blank, question_visible
from intake.body_diagram import body_diagram
from intake.conditions import condition_subjects, condition_to_json
from intake.definitions import AnswerType, Definition, Question, Step
from intake.definitions.types import MULTI_TYPES

YES, NO = "yes", "no"
SHOWN_FIELD = "shown"
PREFIX = "q"

REQUIRED_MESSAGES = {
    AnswerType.YES_NO: "Choose yes or no.",
    AnswerType.SINGLE_CHOICE: "Choose one of the answers.",
    AnswerType.MULTI_CHOICE: "Choose at least one answer.",
    AnswerType.BODY_AREA: "Choose at least one area, on the diagram or in the list.",
    AnswerType.SCALE: "Choose a number.",
    AnswerType.INTEGER: "Enter a number.",
    AnswerType.TEXT: "Please answer this question.",
}
ADDED_MESSAGE = "Your answer has opened another question. Please answer it (or leave it empty if it is optional)."


def _field(question: Question) -> forms.Field:
    qtype = question.type
    invalid_choice = {"invalid_choice": "Choose one of the answers listed."}
    if qtype is AnswerType.YES_NO:
        return forms.ChoiceField(
            choices=[(YES, "Yes"), (NO, "No")], required=False, widget=forms.RadioSelect, error_messages=invalid_choice
        )
    if qtype is AnswerType.SINGLE_CHOICE:
        return forms.ChoiceField(
            choices=[(c.value, c.label) for c in question.choices],
            required=False,
            widget=forms.RadioSelect,
            error_messages=invalid_choice,
        )
    if qtype in MULTI_TYPES:
        return forms.MultipleChoiceField(
            choices=[(c.value, c.label) for c in question.choices],
            required=False,
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                "invalid_choice": "Choose from the answers listed.",
                "invalid_list": "Choose from the answers listed.",
            },
        )
    if qtype is AnswerType.SCALE:
        low, high = question.min_value, question.max_value
        return forms.ChoiceField(
            choices=[(str(n), str(n)) for n in range(low, high + 1)],
            required=False,
            widget=forms.RadioSelect,
            error_messages={"invalid_choice": f"Choose a number from {low} to {high}."},
        )
    if qtype is AnswerType.INTEGER:
        low, high = question.min_value, question.max_value
        out_of_range = f"Enter a whole number from {low} to {high}."
        return forms.IntegerField(
            required=False,
            min_value=low,
            max_value=high,
            error_messages={"invalid": out_of_range, "min_value": out_of_range, "max_value": out_of_range},
            widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 5}),
        )
    return forms.CharField(
        required=False,
        max_length=question.max_length,
        error_messages={"max_length": f"Keep this to {question.max_length} characters or fewer."},
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": question.max_length}),
    )


def answer_to_form_value(question: Question, value: Any) -> Any:
    """A stored answer as the form field shows it."""
    if question.type is AnswerType.YES_NO:
        return YES if value is True else NO if value is False else None
    if question.type is AnswerType.SCALE:
        return str(value)
    return value


def form_value_to_answer(question: Question, raw: Any) -> Any:
    """A field's cleaned value as an answer (None when blank)."""
    if is_blank(raw):
        return None
    if question.type is AnswerType.YES_NO:
        return raw == YES
    if question.type is AnswerType.SCALE:
        return int(raw)
    if question.type in MULTI_TYPES:
        return list(raw)
    if question.type is AnswerType.TEXT:
        return raw.strip()
    return raw


@dataclass
class ChoiceView:
    value: str
    label: str
    input_id: str
    checked: bool


@dataclass
class QuestionView:
    """Everything a template needs to render one question accessibly."""

    question: Question
    name: str
    input_id: str
    visible: bool
    conditional: bool
    show_if_json: str
    errors: list[str]
    value: Any
    choices: list[ChoiceView] = field(default_factory=list)
    added: bool = False
    diagram: dict | None = None

    @property
    def help_id(self) -> str:
        return f"{self.input_id}-help"

    @property
    def error_id(self) -> str:
        return f"{self.input_id}-error"

    @property
    def describedby(self) -> str:
        ids = []
        if self.question.help or self.question.type is AnswerType.SCALE:
            ids.append(self.help_id)
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids)

    @property
    def template(self) -> str:
        return f"intake/questions/{self.question.type.value}.html"


class StepForm(forms.Form):
    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        definition: Definition,
        step: Step,
        answers: Mapping[str, Any],
    ):
        self.definition, self.step = definition, step
        step_ids = {question.id for question in step.questions}
        # Answers to other steps: `show_if` on this step may depend on them.
        self.earlier = {key: value for key, value in answers.items() if key not in step_ids}
        initial = {
            question.id: answer_to_form_value(question, answers[question.id])
            for question in step.questions
            if question.id in answers
        }
        super().__init__(data, initial=initial, prefix=PREFIX)
        for question in step.questions:
            self.fields[question.id] = _field(question)
        conditional = {question.id for question in step.questions if question.show_if is not None}
        self.shown = (
            set(data.getlist(SHOWN_FIELD)) & conditional if data is not None and hasattr(data, "getlist") else set()
        )
        self.step_answers: dict[str, Any] = {}
        # The answers on the page that are valid, even when others are missing or wrong (see `clean`).
        self.valid_answers: dict[str, Any] = {}
        self.added: list[str] = []

    def clean(self):
        cleaned = super().clean()
        answers = dict(self.earlier)
        step_answers: dict[str, Any] = {}
        for question in self.step.questions:
            if not question_visible(question, answers) or question.id in self.errors:
                continue
            value = form_value_to_answer(question, cleaned.get(question.id))
            if value is None:
                if question.show_if is not None and question.id not in self.shown:
                    self.added.append(question.id)
                elif question.required:
                    self.add_error(question.id, REQUIRED_MESSAGES[question.type])
                continue
            try:
                value = answer_clean(question, value)
            except ValidationError as error:
                self.add_error(question.id, error.messages)
                continue
            answers[question.id] = value
            step_answers[question.id] = value
        # An emergency answer must be acted on even when the rest of the page is unanswered.
        self.valid_answers = dict(step_answers)
        if self.added:
            raise ValidationError(ADDED_MESSAGE, code="added")
        self.step_answers = step_answers
        return cleaned

    @property
    def only_added(self) -> bool:
        """True when the page came back only to show a newly opened question, with nothing wrong."""
        return self.is_bound and bool(self.added) and set(self.errors) == {NON_FIELD_ERRORS}

    # Rendering -----------------------------------------------------------------------------------------------

    def _current_answers(self) -> dict[str, Any]:
        """This step's answers as they stand on the page (posted or stored), read leniently for show/hide."""
        answers = dict(self.earlier)
        for question in self.step.questions:
            if not question_visible(question, answers):
                continue
            value = answer_read(question, form_value_to_answer_lenient(question, self[question.id].value()))
            if value is not None:
                answers[question.id] = value
        return answers

    def known_answers_json(self) -> str:
        """Earlier answers that this step's `show_if` conditions look at (for the browser script), as JSON."""
        subjects = {
            leaf.subject
            for question in self.step.questions
            if question.show_if is not None
            for leaf in condition_subjects(question.show_if)
        }
        return json.dumps({key: value for key, value in self.earlier.items() if key in subjects})

    def question_views(self) -> list[QuestionView]:
        current = self._current_answers()
        views = []
        for question in self.step.questions:
            bound = self[question.id]
            value = bound.value()
            input_id = f"id_{PREFIX}-{question.id}"
            view = QuestionView(
                question=question,
                name=bound.html_name,
                input_id=input_id,
                visible=question_visible(question, current),
                conditional=question.show_if is not None,
                show_if_json=json.dumps(condition_to_json(question.show_if)) if question.show_if else "",
                errors=list(self.errors.get(question.id, [])),
                value="" if value is None else value,
                added=question.id in self.added,
            )
            if bound.field.widget.__class__ in (forms.RadioSelect, forms.CheckboxSelectMultiple):
                chosen = [str(item) for item in value] if isinstance(value, list | tuple) else [str(value)]
                view.choices = [
                    ChoiceView(value=str(v), label=str(label), input_id=f"{input_id}_{i}", checked=str(v) in chosen)
                    for i, (v, label) in enumerate(bound.field.choices)
                ]
            if question.type is AnswerType.BODY_AREA:
                selected = [c.value for c in view.choices if c.checked]
                view.diagram = body_diagram(areas=question.choice_values, selected=selected)
            views.append(view)
        return views


def form_value_to_answer_lenient(question: Question, raw: Any) -> Any:
    """A raw posted value as an answer for show/hide only; anything odd is simply not an answer."""
    if is_blank(raw):
        return None
    if question.type is AnswerType.YES_NO:
        return {YES: True, NO: False}.get(raw) if isinstance(raw, str) else raw
    if question.type in MULTI_TYPES:
        return list(raw) if isinstance(raw, list | tuple) else [raw]
    return raw
