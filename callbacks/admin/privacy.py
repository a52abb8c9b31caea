"""The staff triage screens: the queue of requests, one request's page with its workflow, and the outbox.

The admin only displays and collects: every change to a request goes through `callbacks.workflow`, which
records it in the request's history. The change form itself has no editable fields.
"""

from django.contrib import admin
from django.utils.html import format_html

from callbacks.admin.lookups import OfferedLookupsOnlyMixin
from callbacks.models import CallbackRequest, PrivacyLogEntry
from callbacks.rules.staff import staff_display_name

Status = CallbackRequest.Status


@admin.register(PrivacyLogEntry)
class PrivacyLogEntryAdmin(OfferedLookupsOnlyMixin, admin.ModelAdmin):
    """Who opened, downloaded or erased which request, and what the retention purge deleted. Read-only: only
    the "view privacy log entry" permission (the Privacy officer group) shows it."""

    list_display = ("at", "action", "reference", "actor_name", "count")
    list_filter = ("action", ("at", admin.DateFieldListFilter))
    search_fields = ("reference",)
    search_help_text = "A request's reference, e.g. CB-7KQ2M."
    list_select_related = ("actor",)
    date_hierarchy = "at"
    list_per_page = 100
    fields = ("at", "action", "reference", "actor", "count")
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
