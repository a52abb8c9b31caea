"""Texts from patients: every text the clinic's number received, and those from numbers no request has.

A text from a known number is on its request's page (the timeline, and the queue's "New text"); this list is
where a text from an unknown number waits for staff. Read only: a text is what the patient sent.
"""

from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html

from callbacks.admin.display import ADMIN_CSS, phone_display
from callbacks.admin.privacy import ListedPrivacyMixin
from callbacks.models import InboundText
from callbacks.privacy import services as privacy
from clinic.admin_lookups import OfferedLookupsOnlyMixin


class MatchedFilter(admin.SimpleListFilter):
    title = "number"
    parameter_name = "matched"

    def lookups(self, request, model_admin):
        return [("no", "From a number no request has"), ("yes", "From a patient's number")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(request__isnull=True)
        if self.value() == "yes":
            return queryset.filter(request__isnull=False)
        return queryset


class UnreadFilter(admin.SimpleListFilter):
    title = "read"
    parameter_name = "unread"

    def lookups(self, request, model_admin):
        return [("yes", "Not read yet")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(Q(seen_at__isnull=True))
        return queryset


@admin.register(InboundText)
class InboundTextAdmin(OfferedLookupsOnlyMixin, ListedPrivacyMixin, admin.ModelAdmin):
    """Read only. A patient's words may be health details: the list records whose texts it showed, and opening
    one records the viewing, in the privacy log (as for a request's page)."""

    list_display = ("received_at", "from_shown", "request", "outcome", "body_shown", "unread")
    list_filter = (MatchedFilter, UnreadFilter, "outcome")
    search_fields = ("request__reference", "from_phone")
    list_select_related = ("request",)
    fields = ("received_at", "from_shown", "request", "intent", "outcome", "raised_priority", "body", "seen_at")
    readonly_fields = fields

    class Media:
        css = {"all": [ADMIN_CSS]}

    @admin.display(description="From", ordering="from_phone")
    def from_shown(self, obj):
        return format_html('<a href="tel:{}">{}</a>', obj.from_phone, phone_display(obj.from_phone))

    @admin.display(description="Text")
    def body_shown(self, obj):
        return obj.body if len(obj.body) <= 120 else obj.body[:119] + "\u2026"

    @admin.display(description="Read", boolean=True)
    def unread(self, obj):
        return obj.seen_at is not None

    def listed_reference(self, obj) -> str:
        return privacy.inbound_text_reference(obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        text = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and response.status_code == 200 and text is not None:
            privacy.inbound_text_view_record(text=text, actor=request.user)
        return response

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
