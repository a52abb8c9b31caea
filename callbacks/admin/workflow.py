"""The workflow controls on a request's page: which form each action takes, the permission it needs, the
service it calls, and the view that runs it. Every change goes through `callbacks.requests.workflow`."""

import copy
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone

from callbacks.admin.display import (
    local_moment,
)
from callbacks.admin.forms import AssignForm, CallAttemptForm, NoteForm, PriorityForm, ScheduleForm, StatusForm
from callbacks.models import CallbackRequest, Priority
from callbacks.requests import workflow
from callbacks.requests.followup_schedule import follow_up_send_now
from callbacks.rules.staff import staff_display_name
from clinic.hours import clinic_zone

Status = CallbackRequest.Status


# The workflow controls on a request's page: action name -> (form, permission needed, what it does)


def _do_assign_me(obj, data, user):
    workflow.callback_request_assign(request=obj, user=user, actor=user)
    return "The request is assigned to you."


def _do_assign(obj, data, user):
    workflow.callback_request_assign(request=obj, user=data["user"], actor=user)
    return f"Assigned to {staff_display_name(data['user'])}." if data["user"] else "The request is now unassigned."


def _do_status(obj, data, user):
    workflow.callback_request_status_change(
        request=obj, status=data["status"], outcome=data["outcome"], reason=data["reason"], actor=user
    )
    return f"Status changed to “{Status(data['status']).label}”."


def _do_call(obj, data, user):
    unassigned = obj.assigned_to_id is None
    attempt = workflow.call_attempt_log(
        request=obj, actor=user, outcome=data["outcome"], note=data["note"], made_at=data["made_at"]
    )
    claimed = " It is now assigned to you." if unassigned and obj.assigned_to_id == user.pk else ""
    return f"Call logged: {attempt.get_outcome_display()}. Status is now “{obj.get_status_display()}”.{claimed}"


def _do_schedule(obj, data, user):
    workflow.callback_request_schedule_next_attempt(request=obj, at=data["at"], actor=user)
    return f"Next call planned for {local_moment(data['at'])}."


def _do_unschedule(obj, data, user):
    workflow.callback_request_schedule_next_attempt(request=obj, at=None, actor=user)
    return "The planned call is cleared."


def _do_priority(obj, data, user):
    workflow.callback_request_priority_change(request=obj, priority=data["priority"], actor=user)
    return f"Priority changed to “{Priority(data['priority']).label}”; the response deadline follows it."


def _do_note(obj, data, user):
    workflow.staff_note_add(request=obj, text=data["text"], actor=user)
    return "Note added."


def _do_follow_up_now(obj, data, user):
    follow_up = follow_up_send_now(request=obj, actor=user)
    return f"The {follow_up.weeks}-week follow-up is on its way to the patient; later ones keep their dates."


class ConfirmForm(forms.Form):
    """For buttons that carry no input ("Assign to me")."""


WORKFLOW_ACTIONS: dict[str, tuple[type[forms.Form], str, Callable[..., str]]] = {
    "assign_me": (ConfirmForm, "callbacks.change_callbackrequest", _do_assign_me),
    "assign": (AssignForm, "callbacks.change_callbackrequest", _do_assign),
    "status": (StatusForm, "callbacks.change_callbackrequest", _do_status),
    "call": (CallAttemptForm, "callbacks.add_callattempt", _do_call),
    "schedule": (ScheduleForm, "callbacks.change_callbackrequest", _do_schedule),
    "unschedule": (ConfirmForm, "callbacks.change_callbackrequest", _do_unschedule),
    "priority": (PriorityForm, "callbacks.change_callbackrequest", _do_priority),
    "note": (NoteForm, "callbacks.add_staffnote", _do_note),
    "follow_up_now": (ConfirmForm, "callbacks.change_callbackrequest", _do_follow_up_now),
}
FORMS_SHOWN = ("assign", "status", "call", "schedule", "priority", "note")


def action_anchor(action: str) -> str:
    """The id of the form an action comes back to: its own, or for "Clear planned call" the "Next call" form it is a
    button of, and for "Assign to me" (a form that is gone once used) the assignment form."""
    return {"unschedule": "schedule", "assign_me": "assign"}.get(action, action)


class WorkflowAdminMixin:
    """The workflow controls on a request's page: one small form per action, each POSTed to its own URL."""

    def workflow_urls(self) -> list:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/workflow/<slug:action>/",
                self.admin_site.admin_view(self.workflow_view),
                name="%s_%s_workflow" % info,  # noqa: UP031 - the admin's own naming pattern
            ),
        ]

    def workflow_forms(self, request, obj, bound: dict | None = None) -> dict[str, Any]:
        bound = bound or {}
        forms = {}
        for action in FORMS_SHOWN:
            form_class, permission, _ = WORKFLOW_ACTIONS[action]
            if not request.user.has_perm(permission):
                continue
            if action in bound:
                forms[action] = bound[action]
                continue
            kwargs = {"prefix": action}
            if action == "status":
                kwargs["current_status"] = obj.status
            if action == "assign":
                kwargs["initial"] = {"user": obj.assigned_to_id}
            if action == "priority":
                kwargs["initial"] = {"priority": obj.priority}
            if action == "schedule" and obj.next_attempt_at:
                kwargs["initial"] = {"at": timezone.localtime(obj.next_attempt_at, clinic_zone())}
            forms[action] = form_class(**kwargs)
        return forms

    def workflow_view(self, request, object_id, action):
        """One workflow control's POST: clean the input, call the service, come back to the request's page.

        Refused input or a change the workflow does not allow shows the page again with the message next to
        the control; nothing is saved then.
        """
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if action not in WORKFLOW_ACTIONS:
            raise Http404("No such workflow action.")
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form_class, permission, perform = WORKFLOW_ACTIONS[action]
        if not (self.has_change_permission(request, obj) and request.user.has_perm(permission)):
            raise PermissionDenied
        kwargs = {"prefix": action}
        if form_class is StatusForm:
            kwargs["current_status"] = obj.status
        form = form_class(request.POST, **kwargs)
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        if form.is_valid():
            try:
                message = perform(obj, form.cleaned_data, request.user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(request, message, messages.SUCCESS)
                # Back to the section acted on, not the top of a long page (on a phone, thousands of pixels).
                return HttpResponseRedirect(f"{change_url}?done={action}#act-{action_anchor(action)}")
        self.message_user(request, "Nothing was changed: " + self._error_text(form), messages.ERROR)
        page_request = copy.copy(request)
        page_request.method = "GET"
        return self.change_view(page_request, str(obj.pk), extra_context={"workflow_bound": {action: form}})

    @staticmethod
    def _error_text(form) -> str:
        return " ".join(message for errors in form.errors.values() for message in errors)
