"""The staff forms: they clean what staff typed and put the workflow's own messages next to the field."""

import pytest

from callbacks.admin.forms import AssignForm, CallAttemptForm, NoteForm, PriorityForm, StatusForm
from callbacks.models import CallbackRequest, Priority
from callbacks.rules.requests import ALLOWED_TRANSITIONS
from tests.factories import UserFactory

Status = CallbackRequest.Status
Outcome = CallbackRequest.Outcome


@pytest.mark.parametrize("current", list(Status))
def test_the_status_list_offers_the_allowed_transitions_and_opens_on_the_current_status(current):
    form = StatusForm(current_status=current)
    offered = [value for value, _ in form.fields["status"].choices]
    assert set(offered) == set(ALLOWED_TRANSITIONS[current]) | {current}
    assert form.fields["status"].initial == current
    assert dict(form.fields["status"].choices)[current].endswith("(current)")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"status": Status.CLOSED, "outcome": ""}, "Choose an outcome to close the request."),
        ({"status": Status.IN_PROGRESS, "outcome": Outcome.ADVICE}, "only when the request is closed"),
        ({"status": Status.CLOSED, "outcome": Outcome.ADVICE}, None),
    ],
)
def test_the_close_and_outcome_rule_is_the_workflows(data, error):
    form = StatusForm(data, current_status=Status.NEW)
    if error is None:
        assert form.is_valid(), form.errors
    else:
        assert not form.is_valid()
        assert any(error in message for message in form.errors["outcome"])


@pytest.mark.django_db
def test_assign_offers_active_staff_by_display_name():
    UserFactory(username="jdoe", first_name="Jane", last_name="Doe", is_staff=True)
    UserFactory(username="gone", is_staff=True, is_active=False)
    UserFactory(username="patient", is_staff=False)
    form = AssignForm()
    labels = [label for _, label in form.fields["user"].choices]
    assert "Jane Doe" in labels
    assert not any(name in labels for name in ("gone", "patient"))


def test_call_priority_and_note_forms_refuse_what_the_workflow_cannot_take():
    assert not CallAttemptForm({"outcome": "maybe"}).is_valid()
    assert CallAttemptForm({"outcome": "reached"}).is_valid()
    assert not PriorityForm({"priority": "9"}).is_valid()
    priority = PriorityForm({"priority": str(Priority.URGENT)})
    assert priority.is_valid() and priority.cleaned_data["priority"] == Priority.URGENT
    assert not NoteForm({"text": ""}).is_valid()
    assert not NoteForm({"text": "x" * 4001}).is_valid()
