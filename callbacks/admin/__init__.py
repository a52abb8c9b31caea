"""The staff screens, one module per area. Django's admin autodiscovery imports this package; importing the
modules below registers their screens on the clinic's admin site (`callbacks.apps.ClinicAdminSite`)."""

from callbacks.admin import (
    accounts,
    booking,
    capacity,
    hours,
    notifications,
    patients,
    privacy,
    requests,
    texts,
    waitlist,
)

__all__ = [
    "accounts",
    "booking",
    "capacity",
    "hours",
    "notifications",
    "patients",
    "privacy",
    "requests",
    "texts",
    "waitlist",
]
