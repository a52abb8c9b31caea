"""Privacy on the staff screens: the views that record, export and erase a patient's data, and the privacy log."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from callbacks.models import CallbackRequest, PrivacyLogEntry
from callbacks.privacy import services as privacy
from callbacks.privacy.waitlist import waitlist_entries_of_request
from callbacks.rules.staff import staff_display_name
from clinic.admin_lookups import OfferedLookupsOnlyMixin


class ListedPrivacyMixin:
    """A list that shows patients' names, phones or priorities records whom it showed to whom (the privacy log's
    "listed" entries), as opening one request's page does."""

    def listed_reference(self, obj) -> str:
        return obj.reference

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if request.method == "GET" and response.status_code == 200 and changelist is not None:
            privacy.callback_requests_list_record(
                references=[self.listed_reference(obj) for obj in changelist.result_list], actor=request.user
            )
        return response


class PrivacyAdminMixin:
    """Every opening of a request's page is recorded; a copy of the data and its erasure need their own
    permissions and a POST from a confirmation page."""

    def privacy_urls(self) -> list:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/privacy/export/",
                self.admin_site.admin_view(self.privacy_export_view),
                name="%s_%s_privacy_export" % info,  # noqa: UP031 - the admin's own naming pattern
            ),
            path(
                "<path:object_id>/privacy/erase/",
                self.admin_site.admin_view(self.privacy_erase_view),
                name="%s_%s_privacy_erase" % info,  # noqa: UP031
            ),
        ]

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
                waitlist=[entry.reference for entry in waitlist_entries_of_request(request=obj)],
            )
        reference = obj.reference
        privacy.callback_request_erase(request=obj, actor=request.user)
        self.message_user(
            request,
            f"Request {reference} and everything held with it are erased. The privacy log keeps who erased it, when.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))


@admin.register(PrivacyLogEntry)
class PrivacyLogEntryAdmin(OfferedLookupsOnlyMixin, admin.ModelAdmin):
    """Who opened, downloaded or erased which request, and what the retention purge deleted. Read-only: only
    the "view privacy log entry" permission (the Privacy officer group) shows it."""

    list_display = ("at", "action", "reference", "actor_name", "count", "detail")
    list_filter = ("action", ("at", admin.DateFieldListFilter))
    search_fields = ("reference",)
    search_help_text = "A request's reference, e.g. CB-7KQ2M."
    list_select_related = ("actor",)
    date_hierarchy = "at"
    list_per_page = 100
    fields = ("at", "action", "reference", "actor", "count", "detail")
    readonly_fields = fields

    @admin.display(description="By", ordering="actor__username")
    def actor_name(self, entry):
        return (
            staff_display_name(entry.actor)
            if entry.actor
            else format_html('<span class="triage-muted">{}</span>', "System")
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
