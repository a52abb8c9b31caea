"""The queue's bulk actions: each chosen request goes through the workflow (`callbacks.requests.workflow`), as
one request's page would; the message says what changed and what was refused, and why."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from callbacks.models import CallbackRequest
from callbacks.requests import workflow

Status = CallbackRequest.Status


class QueueBulkActionsMixin:
    """Assign to me, release, mark in progress, close as duplicate (named in the admin's ``actions``)."""

    def _apply(self, request, queryset, change: Callable[[CallbackRequest], Any], done: str) -> None:
        changed, refused = 0, []
        for obj in queryset:
            before = (obj.status, obj.assigned_to_id)
            try:
                change(obj)
            except ValidationError as exc:
                refused.append(f"{obj.reference} ({' '.join(exc.messages)})")
                continue
            obj.refresh_from_db(fields=["status", "assigned_to"])
            changed += (obj.status, obj.assigned_to_id) != before
        self.message_user(request, done.format(count=changed), messages.SUCCESS if changed else messages.INFO)
        if refused:
            shown = "; ".join(refused[:10]) + (f"; and {len(refused) - 10} more" if len(refused) > 10 else "")
            self.message_user(request, f"Not changed, {len(refused)}: {shown}", messages.WARNING)

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda obj: workflow.callback_request_assign(request=obj, user=request.user, actor=request.user),
            "Assigned {count} request(s) to you.",
        )

    @admin.action(description="Release (unassign)", permissions=["change"])
    def release(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda obj: workflow.callback_request_assign(request=obj, user=None, actor=request.user),
            "Released {count} request(s).",
        )

    @admin.action(description="Mark in progress", permissions=["change"])
    def mark_in_progress(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda obj: workflow.callback_request_status_change(
                request=obj, status=Status.IN_PROGRESS, actor=request.user
            ),
            "Marked {count} request(s) in progress.",
        )

    @admin.action(description="Close as duplicate", permissions=["change"])
    def close_as_duplicate(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda obj: workflow.callback_request_status_change(
                request=obj, status=Status.CLOSED, outcome=CallbackRequest.Outcome.DUPLICATE, actor=request.user
            ),
            "Closed {count} request(s) as duplicates.",
        )
