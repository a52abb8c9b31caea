"""The staff triage screens: the queue of requests and one request's page.

The admin only displays and collects: every change to a request goes through `callbacks.requests.workflow`, which
records it in the request's history. The change form itself has no editable fields; the workflow controls
(`callbacks.admin.workflow`), the queue's bulk actions (`callbacks.admin.bulk_actions`), the privacy views
(`callbacks.admin.privacy`) and the CSV export (`callbacks.admin.export`) are mixed in from their own modules.
"""

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from callbacks.admin.bulk_actions import QueueBulkActionsMixin
from callbacks.admin.chart import line_chart
from callbacks.admin.display import (
    ADMIN_CSS,
    NEW_TEXT_MARKER,
    NOT_SCREENED_BADGE,
    POSSIBLE_RED_FLAG_MARKER,
    deadline_html,
    local_moment,
    phone_display,
    phone_link_html,
    priority_badge_html,
    request_texts_text,
)
from callbacks.admin.export import ExportAdminMixin
from callbacks.admin.filters import (
    AssignedFilter,
    CalledFilter,
    NewTextFilter,
    OverdueFilter,
    ScreenedFilter,
    StatusFilter,
)
from callbacks.admin.inlines import NotificationInline
from callbacks.admin.outcome_report import OutcomeReportAdminMixin
from callbacks.admin.paging import QueuePaginator
from callbacks.admin.patients import RequestPatientAdminMixin
from callbacks.admin.privacy import ListedPrivacyMixin, PrivacyAdminMixin
from callbacks.admin.screening import ScreeningAdminMixin
from callbacks.admin.workflow import WORKFLOW_ACTIONS, WorkflowAdminMixin
from callbacks.booking.courses import course_rest, course_sessions
from callbacks.models import Appointment, CallbackRequest, ConsentMethod, Priority
from callbacks.notifications.replies import inbound_texts_mark_seen
from callbacks.notifications.routing import follow_up_routes
from callbacks.requests import workflow
from callbacks.requests.calls import call_claim_holder, requests_with_call_claim
from callbacks.requests.outcomes import callback_request_scores_over_time
from callbacks.requests.phone import phone_search_variants, phone_to_dial
from callbacks.requests.selectors import (
    QUEUE_ORDER,
    callback_request_queue,
    callback_request_texts_sent,
    callback_request_timeline,
)
from callbacks.rules.screening import request_screened
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
    RequestPatientAdminMixin,
    WorkflowAdminMixin,
    QueueBulkActionsMixin,
    ScreeningAdminMixin,
    ExportAdminMixin,
    OutcomeReportAdminMixin,
    admin.ModelAdmin,
):
    # The key columns first: on a narrow screen the queue becomes stacked cards in this order (triage.css). When a
    # request arrived is on its page and in the "By created at" filter: the queue's row has room for what a caller
    # needs instead (phone, kind and window, calls).
    list_display = (
        "reference",
        "priority_badge",
        "status",
        "deadline_left",
        "patient",
        "phone_link",
        "window",
        "attempts",
        "assigned",
    )
    list_display_links = ("reference",)
    list_filter = (
        StatusFilter,
        "priority",
        OverdueFilter,
        CalledFilter,
        AssignedFilter,
        ScreenedFilter,
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
        css = {"all": [ADMIN_CSS, "intake/admin.css", "callbacks/admin/patients.css", "callbacks/admin/filters.css"]}
        js = ["callbacks/admin/scroll_regions.js", "callbacks/admin/request_page.js"]

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
        # "Being called by" is worked out for the viewer in the page's own query.
        # (The queue selector's select_related stops the admin applying list_select_related: name them here.)
        queue = callback_request_queue().select_related("last_call_by")
        return requests_with_call_claim(queue, viewer=request.user)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "Callback queue", **(extra_context or {})})

    @admin.display(description="Patient", ordering="name")
    def patient(self, obj):
        return obj.name

    @admin.display(description="Priority", ordering="priority")
    def priority_badge(self, obj):
        badges = [priority_badge_html(obj.priority)]
        if getattr(obj, "has_possible_red_flag", False):
            badges.append(POSSIBLE_RED_FLAG_MARKER)
        if not request_screened(obj):
            badges.append(NOT_SCREENED_BADGE)
        if getattr(obj, "has_new_text", False):
            badges.append(NEW_TEXT_MARKER)
        return format_html_join(" ", "{}", ((badge,) for badge in badges))

    # The callers' columns are not sortable: a sort on them would read every open request (the queue's order is
    # its indexed one); "By calls" filters the untouched instead.

    @admin.display(description="Phone")
    def phone_link(self, obj):
        return phone_link_html(str(obj.phone))

    @admin.display(description="Window")
    def window(self, obj):
        """Callback and the window the patient asked for, or booking and the appointment's time."""
        start, end = local_moment(obj.window_start), timezone.localtime(obj.window_end, clinic_zone())
        when = start if obj.kind == CallbackRequest.Kind.BOOKING else f"{start}-{end:%H:%M}"
        return format_html('<strong class="triage-kind">{}</strong><br>{}', obj.get_kind_display(), when)

    @admin.display(description="Calls")
    def attempts(self, obj):
        if not obj.calls_logged:
            return format_html('<span class="triage-muted">{}</span>', "Not yet called")
        return f"{obj.calls_logged} logged"

    @admin.display(description="Deadline", ordering="deadline")
    def deadline_left(self, obj):
        return deadline_html(obj, timezone.now())

    @admin.display(description="Assigned to", ordering="assigned_to__username")
    def assigned(self, obj):
        if obj.assigned_to is None:
            who = format_html('<span class="triage-muted">{}</span>', "Unassigned")
        else:
            who = staff_display_name(obj.assigned_to)
        if getattr(obj, "being_called", False):
            return format_html(
                '{}<br><strong class="triage-being-called">Being called by {}</strong>',
                who,
                staff_display_name(obj.last_call_by),
            )
        return who

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # Staff type numbers as patients say them ("07700 900123"); the stored form is E.164.
        variants = phone_search_variants(search_term)
        if variants:
            results |= queryset.filter(phone__in=variants)
        # A reference finds the patient's other requests with it: one person's requests come up together.
        reference = search_term.strip().upper()
        if reference.startswith("CB-"):
            patient = CallbackRequest.objects.filter(reference=reference).values("patient_record_id")
            results |= queryset.filter(patient_record_id__in=patient)
        return results, may_have_duplicates

    # One request's page

    def get_urls(self):
        return [
            *self.workflow_urls(),
            *self.privacy_urls(),
            *self.patient_urls(),
            *self.outcome_report_urls(),
            *self.screening_urls(),
            *super().get_urls(),
        ]

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
            **self.patient_context(request, obj),
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
            # The form a refused action re-shows, for the error summary at the top of the page.
            "workflow_refused": next(iter((bound or {}).values()), None),
            # The action just done (``?done=call``): its section shows the result where the page lands.
            "done": request.GET.get("done", ""),
            "can_change": self.has_change_permission(request, obj),
            "is_assigned_to_me": obj.assigned_to_id == request.user.pk,
            "being_called_by": call_claim_holder(obj, viewer=request.user),
            "screened": request_screened(obj),
            "not_screened_badge": NOT_SCREENED_BADGE,
            "screen_url": reverse("admin:callbacks_callbackrequest_screen", args=[obj.pk]),
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
            # Whether an outcome follow-up can reach the patient (an address, or texts they chose).
            "follow_up_reachable": bool(follow_up_routes(obj)),
            "score_charts": charts,
            "follow_up_answers": scores.answers,
        }

    def appointment_context(self, request, obj) -> dict[str, Any]:
        """A booking's appointment on its request's page, with the diary's one-click decisions; for a request
        without one, "Book an appointment" (the desk's booking form, prefilled from the request)."""
        book_url = ""
        if request.user.has_perm("callbacks.add_appointment"):
            book_url = reverse("admin:callbacks_appointment_book") + f"?request={obj.pk}"
        if obj.kind != CallbackRequest.Kind.BOOKING:
            return {"appointment": None, "book_from_request_url": book_url}
        appointment = (
            Appointment.objects.select_related("service", "practitioner", "attendance_marked_by", "course")
            .filter(request=obj)
            .first()
        )
        if appointment is None:
            return {"appointment": None, "book_from_request_url": book_url}
        day = timezone.localtime(appointment.starts_at, clinic_zone()).date()
        return {
            "appointment": appointment,
            "appointment_can_act": request.user.has_perm("callbacks.change_appointment"),
            # Held or not, the request has its appointment: another one is a new request for the same patient.
            "book_from_request_url": book_url if not appointment.holds_time else "",
            "appointment_urls": {
                action: reverse("admin:callbacks_appointment_diary_action", args=[appointment.pk, action])
                for action in ("confirm", "decline")
            }
            | {
                action: reverse(f"admin:callbacks_appointment_{action}", args=[appointment.pk])
                for action in ("move", "cancel", "cancel_undo")
            },
            "appointment_undo_until": appointment.cancel_undo_until
            if appointment.cancel_undo_until and appointment.cancel_undo_until > timezone.now()
            else None,
            "here": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]),
            "diary_day_url": reverse("admin:callbacks_appointment_diary")
            + f"?view=day&day={day.isoformat()}&practitioner={appointment.practitioner_id}",
            **self.course_context(appointment),
        }

    def course_context(self, appointment) -> dict[str, Any]:
        """A course's session: every session of the course, and the one action on the rest."""
        if appointment.course_id is None:
            return {"course": None}
        sessions = course_sessions(appointment.course)
        return {
            "course": appointment.course,
            "course_sessions": sessions,
            "course_session_number": next(i for i, s in enumerate(sessions, start=1) if s.pk == appointment.pk),
            "course_rest_count": len(course_rest(appointment.course)),
            "course_cancel_rest_url": reverse(
                "admin:callbacks_appointment_course_cancel_rest", args=[appointment.course_id]
            ),
        }
