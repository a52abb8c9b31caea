"""The outbox: one row per message to send, written in the same transaction as what it announces."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from callbacks.models.requests import CallbackRequest
from callbacks.models.texts import TextReceipt


class NotificationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=Notification.Status.PENDING)


# Kinds sent once per move, so possibly several times for one request.
# A priority can rise more than once too (routine to review to urgent), and staff hear of each rise.
# A patient gets one outcome follow-up per due time: those are kept to one per follow-up row instead.
# A moved appointment is reminded again for its new time: one per time, kept so by the appointment's
# `reminder_sent_at` (`callbacks.booking.services.appointments_remind`).
# A failed text alerts staff once per failed message (`callbacks.notifications.receipts`).
REPEATABLE_KINDS = (
    "booking_rescheduled",
    "booking_moved",
    "staff_raised",
    "follow_up",
    "booking_reminder",
    "text_failed",
    # One advice text per red-flag text the patient sends (unique on the text itself, below).
    "text_emergency_advice",
    "text_urgent_advice",
    # One answer per C or X text that could mean more than one appointment (unique on the text, below).
    "text_reply_unclear",
)


class Notification(models.Model):
    """One message to send, written in the same transaction as what it announces (a transactional outbox)."""

    class Kind(models.TextChoices):
        STAFF_NEW_REQUEST = "staff_new", "New request (staff)"
        STAFF_PRIORITY_RAISED = "staff_raised", "Priority raised by later answers (staff)"
        PATIENT_CONFIRMATION = "patient_confirmation", "Confirmation (patient)"
        ESCALATION = "escalation", "Overdue escalation (staff)"
        BOOKING_CONFIRMED = "booking_confirmed", "Appointment confirmed (patient)"
        BOOKING_DECLINED = "booking_declined", "Appointment declined (patient)"
        BOOKING_REMINDER = "booking_reminder", "Appointment reminder (patient)"
        BOOKING_CANCELLED = "booking_cancelled", "Appointment cancelled by the patient (staff)"
        BOOKING_CANCELLED_BY_CLINIC = "booking_cancelled_clinic", "Appointment cancelled by the clinic (patient)"
        BOOKING_CANCELLED_BY_PATIENT = "booking_patient_cancel", "Appointment cancelled by the patient (patient)"
        BOOKING_RESCHEDULED = "booking_rescheduled", "Appointment moved by the patient (staff)"
        BOOKING_MOVED = "booking_moved", "Appointment moved (patient)"
        COURSE_BOOKED = "course_booked", "Course of care booked (patient)"
        WAITLIST_OFFER = "waitlist_offer", "Waitlist offer (patient)"
        FOLLOW_UP = "follow_up", "Outcome follow-up (patient)"
        STAFF_SIGN_IN_ALERT = "staff_sign_in_alert", "Wrong sign-in codes on a staff account (staff)"
        CALL_TODAY = "call_today", "We call you today (patient)"
        TEXT_FAILED = "text_failed", "A text to an urgent patient failed (staff)"
        TEXT_RED_FLAG = "text_red_flag", "A red-flag text from a number with no request (staff)"
        TEXT_EMERGENCY_ADVICE = "text_emergency_advice", "Emergency advice in reply to a red-flag text (patient)"
        TEXT_URGENT_ADVICE = "text_urgent_advice", "Urgent advice in reply to a red-flag text (patient)"
        TEXT_REPLY_UNCLEAR = "text_reply_unclear", "A C or X reply changed nothing: we will call (patient)"

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook"
        SMS = "sms", "Text message"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        # Written but waiting for a cancellation's undo time to pass; undoing it deletes the row, so nothing goes.
        HELD = "held", "Held (can still be undone)"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    # A notification announces a request, or (for a waitlist offer, before any request exists) an offer, or (for
    # wrong authenticator codes) a staff account.
    request = models.ForeignKey(
        CallbackRequest, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    waitlist_offer = models.ForeignKey(
        "WaitlistOffer", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    # The outcome follow-up an e-mail asks the patient to answer (kind follow_up only).
    follow_up = models.ForeignKey(
        "FollowUp", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="sign_in_alerts"
    )
    # A patient's text whose words raise a red flag: the staff alert when no request has the number (kind
    # text_red_flag: staff read it in the list of texts from patients; the alert names its id only), and the advice
    # texted back to the number (kinds text_emergency_advice, text_urgent_advice, with the request when one has it).
    inbound_text = models.ForeignKey(
        "InboundText", null=True, blank=True, on_delete=models.CASCADE, related_name="red_flag_alerts", editable=False
    )
    # How many wrong codes in a row the account had when the alert was written (staff_sign_in_alert only).
    wrong_codes = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    recipient = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="When the queued message is due; the beat job re-queues it if it is overdue."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    # The SEQUENCE of the calendar file this e-mail carries, fixed when the row is written (an appointment's
    # later changes must not renumber a file still waiting to go out). Empty for e-mails without one.
    calendar_sequence = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # A text message's id at the provider (Twilio's MessageSid), recorded when the provider accepted it, or when a
    # retry found it had (`callbacks.notifications.delivery`); receipts and replies are matched by it.
    provider_message_id = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    # When a worker began handing this text to the provider: set (and committed) before the provider is called,
    # cleared when the outcome is recorded. Still set on a pending row, the outcome of that attempt is unknown
    # (the worker died, or the provider took the text and then timed out), so the next attempt asks the provider
    # before sending again.
    send_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A text's words as rendered for its first attempt, stored in the transaction that stamps send_started_at and
    # reused by every later attempt, for the send and for asking the provider whether an earlier attempt went
    # (`callbacks.notifications.delivery`): a body rendered again would carry new signed links, match nothing, and
    # go twice. It holds what the patient's phone shows, and texts never carry a health detail (the clinic's name,
    # the reference, times, the clinic's number and signed links only; the advice answering a red-flag text says
    # what to do now, not why). Empty for e-mails and texts not yet tried.
    text_body = models.TextField(blank=True, editable=False)
    # A text's latest delivery receipt from the provider (`callbacks.notifications.receipts`; every receipt is a
    # TextReceipt row): empty until the first one comes, and for e-mails.
    delivery_status = models.CharField(
        max_length=12,
        blank=True,
        choices=TextReceipt.Status.choices,
        editable=False,
    )
    delivery_status_at = models.DateTimeField("delivery status since", null=True, blank=True, editable=False)
    # The text whose failure an alert to staff announces (kind text_failed only).
    failed_text = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="failure_alerts", editable=False
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notif_due")]
        constraints = [
            # One of each kind per channel and request: an escalation or a confirmation goes out once.
            # A move can happen more than once; each one is announced (the kinds below are left out).
            models.UniqueConstraint(
                fields=["request", "kind", "channel"],
                condition=~Q(kind__in=REPEATABLE_KINDS),
                name="notif_once_per_kind",
            ),
            models.UniqueConstraint(fields=["waitlist_offer", "kind", "channel"], name="notif_offer_once"),
            # One staff alert, and one advice text, per text from a patient.
            models.UniqueConstraint(fields=["inbound_text", "kind", "channel"], name="notif_inbound_text_once"),
            # One e-mail per follow-up, however often the beat job runs.
            models.UniqueConstraint(fields=["follow_up", "kind", "channel"], name="notif_follow_up_once"),
            models.CheckConstraint(
                condition=Q(kind="follow_up", follow_up__isnull=False) | (~Q(kind="follow_up") & Q(follow_up=None)),
                name="notif_follow_up_kind",
            ),
            models.CheckConstraint(
                condition=Q(request__isnull=False, waitlist_offer__isnull=True, staff_user__isnull=True)
                | Q(request__isnull=True, waitlist_offer__isnull=False, staff_user__isnull=True)
                | Q(request__isnull=True, waitlist_offer__isnull=True, staff_user__isnull=False)
                | Q(
                    request__isnull=True,
                    waitlist_offer__isnull=True,
                    staff_user__isnull=True,
                    inbound_text__isnull=False,
                ),
                name="notif_one_subject",
            ),
            models.CheckConstraint(
                condition=Q(kind="staff_sign_in_alert", staff_user__isnull=False)
                | (~Q(kind="staff_sign_in_alert") & Q(staff_user=None)),
                name="notif_staff_alert_kind",
            ),
            models.CheckConstraint(condition=~Q(status="sent") | Q(sent_at__isnull=False), name="notif_sent_has_time"),
        ]

    def __str__(self):
        if self.request_id:
            subject = self.request_id
        elif self.waitlist_offer_id:
            subject = f"offer {self.waitlist_offer_id}"
        elif self.inbound_text_id:
            subject = f"text {self.inbound_text_id}"
        else:
            subject = f"staff account {self.staff_user_id}"
        return f"{self.get_kind_display()} for {subject} by {self.channel}"


class TextOptOut(models.Model):
    """A phone number that asked for no more texts (a STOP reply, or staff on the patient's word). While a number
    is here, only essential texts go to it (`callbacks.notifications.routing`)."""

    class Source(models.TextChoices):
        REPLY = "reply", "STOP reply to a text"
        STAFF = "staff", "Recorded by staff"
        PROVIDER = "provider", "Reported by the text provider"

    phone = models.CharField(max_length=20, unique=True, help_text="E.164, e.g. +447400123456")
    source = models.CharField(max_length=10, choices=Source.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "text opt-out"
        constraints = [
            models.CheckConstraint(condition=Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"), name="text_opt_out_e164"),
        ]

    def __str__(self):
        return f"{self.phone} ({self.get_source_display()})"
