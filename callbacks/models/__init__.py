"""The app's models, one module per area; everything is importable from `callbacks.models` as before.

The choices (statuses, priorities, outcomes) are declared in `callbacks.rules` and exposed here on the models
(``CallbackRequest.Status``, ``Appointment.Status``...).
"""

from callbacks.models.attendance import AttendanceDay, AttendanceDayChange
from callbacks.models.booking import (
    Appointment,
    AppointmentQuerySet,
    AvailabilityException,
    ClinicClosure,
    CourseOfCare,
    PostgresExclusionConstraint,
    Practitioner,
    Service,
    TsTzRange,
    WorkingHours,
)
from callbacks.models.capacity import IntakeCapacity, RequestDayCount
from callbacks.models.followups import FollowUp, FollowUpQuerySet
from callbacks.models.notifications import REPEATABLE_KINDS, Notification, NotificationQuerySet, TextOptOut
from callbacks.models.patients import Patient, PatientLinkEvent, patient_number
from callbacks.models.privacy import PrivacyLogEntry
from callbacks.models.requests import (
    AppendOnlyModel,
    CallAttempt,
    CallbackRequest,
    CallbackRequestQuerySet,
    ConsentMethod,
    RequestEvent,
    StaffNote,
)
from callbacks.models.texts import InboundText, TextReceipt
from callbacks.models.waitlist import WaitlistEntry, WaitlistOffer
from callbacks.rules.requests import Priority

__all__ = [
    "REPEATABLE_KINDS",
    "AppendOnlyModel",
    "Appointment",
    "AppointmentQuerySet",
    "AttendanceDay",
    "AttendanceDayChange",
    "AvailabilityException",
    "CallAttempt",
    "CallbackRequest",
    "CallbackRequestQuerySet",
    "ClinicClosure",
    "ConsentMethod",
    "CourseOfCare",
    "FollowUp",
    "FollowUpQuerySet",
    "InboundText",
    "IntakeCapacity",
    "Notification",
    "NotificationQuerySet",
    "Patient",
    "PatientLinkEvent",
    "PostgresExclusionConstraint",
    "Practitioner",
    "Priority",
    "PrivacyLogEntry",
    "RequestDayCount",
    "RequestEvent",
    "Service",
    "StaffNote",
    "TextOptOut",
    "TextReceipt",
    "TsTzRange",
    "WaitlistEntry",
    "WaitlistOffer",
    "WorkingHours",
    "patient_number",
]
