"""The online request capacity page: hours, daily cap and pause for new online callback requests (one row).

Its list shows the one row, or offers to add it (with the environment's values) before it exists.
Those with ``callbacks.change_intakecapacity`` ("Triage staff") change it; ``view_`` reads it."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import dateformat, timezone

from callbacks.models import IntakeCapacity
from callbacks.models.capacity import SINGLETON_ID
from callbacks.requests.capacity import Closed, intake_now

STATE = {
    Closed.HOURS: "Not taking online requests now (outside the hours)",
    Closed.PAUSED: "Paused",
    Closed.FULL: "Full for today",
}


def intake_summary() -> str:
    """Now, in words: taken or not, the places used, and when requests open again."""
    intake = intake_now()
    used = f"{intake.used} of {intake.daily_cap}" if intake.daily_cap is not None else f"{intake.used} (no limit)"
    if intake.accepting:
        return f"Taking online requests. Routine places taken today: {used}."
    opens = dateformat.format(timezone.localtime(intake.opens_at), "l j F, H:i") if intake.opens_at else "not scheduled"
    return f"{STATE[intake.closed]}. Routine places taken today: {used}. Opens again: {opens}."


@admin.register(IntakeCapacity)
class IntakeCapacityAdmin(admin.ModelAdmin):
    fieldsets = (
        (None, {"fields": ("now",)}),
        ("Hours and daily limit", {"fields": ("hours", "daily_cap")}),
        (
            "Pause online requests",
            {
                "fields": ("suspended_from", "suspended_until", "suspension_reason"),
                "description": "Patients can still answer the safety questions and get their advice; urgent and "
                'emergency requests are always taken. Clear "paused until" and the reason to end a pause early.',
            },
        ),
    )
    readonly_fields = ("now",)
    list_display = ("__str__", "hours", "daily_cap", "suspended_until", "now")

    @admin.display(description="Now")
    def now(self, obj):
        return intake_summary()

    def has_add_permission(self, request):
        # No query here: the permission is asked on every admin page (the sidebar); add_view sends an existing row's
        # second "add" to the row.
        return self.has_change_permission(request)

    def add_view(self, request, form_url="", extra_context=None):
        if IntakeCapacity.objects.filter(pk=SINGLETON_ID).exists():
            return HttpResponseRedirect(reverse("admin:callbacks_intakecapacity_change", args=[SINGLETON_ID]))
        return super().add_view(request, form_url, extra_context)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changeform_initial_data(self, request):
        return {"hours": settings.CLINIC_REQUEST_HOURS.strip(), "daily_cap": settings.CLINIC_REQUEST_DAILY_CAP or None}

    def response_change(self, request, obj):
        # Saving returns to the same page with its "Now" line updated, rather than to a list of one row.
        if "_continue" not in request.POST:
            self.message_user(request, f"Saved. {intake_summary()}")
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, f"Saved. {intake_summary()}")
        return HttpResponseRedirect(reverse("admin:callbacks_intakecapacity_change", args=[obj.pk]))
