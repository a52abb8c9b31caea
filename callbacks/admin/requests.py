"""The staff triage screens: the queue of requests and one request's page.

The admin only displays and collects: every change to a request goes through `callbacks.requests.workflow`, which
records it in the request's history. The change form itself has no editable fields; the workflow controls
(`callbacks.admin.workflow`), the privacy views (`callbacks.admin.privacy`) and the CSV export
(`callbacks.admin.export`) are mixed in from their own modules.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from callbacks.admin.chart import line_chart
from callbacks.admin.display import (
    ADMIN_CSS,
    NEW_TEXT_MARKER,
    POSSIBLE_RED_FLAG_MARKER,
    deadline_html,
    phone_display,
    priority_badge_html,
    request_texts_text,
)
from callbacks.admin.export import ExportAdminMixin
from callbacks.admin.filters import AssignedFilter, NewTextFilter, OverdueFilter, StatusFilter
from callbacks.admin.inlines import NotificationInline
from callbacks.admin.outcome_report import OutcomeReportAdminMixin
from callbacks.admin.paging import QueuePaginator
from callbacks.admin.privacy import ListedPrivacyMixin, PrivacyAdminMixin
from callbacks.admin.workflow import WORKFLOW_ACTIONS, WorkflowAdminMixin
from callbacks.models import Appointment, CallbackRequest, ConsentMethod, Priority
from callbacks.notifications.replies import inbound_texts_mark_seen
from callbacks.requests import workflow
from callbacks.requests.outcomes import callback_request_scores_over_time
from callbacks.requests.phone import phone_search_variants, phone_to_dial
from callbacks.requests.selectors import (
    QUEUE_ORDER,
    callback_request_queue,
    callback_request_texts_sent,
    callback_request_timeline,
)
from callbacks.rules.staff import staff_display_name
from clinic.admin_lookups import OfferedLookupsOnlyMixin
from clinic.hours import clinic_zone
from intake.selectors import questionnaire_response_summary

Status = CallbackRequest.Status


@admin.register(CallbackRequest)
class CallbackRequestAdmin(
    OfferedLookupsOnlyMixin,
    ListedPrivacyMixin,
    PrivacyAdminMixin,
    WorkflowAdminMixin,
    ExportAdminMixin,
    OutcomeReportAdminMixin,
    admin.ModelAdmin,
):
    # The key columns first: on a narrow screen the queue becomes stacked cards in this order (triage.css).
    list_display = (
        "reference",
        "priority_badge",
        "status",
        "deadline_left",
        "patient",
        "assigned",
        "created_at",
    )
    list_display_links = ("reference",)
    list_filter = (
        StatusFilter,
        "priority",
        OverdueFilter,
        AssignedFilter,
        NewTextFilter,
        ("created_at", admin.DateFieldListFilter),
    )
    # "Emergency or urgent, open" on the admin home (admin/callbacks/day_at_a_glance.html).
    linked_lookups = frozenset({"priority__lte"})
    search_fields = ("reference", "name", "phone")
    search_help_text = "Reference, name or phone number (typed any way: 07400 123456, +44 7400 123456...)."
    list_select_related = ("assigned_to",)
    list_per_page = 50
    # Listing every request of a large table numbers its pages from PostgreSQL's estimate (callbacks.admin.paging).
    paginator = QueuePaginator
    # The queue page then needs one COUNT, not two: staff never need the unfiltered total there.
    show_full_result_count = False
    ordering = QUEUE_ORDER
    actions = ["assign_to_me", "release", "mark_in_progress", "close_as_duplicate", "export_csv", "export_fhir"]
    # The consent as staff need it (version, time, how and to whom); the hash of its text is proof for the
    # privacy officer only (see get_fields).
    RECORD_FIELDS = ("reference", "kind", "created_at", "updated_at", "consent")
    fields = (*RECORD_FIELDS, "consent_text_sha256")
    readonly_fields = fields
    # The history is shown once, as the page's timeline (callback_request_timeline), not again as a table.
    inlines = [NotificationInline]

    class Media:
        css = {"all": [ADMIN_CSS, "intake/admin.css"]}
        js = ["callbacks/admin/scroll_regions.js"]

    def get_fields(self, request, obj=None):
        if request.user.has_perm("callbacks.view_consent_proof"):
            return self.fields
        return self.RECORD_FIELDS

    @admin.display(description="Consent")
    def consent(self, obj):
        how = "online, by the patient"
        if obj.consent_method == ConsentMethod.PHONE:
            how = f"by phone, to {staff_display_name(obj.consent_recorded_by)}"
        return f"Version {obj.consent_version}, given {workflow.moment_label(obj.consent_given_at)}, {how}"

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
        badge = priority_badge_html(obj.priority)
        if getattr(obj, "has_possible_red_flag", False):
            badge = format_html("{} {}", badge, POSSIBLE_RED_FLAG_MARKER)
        if getattr(obj, "has_new_text", False):
            badge = format_html("{} {}", badge, NEW_TEXT_MARKER)
        return badge

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

    # One request's page

    def get_urls(self):
        return [*self.workflow_urls(), *self.privacy_urls(), *self.outcome_report_urls(), *super().get_urls()]

    def has_add_permission(self, request):
        # Requests come in through the public form, which records the patient's consent.
        return False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self.request_page_context(request, obj, context.get("workflow_bound")))
            context["title"] = "Callback request"
        # Nothing on the form itself is editable: changes go through the workflow controls.
        context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def request_page_context(self, request, obj, bound) -> dict[str, Any]:
        zone = clinic_zone()
        response = obj.questionnaire_response
        summary = questionnaire_response_summary(response=response) if response else None
        return {
            **self.appointment_context(request, obj),
            **self.scores_context(obj),
            "triage": obj,
            "triage_now": timezone.now(),
            "triage_zone": zone.key,
            "priority_badge": priority_badge_html(obj.priority),
            "priority_key": Priority(obj.priority).name.lower(),
            "phone_display": phone_display(str(obj.phone)),
            "phone_to_dial": phone_to_dial(obj.phone, obj.phone_relay_prefix),
            "texts_text": request_texts_text(obj),
            "deadline_html": deadline_html(obj, timezone.now()),
            "window_start_local": timezone.localtime(obj.window_start, zone),
            "window_end_local": timezone.localtime(obj.window_end, zone),
            "questionnaire_summary": summary,
            "possible_red_flags": summary.possible_red_flags if summary else (),
            "timeline": callback_request_timeline(request=obj),
            **self.texts_context(request, obj),
            "workflow_forms": self.workflow_forms(request, obj, bound),
            "can_change": self.has_change_permission(request, obj),
            "is_assigned_to_me": obj.assigned_to_id == request.user.pk,
            "assigned_name": staff_display_name(obj.assigned_to),
            "workflow_urls": {
                action: reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_workflow", args=[obj.pk, action])
                for action in WORKFLOW_ACTIONS
            },
        }

    def texts_context(self, request, obj) -> dict[str, Any]:
        """The texts sent to the patient with their receipts, and how many of the patient's texts were new
        (opening the page reads them: they leave the queue's "New text")."""
        new = inbound_texts_mark_seen(request=obj, user=request.user)
        return {
            "texts_sent": list(callback_request_texts_sent(request=obj)),
            "new_texts": new,
            "can_resend": request.user.has_perm("callbacks.change_notification"),
            "resend_url": reverse("admin:callbacks_notification_resend"),
            "here": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]),
        }

    def scores_context(self, obj) -> dict[str, Any]:
        """The patient's outcome scores over time, one small chart per measure, and their follow-ups."""
        scores = callback_request_scores_over_time(request=obj)
        weeks = tuple(settings.CLINIC_FOLLOW_UP_WEEKS)
        charts = [
            (
                series,
                line_chart(
                    low=series.measure.low,
                    high=series.measure.high,
                    scores=[(point.weeks, point.when, point.value) for point in series.points],
                    weeks=weeks,
                ),
            )
            for series in scores.series
        ]
        return {
            "scores": scores,
            "score_charts": charts,
            "follow_up_answers": scores.answers,
        }

    def appointment_context(self, request, obj) -> dict[str, Any]:
        """A booking's appointment on its request's page, with the diary's one-click decisions."""
        if obj.kind != CallbackRequest.Kind.BOOKING:
            return {"appointment": None}
        appointment = Appointment.objects.select_related("service", "practitioner").filter(request=obj).first()
        if appointment is None:
            return {"appointment": None}
        day = timezone.localtime(appointment.starts_at, clinic_zone()).date()
        return {
            "appointment": appointment,
            "appointment_can_act": request.user.has_perm("callbacks.change_appointment"),
            "appointment_urls": {
                action: reverse("admin:callbacks_appointment_diary_action", args=[appointment.pk, action])
                for action in ("confirm", "decline", "cancel")
            }
            | {"move": reverse("admin:callbacks_appointment_move", args=[appointment.pk])},
            "here": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]),
            "diary_day_url": reverse("admin:callbacks_appointment_diary")
            + f"?view=day&day={day.isoformat()}&practitioner={appointment.practitioner_id}",
        }
