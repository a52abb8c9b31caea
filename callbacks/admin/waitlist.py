"""The waitlist in the admin: who waits for what (in the order they are offered freed slots), and their offers.

An entry's page shows a patient's contact details, so each opening is recorded in the privacy log, like a
request's page. Entries are read-only here: patients join on the public site, the offers follow freed slots,
and retention deletes old entries; staff can only take a patient off the waitlist.
"""

from django.contrib import admin, messages

from callbacks.admin.display import ADMIN_CSS
from callbacks.booking.waitlist import waitlist_entry_leave, waitlist_entry_view_record
from callbacks.models import WaitlistEntry, WaitlistOffer, WorkingHours
from callbacks.privacy.waitlist import waitlist_entry_erase
from clinic.admin_lookups import OfferedLookupsOnlyMixin

FILTERS_CSS = "callbacks/admin/filters.css"


class WaitlistOfferInline(admin.TabularInline):
    model = WaitlistOffer
    fields = ("starts_at", "practitioner", "status", "created_at", "decided_at", "appointment")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "offers of freed slots"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(OfferedLookupsOnlyMixin, admin.ModelAdmin):
    list_display = ("reference", "service", "practitioner_wished", "days", "status", "created_at")
    list_filter = ("status", "service", "practitioner")
    list_select_related = ("service", "practitioner")
    search_fields = ("reference", "phone")
    search_help_text = "A waitlist reference (e.g. WL-7KQ2M) or a phone number in E.164 (+44...)."
    ordering = ("created_at", "pk")
    actions = ["leave", "erase"]
    fields = (
        "reference",
        "status",
        "service",
        "practitioner",
        "days",
        "name",
        "phone",
        "email",
        "consent_version",
        "consent_given_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = [WaitlistOfferInline]

    class Media:
        css = {"all": [ADMIN_CSS, FILTERS_CSS]}

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Practitioner", ordering="practitioner__name")
    def practitioner_wished(self, entry):
        return entry.practitioner.name if entry.practitioner else "Any"

    @admin.display(description="Days")
    def days(self, entry):
        if not entry.weekdays:
            return "Any day"
        return ", ".join(WorkingHours.Weekday(int(day)).label[:3] for day in entry.weekdays)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        entry = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and response.status_code == 200 and entry is not None:
            waitlist_entry_view_record(entry=entry, actor=request.user)
        return response

    @admin.action(description="Take the selected patients off the waitlist", permissions=["leave"])
    def leave(self, request, queryset):
        left = sum(waitlist_entry_leave(entry=entry) for entry in queryset)
        self.message_user(request, f"Took {left} patient(s) off the waitlist.", messages.SUCCESS)
        if skipped := queryset.count() - left:
            self.message_user(request, f"{skipped} were not waiting and were left alone.", messages.WARNING)

    @admin.action(
        description="Erase the selected patients' waitlist details (recorded in the privacy log)",
        permissions=["erase"],
    )
    def erase(self, request, queryset):
        erased = [waitlist_entry_erase(entry=entry, actor=request.user) for entry in queryset]
        self.message_user(request, f"Erased {len(erased)} waitlist entr(ies).", messages.SUCCESS)

    def has_erase_permission(self, request):
        return request.user.has_perm("callbacks.erase_patient_data")

    def has_leave_permission(self, request):
        return request.user.has_perm("callbacks.change_waitlistentry")
