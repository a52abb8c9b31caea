"""Read-only records on a request's page: its notifications and its history."""

from django.contrib import admin

from callbacks.models import Notification, RequestEvent
from callbacks.requests.selectors import FIELD_TITLES
from callbacks.rules.staff import staff_display_name


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
    fields = ("kind", "channel", "recipient", "status", "attempts", "last_error", "created_at", "sent_at")
    readonly_fields = fields
    ordering = ("created_at",)


class RequestEventInline(ReadOnlyInline):
    """The request's history exactly as recorded: staff can read it, nobody can change it."""

    model = RequestEvent
    verbose_name_plural = "History (who changed what, when)"
    fields = ("at", "who", "action", "what", "before", "after")
    readonly_fields = fields
    ordering = ("-at", "-pk")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="By")
    def who(self, event):
        return staff_display_name(event.actor)

    @admin.display(description="Field")
    def what(self, event):
        return FIELD_TITLES.get(event.field, event.field)
