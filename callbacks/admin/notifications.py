"""The staff triage screens: the queue of requests, one request's page with its workflow, and the outbox.

The admin only displays and collects: every change to a request goes through `callbacks.workflow`, which
records it in the request's history. The change form itself has no editable fields.
"""

from django.contrib import admin, messages

from callbacks.models import CallbackRequest, Notification
from callbacks.notifications.outbox import notification_resend

Status = CallbackRequest.Status


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
