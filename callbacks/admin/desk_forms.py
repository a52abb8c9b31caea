"""Forms of the front desk's screens: booking for a caller, moving an appointment, choosing the diary's view.

They clean what staff typed; `callbacks.booking.desk` books, moves and cancels.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from callbacks.admin.forms import ErrorsDescribedMixin
from callbacks.booking.slots import Slot, slot_key_parse
from callbacks.models import Practitioner, Service
from callbacks.requests.consent import (
    CURRENT_CONSENT_VERSION,
    CURRENT_TEXT_CONSENT_VERSION,
    consent_text,
    text_consent_hint,
)
from callbacks.web.forms import CallbackRequestForm
from clinic.hours import clinic_zone
from intake.selectors import AnswerType, Definition, Question

YES, NO = "yes", "no"
QUESTION_PREFIX = "q_"


def screening_questions(definition: Definition) -> list[Question]:
    """The red-flag questions a patient is asked first (emergency, then urgent with the age): the screening
    steps and the step after them, as the patients' own path asks them."""
    steps = list(definition.steps)
    last_screening = max((i for i, step in enumerate(steps) if step.screening), default=-1)
    asked = steps[: last_screening + 2]
    return [
        question
        for step in asked
        for question in step.questions
        if question.type in (AnswerType.YES_NO, AnswerType.INTEGER) and question.show_if is None
    ]


class SlotSearchForm(ErrorsDescribedMixin, forms.Form):
    """Which free times to show: a service, optionally one practitioner, from a day (GET)."""

    service = forms.ModelChoiceField(label="Service", queryset=Service.objects.none(), empty_label="Choose a service")
    practitioner = forms.ModelChoiceField(
        label="Practitioner", queryset=Practitioner.objects.none(), required=False, empty_label="Anyone"
    )
    day = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Enter a date, for example 2026-12-01."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(active=True).order_by("name")
        self.fields["practitioner"].queryset = Practitioner.objects.filter(active=True).order_by("name")


def slot_label(slot: Slot, *, with_day: bool = True) -> str:
    start, end = slot.local_start, slot.local_end
    when = f"{start:%a %d %b}, {start:%H:%M}-{end:%H:%M}" if with_day else f"{start:%H:%M}-{end:%H:%M}"
    return f"{when} with {slot.practitioner_name}"


class CallerBookingForm(ErrorsDescribedMixin, forms.Form):
    """The caller's details, their consent as told by phone, the chosen slot, and optionally the red-flag
    questions asked on the phone."""

    slot = forms.ChoiceField(
        label="Free time",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose one of the free times.",
            "invalid_choice": "That time is not offered any more. Choose one of the free times listed.",
        },
    )
    name = CallbackRequestForm.base_fields["name"]
    phone = CallbackRequestForm.base_fields["phone"]
    email = CallbackRequestForm.base_fields["email"]
    reason = forms.CharField(
        label="What the appointment is about (in the caller's words)",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Write a few words on what the appointment is about."},
    )
    consent = forms.BooleanField(
        label="I read this to the caller and they agreed, by phone",
        error_messages={"required": "Book only once the caller has agreed to the consent text read to them."},
    )
    # Asked, not assumed: staff tick it when the caller says yes to the words read to them (recorded by phone).
    texts = forms.BooleanField(
        label="The caller wants text messages about this appointment",
        required=False,
        help_text=text_consent_hint(CURRENT_TEXT_CONSENT_VERSION),
    )
    confirm_now = forms.BooleanField(
        label="Confirm the appointment now (the caller agreed the time)",
        required=False,
        initial=True,
        help_text="Emergency or urgent answers leave it requested, for a clinician to look at first.",
    )
    ask_questions = forms.BooleanField(
        label="I asked the safety questions below on the phone",
        required=False,
        help_text="Optional. Their answers set the priority, as they would online.",
    )

    def __init__(self, *args, slots: list[Slot], definition: Definition, **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = {slot.key: slot for slot in slots}
        self.fields["slot"].choices = [(slot.key, slot_label(slot)) for slot in slots]
        self.fields["name"].label = "Caller's name"
        self.fields["phone"].label = "Caller's phone number"
        self.fields["email"].help_text = "For the confirmation and the calendar file."
        self.fields["consent"].help_text = consent_text(CURRENT_CONSENT_VERSION)
        self.definition = definition
        self.questions = screening_questions(definition)
        for question in self.questions:
            self.fields[QUESTION_PREFIX + question.id] = self._question_field(question)

    @staticmethod
    def _question_field(question: Question) -> forms.Field:
        if question.type is AnswerType.INTEGER:
            return forms.IntegerField(
                label=question.text, required=False, min_value=question.min_value, max_value=question.max_value
            )
        return forms.ChoiceField(
            label=question.text, required=False, choices=[(YES, "Yes"), (NO, "No")], widget=forms.RadioSelect
        )

    clean_name = CallbackRequestForm.clean_name
    clean_phone = CallbackRequestForm.clean_phone
    clean_texts = CallbackRequestForm.clean_texts
    contact_choices = CallbackRequestForm.contact_choices
    clean_reason = CallbackRequestForm.clean_reason

    def question_fields(self):
        return [self[QUESTION_PREFIX + question.id] for question in self.questions]

    def detail_fields(self):
        return [self[name] for name in ("name", "phone", "email", "reason")]

    def clean(self):
        cleaned = super().clean()
        key = cleaned.get("slot")
        if key:
            parsed = slot_key_parse(key)
            cleaned["slot_obj"] = self.slots.get(key) if parsed else None
        answers = {}
        if cleaned.get("ask_questions"):
            for question in self.questions:
                value = cleaned.get(QUESTION_PREFIX + question.id)
                if value in (None, ""):
                    if QUESTION_PREFIX + question.id not in self.errors:
                        self.add_error(QUESTION_PREFIX + question.id, "Ask this question, or untick the box above.")
                    continue
                answers[question.id] = value == YES if question.type is AnswerType.YES_NO else value
        cleaned["answers"] = answers
        return cleaned


class MoveForm(ErrorsDescribedMixin, forms.Form):
    slot = forms.ChoiceField(
        label="New time",
        error_messages={
            "required": "Choose a new time.",
            "invalid_choice": "That time is not free any more. Choose one of the times listed.",
        },
    )

    def __init__(self, *args, slots: list[Slot], **kwargs):
        super().__init__(*args, **kwargs)
        self.slots = {slot.key: slot for slot in slots}
        self.fields["slot"].choices = [("", "Choose a new time")] + [(slot.key, slot_label(slot)) for slot in slots]


class CancelForm(ErrorsDescribedMixin, forms.Form):
    """Why the clinic cancels (kept in the request's history; never sent to the patient)."""

    reason = forms.CharField(
        label="Why is it cancelled?",
        max_length=200,
        help_text="For the request's history, e.g. “practitioner ill” or “patient asked by phone”. "
        "The patient is not shown it.",
        error_messages={"required": "Say why the appointment is cancelled."},
    )

    def clean_reason(self):
        return " ".join(self.cleaned_data["reason"].split())


def local_today() -> dt.date:
    return timezone.localdate(timezone=clinic_zone())
