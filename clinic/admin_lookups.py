"""The admin's lists filter by what their filters offer, and by nothing else.

Django's admin turns any other query parameter naming a model field into a query: `?name__regex=[` (a 500 on a
broken pattern), `?reason__regex=...` (a search over what patients wrote, outside the search box's fields),
`?key__startswith=...` on django-otp's device list (an authenticator's secret, one character at a time). Every
list allows only its list_filter's own parameters and its date hierarchy's; anything else is a 400. The clinic's
admin site gives every ModelAdmin registered on it this rule, third-party ones included
(`callbacks.apps.ClinicAdminSite.register`).
"""

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path


class OfferedLookupsOnlyMixin:
    # Lookups a page of the admin links to without a filter for them (e.g. the admin home's counts).
    linked_lookups: frozenset[str] = frozenset()

    def lookup_allowed(self, lookup, value, request=None):
        return lookup in self.offered_lookups(request)

    def offered_lookups(self, request) -> set[str]:
        offered = set(self.linked_lookups)
        for item in self.get_list_filter(request):
            if isinstance(item, type) and issubclass(item, admin.SimpleListFilter):
                offered.add(item.parameter_name)
                continue
            field_path, filter_class = item if isinstance(item, (list, tuple)) else (item, admin.FieldListFilter.create)
            field = get_fields_from_path(self.model, field_path)[-1]
            spec = filter_class(field, request, {}, self.model, self, field_path=field_path)
            offered.update(spec.expected_parameters())
        if self.date_hierarchy:
            offered.update(f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day"))
        return offered


def offered_lookups_only(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """``admin_class`` with the allow-list above: itself if it has it already, else a subclass of the same name."""
    if issubclass(admin_class, OfferedLookupsOnlyMixin):
        return admin_class
    return type(admin_class.__name__, (OfferedLookupsOnlyMixin, admin_class), {"__module__": admin_class.__module__})
