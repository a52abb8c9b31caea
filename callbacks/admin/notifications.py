"""The staff triage screens: the queue of requests, one request's page with its workflow, and the outbox.

The admin only displays and collects: every change to a request goes through `callbacks.workflow`, which
records it in the request's history. The change form itself has no editable fields.
"""

from django.contrib import admin, messages

from callbacks.admin.display import notification_error_text, notification_recipient_text
from callbacks.models import Notification
from callbacks.notifications.outbox import notification_resend
from clinic.admin_lookups import OfferedLookupsOnlyMixin


@admin.register(Notification)
class NotificationAdmin(OfferedLookupsOnlyMixin, admin.ModelAdmin):
    # A patient's address is not listed here: it is on the request's page, whose every opening is logged.
    list_display = ("request", "kind", "channel", "recipient_shown", "status", "attempts", "error_shown", "sent_at")
    list_filter = ("status", "kind", "channel")
    search_fields = ("request__reference",)
    list_select_related = ("request",)
    readonly_fields = (
        "request",
        "kind",
        "channel",
        "recipient_shown",
        "status",
        "attempts",
        "error_shown",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "provider_message_id",
    )
    fields = readonly_fields
    actions = ["resend_failed"]

    @admin.display(description="Recipient")
    def recipient_shown(self, obj):
        return notification_recipient_text(obj)

    @admin.display(description="Last error")
    def error_shown(self, obj):
        return notification_error_text(obj)

    def has_add_permission(self, request):
        return False

    @admin.action(description="Send the selected failed notifications again", permissions=["change"])
    def resend_failed(self, request, queryset):
        resent = sum(notification_resend(notification=n) for n in queryset)
        skipped = queryset.count() - resent
        self.message_user(request, f"Queued {resent} notification(s) again.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"Skipped {skipped} that had not failed.", messages.WARNING)
