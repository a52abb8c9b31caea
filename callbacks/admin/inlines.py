"""Read-only records on a request's page: its notifications (its history is the page's timeline)."""

from django.contrib import admin

from callbacks.models import Notification


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
    fields = (
        "kind",
        "channel",
        "recipient",
        "status",
        "delivery_status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "provider_message_id",
    )
    readonly_fields = fields
    ordering = ("created_at",)
