"""Booking in the admin: services, practitioners with their weekly hours, exceptions, and the appointment diary.

Confirming and declining go through `callbacks.booking`, which e-mails the patient. The booking's request (with
its intake) is in the triage queue like any other request.
"""

import datetime as dt

from django.contrib import admin, messages
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from callbacks.admin import attendance, caller_booking, courses, diary
from callbacks.admin.display import ADMIN_CSS, screening_badges_html
from callbacks.admin.hours import WorkingHoursCopyMixin
from callbacks.admin.privacy import ListedPrivacyMixin
from callbacks.booking import feeds
from callbacks.booking import services as booking
from callbacks.models import Appointment, AvailabilityException, Practitioner, Service, WorkingHours
from callbacks.requests.phone import phone_search_variants
from clinic.admin_lookups import OfferedLookupsOnlyMixin
from clinic.hours import clinic_zone


@admin.register(Service)
class ServiceAdmin(OfferedLookupsOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "duration_minutes", "active")
    list_filter = ("active",)
    search_fields = ("name",)


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 1
    verbose_name_plural = "weekly working hours (clinic local time)"


@admin.register(Practitioner)
class PractitionerAdmin(WorkingHoursCopyMixin, OfferedLookupsOnlyMixin, admin.ModelAdmin):
    list_display = ("name", "offers", "active", "calendar_feed")
    readonly_fields = ("hours_copy_link",)
    actions = ["calendar_feed_revoke"]
    list_filter = ("active", "services")
    search_fields = ("name",)
    filter_horizontal = ("services",)
    autocomplete_fields = ("user",)
    inlines = [WorkingHoursInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("services")

    @admin.display(description="Services")
    def offers(self, practitioner):
        return ", ".join(service.name for service in practitioner.services.all())

    @admin.display(description="Calendar feed", boolean=True)
    def calendar_feed(self, practitioner):
        return bool(practitioner.calendar_feed_digest)

    @admin.action(description="Revoke their calendar feed addresses", permissions=["change"])
    def calendar_feed_revoke(self, request, queryset):
        """For a leaked address or a practitioner who left: the old address stops at once."""
        revoked = 0
        for practitioner in queryset.exclude(calendar_feed_digest=""):
            feeds.practitioner_feed_revoke(practitioner=practitioner)
            revoked += 1
        self.message_user(request, f"Revoked the calendar feed of {revoked} practitioner(s).", messages.SUCCESS)


@admin.register(AvailabilityException)
class AvailabilityExceptionAdmin(OfferedLookupsOnlyMixin, admin.ModelAdmin):
    list_display = ("practitioner", "reason", "start", "end", "note")
    list_filter = ("reason", "practitioner")
    list_select_related = ("practitioner",)
    date_hierarchy = "start"


class WhenFilter(admin.SimpleListFilter):
    """The day's and the week's appointments, in the clinic's time zone."""

    title = "when"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [
            ("today", "Today"),
            ("tomorrow", "Tomorrow"),
            ("this_week", "This week"),
            ("next_week", "Next week"),
            ("upcoming", "From now on"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate(timezone=clinic_zone())
        monday = today - dt.timedelta(days=today.weekday())
        spans = {
            "today": (today, today + dt.timedelta(days=1)),
            "tomorrow": (today + dt.timedelta(days=1), today + dt.timedelta(days=2)),
            "this_week": (monday, monday + dt.timedelta(days=7)),
            "next_week": (monday + dt.timedelta(days=7), monday + dt.timedelta(days=14)),
        }
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gte=timezone.now())
        if self.value() not in spans:
            return queryset
        first, last = spans[self.value()]
        zone = clinic_zone()
        return queryset.filter(
            starts_at__gte=dt.datetime.combine(first, dt.time(), tzinfo=zone),
            starts_at__lt=dt.datetime.combine(last, dt.time(), tzinfo=zone),
        )


@admin.register(Appointment)
class AppointmentAdmin(OfferedLookupsOnlyMixin, ListedPrivacyMixin, admin.ModelAdmin):
    list_display = ("when", "practitioner", "service", "status_shown", "attendance_shown", "triage", "request_link")
    list_filter = (WhenFilter, "status", "attendance", "practitioner", "service")
    list_select_related = ("practitioner", "service", "request")

    def listed_reference(self, appointment):
        return appointment.request.reference

    date_hierarchy = "starts_at"
    ordering = ("starts_at",)
    search_fields = ("request__reference", "request__name", "request__phone")
    search_help_text = "Reference (e.g. CB-7KQ2M), the patient's name, or their phone number typed any way."
    actions = ["confirm", "decline"]
    list_per_page = 100
    fields = (
        "service",
        "practitioner",
        "starts_at",
        "ends_at",
        "status",
        "cancel_reason",
        "request_link",
        "decided_by",
        "decided_at",
        "attendance",
        "attendance_marked_by",
        "attendance_marked_at",
    )
    readonly_fields = fields

    class Media:
        css = {"all": [ADMIN_CSS]}

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # As in the queue: numbers typed as patients say them ("07700 900123") find the stored E.164 form.
        variants = phone_search_variants(search_term)
        if variants:
            results |= queryset.filter(request__phone__in=variants)
        return results, may_have_duplicates

    def has_add_permission(self, request):
        # Appointments come from a booking (the patient's, or the desk's "Book for a caller"), never a bare form.
        return False

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(lambda request, **kwargs: function(self, request, **kwargs))

        return [
            path("diary/", view(diary.diary_view), name="callbacks_appointment_diary"),
            path("book/", view(caller_booking.book_view), name="callbacks_appointment_book"),
            path("course/", view(courses.course_book_view), name="callbacks_appointment_course"),
            path(
                "course/<str:course_id>/cancel-rest/",
                view(courses.course_cancel_rest_view),
                name="callbacks_appointment_course_cancel_rest",
            ),
            path("my-calendar-feed/", view(diary.feed_view), name="callbacks_appointment_feed"),
            path("<str:object_id>/move/", view(diary.move_view), name="callbacks_appointment_move"),
            path("<str:object_id>/cancel/", view(diary.cancel_view), name="callbacks_appointment_cancel"),
            path(
                "<str:object_id>/cancel/undo/", view(diary.cancel_undo_view), name="callbacks_appointment_cancel_undo"
            ),
            path(
                "<str:object_id>/attendance/<slug:mark>/",
                view(attendance.attendance_view),
                name="callbacks_appointment_attendance",
            ),
            path(
                "<str:object_id>/diary/<slug:action>/",
                view(diary.diary_action_view),
                name="callbacks_appointment_diary_action",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra = {
            "diary_url": reverse("admin:callbacks_appointment_diary"),
            "book_url": reverse("admin:callbacks_appointment_book"),
            "course_url": reverse("admin:callbacks_appointment_course"),
            "can_book": request.user.has_perm("callbacks.add_appointment"),
        }
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="When", ordering="starts_at")
    def when(self, appointment):
        start = appointment.starts_at.astimezone(clinic_zone())
        end = appointment.ends_at.astimezone(clinic_zone())
        return f"{start:%a %d %b %Y, %H:%M}-{end:%H:%M}"

    @admin.display(description="Status", ordering="status")
    def status_shown(self, appointment):
        return appointment.get_status_display()

    @admin.display(description="Attendance", ordering="attendance")
    def attendance_shown(self, appointment):
        return appointment.get_attendance_display() or format_html('<span class="triage-muted">{}</span>', "Not marked")

    @admin.display(description="Triage", ordering="request__priority")
    def triage(self, appointment):
        badge = screening_badges_html(appointment.request)
        if appointment.flagged:
            return format_html("{} {}", badge, format_html("<strong>{}</strong>", "Check the intake first"))
        return badge

    @admin.display(description="Request")
    def request_link(self, appointment):
        url = reverse("admin:callbacks_callbackrequest_change", args=[appointment.request_id])
        return format_html('<a href="{}">{}</a>', url, appointment.request.reference)

    def _decide(self, request, queryset, decide, verb):
        done = [appointment for appointment in queryset if decide(appointment=appointment, user=request.user)]
        skipped = queryset.count() - len(done)
        if done:
            flagged = sum(1 for appointment in done if appointment.flagged)
            note = f" ({flagged} flagged emergency or urgent)" if flagged else ""
            self.message_user(request, f"{verb} {len(done)} appointment(s){note}.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} appointment(s) were not waiting for a decision and were left alone.",
                messages.WARNING,
            )

    @admin.action(description="Confirm the selected appointments (e-mails the patient)", permissions=["decide"])
    def confirm(self, request, queryset):
        self._decide(request, queryset, booking.appointment_confirm, "Confirmed")

    @admin.action(description="Decline the selected appointments (e-mails the patient)", permissions=["decide"])
    def decline(self, request, queryset):
        self._decide(request, queryset, booking.appointment_decline, "Declined")

    def has_decide_permission(self, request):
        return request.user.has_perm("callbacks.change_appointment")
