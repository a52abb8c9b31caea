"""Asking a safety question again, quoting what the patient wrote or marked: one yes/no field per question.

`recheck_fields` builds the fields (so a page can add them to a form it already has, such as the request's
details form), `RecheckForm` is a page of them on their own, and `recheck_answers` reads the answers back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms

from intake.screening import Recheck

FIELD_PREFIX = "recheck_"
YES, NO = "yes", "no"
REQUIRED_MESSAGE = "Please answer yes or no before we send your request."


def recheck_fields(rechecks: list[Recheck]) -> dict[str, forms.Field]:
    return {
        f"{FIELD_PREFIX}{recheck.question_id}": forms.ChoiceField(
            label=f"{recheck.prompt} {recheck.question}",
            choices=[(YES, "Yes"), (NO, "No")],
            widget=forms.RadioSelect,
            error_messages={"required": REQUIRED_MESSAGE, "invalid_choice": REQUIRED_MESSAGE},
        )
        for recheck in rechecks
    }


def recheck_answers(cleaned_data: Mapping[str, Any]) -> dict[str, bool]:
    """Question id -> True for yes, from a form's cleaned data with fields from `recheck_fields`."""
    return {
        name.removeprefix(FIELD_PREFIX): value == YES
        for name, value in cleaned_data.items()
        if name.startswith(FIELD_PREFIX) and value in (YES, NO)
    }


class RecheckForm(forms.Form):
    def __init__(self, *args, rechecks: list[Recheck], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(recheck_fields(rechecks))
        self.rechecks = {f"{FIELD_PREFIX}{recheck.question_id}": recheck for recheck in rechecks}

    @property
    def answers(self) -> dict[str, bool]:
        return recheck_answers(self.cleaned_data)

    def questions(self) -> list[dict[str, Any]]:
        """Each field with its prompt and question apart, for a template that lays them out."""
        return [{"field": self[name], "recheck": recheck} for name, recheck in self.rechecks.items()]
