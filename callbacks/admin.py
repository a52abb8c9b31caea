from django.contrib import admin, messages
from django.utils.html import format_html

from callbacks.models import CallbackRequest, Notification, Priority
from callbacks.notifications import notification_resend
from callbacks.phone import phone_search_variants

PRIORITY_BADGES = {
    Priority.EMERGENCY: "text-bg-danger",
    Priority.URGENT: "text-bg-warning",
    Priority.REVIEW: "text-bg-info",
    Priority.ROUTINE: "text-bg-secondary",
}


class NotificationInline(admin.TabularInline):
    model = Notification
    extra = 0
    can_delete = False
    fields = ("kind", "channel", "recipient", "status", "attempts", "last_error", "sent_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CallbackRequest)
class CallbackRequestAdmin(admin.ModelAdmin):
    list_display = ("reference", "name", "priority_badge", "status", "window_start", "created_at")
    list_filter = ("status", "priority", "kind", "created_at")
    search_fields = ("reference", "name", "phone")
    list_select_related = ("assigned_to",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "reference",
        "kind",
        "created_at",
        "consent_version",
        "consent_text_sha256",
        "consent_given_at",
    )
    fieldsets = (
        (None, {"fields": ("reference", "kind", "status", "priority", "assigned_to", "deadline")}),
        ("Contact", {"fields": ("name", "phone", "email", "window_start", "window_end")}),
        ("Request", {"fields": ("reason",)}),
        ("Consent", {"fields": ("consent_version", "consent_text_sha256", "consent_given_at", "created_at")}),
    )
    inlines = [NotificationInline]

    @admin.display(description="Priority", ordering="priority")
    def priority_badge(self, obj):
        return format_html(
            '<span class="badge {}">{}</span>', PRIORITY_BADGES[obj.priority], obj.get_priority_display()
        )

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # Staff type numbers as patients say them ("07700 900123"); the stored form is E.164.
        variants = phone_search_variants(search_term)
        if variants:
            results |= queryset.filter(phone__in=variants)
        return results, may_have_duplicates


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("request", "kind", "channel", "recipient", "status", "attempts", "last_error", "sent_at")
    list_filter = ("status", "kind", "channel")
    search_fields = ("request__reference",)
    list_select_related = ("request",)
    readonly_fields = (
        "request",
        "kind",
        "channel",
        "recipient",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "sent_at",
    )
    actions = ["resend_failed"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Send the selected failed notifications again", permissions=["change"])
    def resend_failed(self, request, queryset):
        resent = sum(notification_resend(notification=n) for n in queryset)
        skipped = queryset.count() - resent
        self.message_user(request, f"Queued {resent} notification(s) again.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"Skipped {skipped} that had not failed.", messages.WARNING)
