"""The staff triage screens: the queue of requests, one request's page with its workflow, and the outbox.

The admin only displays and collects: every change to a request goes through `callbacks.workflow`, which
records it in the request's history. The change form itself has no editable fields.
"""

import copy
import csv
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from callbacks.admin.display import (
    ADMIN_CSS,
    POSSIBLE_RED_FLAG_MARKER,
    deadline_html,
    local_moment,
    phone_display,
    priority_badge_html,
)
from callbacks.admin.forms import AssignForm, CallAttemptForm, NoteForm, PriorityForm, ScheduleForm, StatusForm
from callbacks.admin.lookups import OfferedLookupsOnlyMixin
from callbacks.models import CallbackRequest, Notification, Priority, RequestEvent
from callbacks.privacy import services as privacy
from callbacks.requests import workflow
from callbacks.requests.phone import phone_search_variants
from callbacks.requests.selectors import FIELD_TITLES, QUEUE_ORDER, callback_request_queue, callback_request_timeline
from callbacks.rules.requests import AWAITING_RESPONSE_STATUSES
from callbacks.rules.staff import staff_display_name
from clinic.hours import clinic_zone

Status = CallbackRequest.Status
# Filters


class StatusFilter(admin.SimpleListFilter):
    """Open requests unless staff ask for another status (or everything)."""

    title = "status"
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*Status.choices, (self.ALL, "All, closed too")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset.open()
        if value == self.ALL:
            return queryset
        if value in Status.values:
            return queryset.filter(status=value)
        return queryset.none()

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Open (not closed)",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class OverdueFilter(admin.SimpleListFilter):
    title = "response deadline"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        overdue = Q(status__in=AWAITING_RESPONSE_STATUSES, deadline__lt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned"
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", "Assigned to me"), ("none", "Unassigned"), ("others", "Assigned to others")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "none":
            return queryset.filter(assigned_to__isnull=True)
        if self.value() == "others":
            return queryset.filter(assigned_to__isnull=False).exclude(assigned_to=request.user)
        return queryset


# Inlines: read-only records on the request's page


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NotificationInline(ReadOnlyInline):
    model = Notification
    verbose_name_plural = "Notifications sent"
    fields = ("kind", "channel", "recipient", "status", "attempts", "last_error", "created_at", "sent_at")
    readonly_fields = fields
    ordering = ("created_at",)


class RequestEventInline(ReadOnlyInline):
    """The request's history exactly as recorded: staff can read it, nobody can change it."""

    model = RequestEvent
    verbose_name_plural = "History (who changed what, when)"
    fields = ("at", "who", "action", "what", "before", "after")
    readonly_fields = fields
    ordering = ("-at", "-pk")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="By")
    def who(self, event):
        return staff_display_name(event.actor)

    @admin.display(description="Field")
    def what(self, event):
        return FIELD_TITLES.get(event.field, event.field)


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
    attempt = workflow.call_attempt_log(
        request=obj, actor=user, outcome=data["outcome"], note=data["note"], made_at=data["made_at"]
    )
    return f"Call logged: {attempt.get_outcome_display()}. Status is now “{obj.get_status_display()}”."


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
}
FORMS_SHOWN = ("assign", "status", "call", "schedule", "priority", "note")


