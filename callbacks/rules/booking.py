"""What an appointment can be, and which appointments hold a practitioner's time."""

from django.db import models


class AppointmentStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


# A requested or confirmed appointment holds its time (no other booking may overlap it, and the patient may still
# cancel it); a declined or cancelled one frees it. The database's no-overlap constraint uses this same list.
APPOINTMENT_HOLDING_STATUSES = (AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED)


def appointment_status_holds_time(status: str) -> bool:
    return status in APPOINTMENT_HOLDING_STATUSES
