"""The queue's filters: status (open by default), overdue, assigned, a new text from the patient."""

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone

from callbacks.models import CallbackRequest
from callbacks.requests.selectors import callback_request_with_new_text_q
from callbacks.rules.requests import AWAITING_RESPONSE_STATUSES
from callbacks.rules.screening import NOT_SCREENED

Status = CallbackRequest.Status


class StatusFilter(admin.SimpleListFilter):
    """Open requests unless staff ask for another status (or everything)."""

    title = "status"
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*Status.choices, (self.ALL, "All, closed too")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset.open()
        if value == self.ALL:
            return queryset
        if value in Status.values:
            return queryset.filter(status=value)
        return queryset.none()

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Open (not closed)",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class OverdueFilter(admin.SimpleListFilter):
    title = "response deadline"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        overdue = Q(status__in=AWAITING_RESPONSE_STATUSES, deadline__lt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned"
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", "Assigned to me"), ("none", "Unassigned"), ("others", "Assigned to others")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "none":
            return queryset.filter(assigned_to__isnull=True)
        if self.value() == "others":
            return queryset.filter(assigned_to__isnull=False).exclude(assigned_to=request.user)
        return queryset


class CalledFilter(admin.SimpleListFilter):
    """Who has not been rung yet: the calls logged are counted on the request (the open-queue index carries it)."""

    title = "calls"
    parameter_name = "called"

    def lookups(self, request, model_admin):
        return [("no", "Not yet called"), ("yes", "Called at least once")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(calls_logged=0)
        if self.value() == "yes":
            return queryset.filter(calls_logged__gt=0)
        return queryset


class ScreenedFilter(admin.SimpleListFilter):
    """Requests whose safety questions were never answered (`callbacks.rules.screening`)."""

    title = "safety questions"
    parameter_name = "screened"

    def lookups(self, request, model_admin):
        return [("no", "Not screened"), ("yes", "Screened")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(NOT_SCREENED)
        if self.value() == "yes":
            return queryset.exclude(NOT_SCREENED)
        return queryset


class NewTextFilter(admin.SimpleListFilter):
    """Requests with a text from the patient that nobody has read yet (opening the request reads them)."""

    title = "texts from the patient"
    parameter_name = "new_text"

    def lookups(self, request, model_admin):
        return [("yes", "New text from the patient")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(callback_request_with_new_text_q())
        return queryset