def csv_safe(value: Any) -> str:
    """Stop a spreadsheet from running a cell as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class Echo:
    def write(self, value):
        return value


@admin.register(CallbackRequest)
class CallbackRequestAdmin(OfferedLookupsOnlyMixin, admin.ModelAdmin):
    list_display = (
        "reference",
        "patient",
        "priority_badge",
        "status",
        "deadline_left",
        "assigned",
        "created_at",
    )
    list_display_links = ("reference",)
    list_filter = (StatusFilter, "priority", OverdueFilter, AssignedFilter, ("created_at", admin.DateFieldListFilter))
    # "Emergency or urgent, open" on the admin home (admin/callbacks/day_at_a_glance.html).
    linked_lookups = frozenset({"priority__lte"})
    search_fields = ("reference", "name", "phone")
    search_help_text = "Reference, name or phone number (typed any way: 07400 123456, +44 7400 123456...)."
    list_select_related = ("assigned_to",)
    list_per_page = 50
    # The queue page then needs one COUNT, not two: staff never need the unfiltered total there.
    show_full_result_count = False
    ordering = QUEUE_ORDER
    actions = ["assign_to_me", "release", "mark_in_progress", "close_as_duplicate", "export_csv"]
    fieldsets = (
        (
            "Record",
            {
                "fields": (
                    "reference",
                    "kind",
                    "created_at",
                    "updated_at",
                    "consent_version",
                    "consent_given_at",
                    "consent_text_sha256",
                )
            },
        ),
    )
    readonly_fields = (
        "reference",
        "kind",
        "created_at",
        "updated_at",
        "consent_version",
        "consent_given_at",
        "consent_text_sha256",
    )
    inlines = [NotificationInline, RequestEventInline]

    class Media:
        css = {"all": [ADMIN_CSS, "intake/admin.css"]}

    # The queue

    def get_queryset(self, request):
        return callback_request_queue()

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Callback queue", **(extra_context or {})})

    @admin.display(description="Patient", ordering="name")
    def patient(self, obj):
        return obj.name

    @admin.display(description="Priority", ordering="priority")
    def priority_badge(self, obj):
        if getattr(obj, "has_possible_red_flag", False):
            return format_html("{} {}", priority_badge_html(obj.priority), POSSIBLE_RED_FLAG_MARKER)
        return priority_badge_html(obj.priority)

    @admin.display(description="Deadline", ordering="deadline")
    def deadline_left(self, obj):
        return deadline_html(obj, timezone.now())

    @admin.display(description="Assigned to", ordering="assigned_to__username")
    def assigned(self, obj):
        if obj.assigned_to is None:
            return format_html('<span class="triage-muted">{}</span>', "Unassigned")
        return staff_display_name(obj.assigned_to)

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # Staff type numbers as patients say them ("07700 900123"); the stored form is E.164.
        variants = phone_search_variants(search_term)
        if variants:
            results |= queryset.filter(phone__in=variants)
        return results, may_have_duplicates

    # Bulk actions: each row goes through the workflow; the message says what happened and what was refused.

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

    def has_export_permission(self, request):
        return request.user.has_perm(f"{self.opts.app_label}.export_{self.opts.model_name}")

    @admin.action(description="Export as CSV (no health details)", permissions=["export"])
    def export_csv(self, request, queryset):
        """Workload figures for the clinic's managers: no contact details, reasons or answers."""
        header = ["reference", "kind", "received", "priority", "status", "outcome", "assigned_to", "deadline", "closed"]
        writer = csv.writer(Echo())

        def rows() -> Iterable[str]:
            yield writer.writerow(header)
            for obj in queryset.select_related("assigned_to").iterator(chunk_size=2000):
                yield writer.writerow(
                    csv_safe(v)
                    for v in (
                        obj.reference,
                        obj.kind,
                        obj.created_at.isoformat(),
                        obj.get_priority_display(),
                        obj.get_status_display(),
                        obj.get_outcome_display(),
                        obj.assigned_to.get_username() if obj.assigned_to else "",
                        obj.deadline.isoformat() if obj.deadline else "",
                        obj.closed_at.isoformat() if obj.closed_at else "",
                    )
                )

        stamp = timezone.localtime(timezone.now(), clinic_zone()).strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="callback-requests-{stamp}.csv"'
        return response

    # One request's page

    def has_add_permission(self, request):
        # Requests come in through the public form, which records the patient's consent.
        return False

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/workflow/<slug:action>/",
                self.admin_site.admin_view(self.workflow_view),
                name="%s_%s_workflow" % info,  # noqa: UP031 - the admin's own naming pattern
            ),
            path(
                "<path:object_id>/privacy/export/",
                self.admin_site.admin_view(self.privacy_export_view),
                name="%s_%s_privacy_export" % info,  # noqa: UP031
            ),
            path(
                "<path:object_id>/privacy/erase/",
                self.admin_site.admin_view(self.privacy_erase_view),
                name="%s_%s_privacy_erase" % info,  # noqa: UP031
            ),
            *super().get_urls(),
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

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.request_page_context(request, obj, context.get("workflow_bound")))
            context["title"] = "Callback request"
        # Nothing on the form itself is editable: changes go through the workflow controls.
        context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def request_page_context(self, request, obj, bound) -> dict[str, Any]:
        from intake.selectors import questionnaire_response_summary

        zone = clinic_zone()
        response = obj.questionnaire_response
        summary = questionnaire_response_summary(response=response) if response else None
        return {
            "triage": obj,
            "triage_now": timezone.now(),
            "triage_zone": zone.key,
            "priority_badge": priority_badge_html(obj.priority),
            "priority_key": Priority(obj.priority).name.lower(),
            "phone_display": phone_display(obj.phone),
            "deadline_html": deadline_html(obj, timezone.now()),
            "window_start_local": timezone.localtime(obj.window_start, zone),
            "window_end_local": timezone.localtime(obj.window_end, zone),
            "questionnaire_summary": summary,
            "possible_red_flags": summary.possible_red_flags if summary else (),
            "timeline": callback_request_timeline(request=obj),
            "workflow_forms": self.workflow_forms(request, obj, bound),
            "can_change": self.has_change_permission(request, obj),
            "is_assigned_to_me": obj.assigned_to_id == request.user.pk,
            "assigned_name": staff_display_name(obj.assigned_to),
            "workflow_urls": {
                action: reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_workflow", args=[obj.pk, action])
                for action in WORKFLOW_ACTIONS
            },
        }

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
                return HttpResponseRedirect(change_url)
        self.message_user(request, "Nothing was changed: " + self._error_text(form), messages.ERROR)
        page_request = copy.copy(request)
        page_request.method = "GET"
        return self.change_view(page_request, str(obj.pk), extra_context={"workflow_bound": {action: form}})

    @staticmethod
    def _error_text(form) -> str:
        return " ".join(message for errors in form.errors.values() for message in errors)

    # Privacy: every opening of a request's page is recorded; a copy of the data and its erasure need their
    # own permissions and a POST from a confirmation page.

    def has_delete_permission(self, request, obj=None):
        # Deleting goes through "Erase this patient's data": it removes the answers too and is logged.
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), **self.privacy_context(request, object_id)}
        response = super().change_view(request, object_id, form_url, extra_context)
        obj = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and response.status_code == 200 and obj is not None:
            privacy.callback_request_view_record(request=obj, actor=request.user)
        return response

    def privacy_context(self, request, object_id) -> dict[str, Any]:
        info = self.opts.app_label, self.opts.model_name
        return {
            "privacy_urls": {
                action: reverse("admin:%s_%s_privacy_%s" % (*info, action), args=[object_id])  # noqa: UP031
                for action in ("export", "erase")
            },
            "can_export_patient_data": request.user.has_perm("callbacks.export_patient_data"),
            "can_erase_patient_data": request.user.has_perm("callbacks.erase_patient_data"),
        }

    def _privacy_object(self, request, object_id, permission: str) -> CallbackRequest | None:
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and not (self.has_view_permission(request, obj) and request.user.has_perm(permission)):
            raise PermissionDenied
        if obj is None and not request.user.has_perm(permission):
            raise PermissionDenied
        return obj

    def _privacy_page(self, request, obj, template: str, **context) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": context.pop("title"),
            "change_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]),
            **context,
        }
        return TemplateResponse(request, f"admin/callbacks/callbackrequest/{template}", context)

    def privacy_export_view(self, request, object_id):
        """GET: what the download holds and that it is recorded; POST: the JSON file."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        obj = self._privacy_object(request, object_id, "callbacks.export_patient_data")
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method == "GET":
            return self._privacy_page(request, obj, "privacy_export.html", title="Download this patient's data")
        content = privacy.callback_request_export(request=obj, actor=request.user)
        response = HttpResponse(content, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="patient-data-{obj.reference}.json"'
        response["Cache-Control"] = "no-store"
        return response

    def privacy_erase_view(self, request, object_id):
        """GET: what will be deleted, and a button; POST: erase, then back to the queue."""
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        obj = self._privacy_object(request, object_id, "callbacks.erase_patient_data")
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method == "GET":
            return self._privacy_page(
                request,
                obj,
                "privacy_erase.html",
                title="Erase this patient's data",
                answers=obj.questionnaire_response.answers.count() if obj.questionnaire_response else 0,
                notes=obj.notes.count(),
                calls=obj.call_attempts.count(),
                events=obj.events.count(),
                notifications=obj.notifications.count(),
            )
        reference = obj.reference
        privacy.callback_request_erase(request=obj, actor=request.user)
        self.message_user(
            request,
            f"Request {reference} and everything held with it are erased. The privacy log keeps who erased it, when.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))
