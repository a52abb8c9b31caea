"""The outbox list: every notification, a text's delivery receipts, and sending a failed one again.

The admin only displays and collects: every change to a request goes through `callbacks.workflow`, which
records it in the request's history. The change form itself has no editable fields.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from callbacks.admin.display import ADMIN_CSS, notification_error_text, notification_recipient_text
from callbacks.models import Notification
from callbacks.models.requests import clinic_time_text
from callbacks.notifications.outbox import notification_resend
from clinic.admin_lookups import OfferedLookupsOnlyMixin


@admin.register(Notification)
class NotificationAdmin(OfferedLookupsOnlyMixin, admin.ModelAdmin):
    # A patient's address is not listed here: it is on the request's page, whose every opening is logged.
    list_display = (
        "request",
        "kind",
        "channel",
        "recipient_shown",
        "status",
        "delivery_shown",
        "attempts",
        "error_shown",
        "sent_at",
    )
    list_filter = ("status", "delivery_status", "kind", "channel")
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
        "delivery_shown",
        "receipts_shown",
    )
    fields = readonly_fields
    actions = ["resend_failed"]

    class Media:
        css = {"all": [ADMIN_CSS]}

    @admin.display(description="Recipient")
    def recipient_shown(self, obj):
        return notification_recipient_text(obj)

    @admin.display(description="Last error")
    def error_shown(self, obj):
        return notification_error_text(obj)

    @admin.display(description="Delivery", ordering="delivery_status")
    def delivery_shown(self, obj):
        if not obj.delivery_status:
            return "-"
        return format_html(
            '<span class="triage-delivery--{}">{}</span>', obj.delivery_status, obj.get_delivery_status_display()
        )

    @admin.display(description="Receipts")
    def receipts_shown(self, obj):
        receipts = obj.receipts.all()
        if not receipts:
            return "None yet"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} at {}{}</li>",
                (
                    (
                        receipt.get_status_display(),
                        clinic_time_text(receipt.received_at),
                        f" (error {receipt.error_code})" if receipt.error_code else "",
                    )
                    for receipt in receipts
                ),
            ),
        )

    def has_add_permission(self, request):
        return False

    @admin.action(description="Send the selected failed notifications again", permissions=["change"])
    def resend_failed(self, request, queryset):
        resent = sum(notification_resend(notification=n) for n in queryset)
        skipped = queryset.count() - resent
        self.message_user(request, f"Queued {resent} notification(s) again.", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"Skipped {skipped} that had not failed.", messages.WARNING)

    def get_urls(self):
        resend = self.admin_site.admin_view(require_POST(self.resend_view))
        return [path("resend/", resend, name="callbacks_notification_resend"), *super().get_urls()]

    def resend_view(self, request):
        """One failed notification sent again (the button on a request's page); back to where it was pressed."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        pk = request.POST.get("notification", "")
        notification = get_object_or_404(Notification, pk=int(pk) if pk.isdigit() else 0)
        if notification_resend(notification=notification):
            self.message_user(request, "Queued the notification again.", messages.SUCCESS)
        else:
            self.message_user(request, "Not sent again: it had not failed.", messages.WARNING)
        next_url = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
            next_url = reverse("admin:callbacks_notification_changelist")
        return HttpResponseRedirect(next_url)
