"""Hours in the admin: copying a day's hours to other days, and the days the whole clinic is closed."""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from callbacks.booking.hours import working_hours_copy
from callbacks.models import ClinicClosure, WorkingHours
from callbacks.requests.closures import bank_holidays
from clinic.admin_lookups import OfferedLookupsOnlyMixin

WEEKDAYS = [(str(value), label) for value, label in WorkingHours.Weekday.choices]
MONDAY_TO_FRIDAY = ["0", "1", "2", "3", "4"]


class HoursCopyForm(forms.Form):
    from_weekday = forms.TypedChoiceField(label="Copy the hours of", choices=WEEKDAYS, coerce=int, initial="0")
    to_weekdays = forms.MultipleChoiceField(
        label="To these days",
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
        initial=MONDAY_TO_FRIDAY[1:],
        help_text="Their own hours are replaced. Ticking Tuesday to Friday with Monday above gives the same "
        "hours Monday to Friday.",
        error_messages={"required": "Tick at least one day to copy to."},
    )

    def clean(self):
        cleaned = super().clean()
        source, targets = cleaned.get("from_weekday"), cleaned.get("to_weekdays")
        if source is not None and targets and [str(source)] == targets:
            self.add_error("to_weekdays", "Tick a day other than the one copied from.")
        return cleaned


class WorkingHoursCopyMixin:
    """Adds "Copy a day's hours" to the practitioner admin: a page with the form, a POST that calls the service."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/copy-hours/",
                self.admin_site.admin_view(self.hours_copy_view),
                name="%s_%s_copy_hours" % info,  # noqa: UP031
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Copy hours")
    def hours_copy_link(self, practitioner):
        if practitioner.pk is None:
            return "Save the practitioner first."
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_copy_hours", args=[practitioner.pk])
        return format_html('<a href="{}">Copy a day\'s hours to other days</a> (e.g. same hours Monday to Friday)', url)

    def hours_copy_view(self, request, object_id):
        practitioner = self.get_object(request, object_id)
        if practitioner is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, practitioner):
            raise PermissionDenied
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[practitioner.pk])
        form = HoursCopyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            source = form.cleaned_data["from_weekday"]
            written = working_hours_copy(
                practitioner=practitioner, from_weekday=source, to_weekdays=map(int, form.cleaned_data["to_weekdays"])
            )
            days = ", ".join(WorkingHours.Weekday(int(day)).label for day in form.cleaned_data["to_weekdays"])
            self.message_user(
                request,
                f"{WorkingHours.Weekday(source).label}'s hours copied to {days} ({written} block(s)).",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": practitioner,
            "title": f"Copy a day's hours: {practitioner}",
            "form": form,
            "change_url": change_url,
            "hours": practitioner.working_hours.order_by("weekday", "start"),
        }
        return TemplateResponse(request, "admin/callbacks/practitioner/copy_hours.html", context)


@admin.register(ClinicClosure)
class ClinicClosureAdmin(OfferedLookupsOnlyMixin, admin.ModelAdmin):
    """Whole days the clinic is closed besides the bank holidays, which are listed on the add page."""

    list_display = ("first_day", "last_day", "reason")
    date_hierarchy = "first_day"
    search_fields = ("reason",)

    def changelist_view(self, request, extra_context=None):
        today = timezone.localdate()
        extra_context = {
            **(extra_context or {}),
            "bank_holidays": bank_holidays(today, today + dt.timedelta(days=365)),
        }
        return super().changelist_view(request, extra_context)
