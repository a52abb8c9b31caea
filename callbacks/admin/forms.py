"""Forms of the staff admin: the two-factor sign-in and the workflow controls on a request's page.

The forms only clean what staff typed; `callbacks.workflow` decides whether the change is allowed.
"""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm

from callbacks.models import CallAttempt, CallbackRequest, Priority, StaffNote
from callbacks.notifications.outbox import notifications_for_staff_wrong_codes
from callbacks.rules.requests import ALLOWED_TRANSITIONS, status_outcome_check
from callbacks.rules.staff import staff_display_name, wrong_codes_alert_due
from clinic.hours import clinic_zone

LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


SIGN_IN_FAILED = (
    "Sign-in failed. Check your user name, your password and the newest code from your authenticator app (and "
    "that the phone clock is right). An account without an authenticator app needs an administrator to enrol "
    "one with manage.py staff_totp_enrol."
)


class StaffTwoFactorLoginForm(OTPAdminAuthenticationForm):
    """User name, password and the current code of the staff member's authenticator app, on one screen.

    Every failure reads the same, so the page never tells a stranger that a password was right. A wrong or
    missing code counts as a failed sign-in for django-axes (per user name and address, an IPv6 client by its
    /64, like a wrong password), and wrong codes count per account too, from every address: django-otp's
    throttle (OTP_TOTP_THROTTLE_FACTOR) doubles the wait before the account's next code is checked after each
    wrong one, and the owner and the administrators are told at every ADMIN_2FA_ALERT_AFTER wrong codes in a
    row. Only someone with the password can send a code that is checked, so a stranger cannot slow anyone down.
    """

    otp_token = forms.CharField(
        label="Code from your authenticator app",
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self):
        try:
            return super().clean()
        except ValidationError as error:
            if self.user_cache is not None:  # the password was right, the second factor was not
                user_login_failed.send(
                    sender=type(self),
                    credentials={"username": self.cleaned_data.get("username")},
                    request=self.request,
                )
                self.user_cache = None
            # The code field comes back empty whatever went wrong: a code is spent or wrong either way.
            self.data = self.data.copy()
            self.data["otp_token"] = ""
            raise ValidationError(SIGN_IN_FAILED, code="sign_in_failed") from error

    def _verify_token(self, user, token, device=None):
        """django-otp's check of the code; tells the owner and the administrators when the account's count of
        wrong codes passes a multiple of ADMIN_2FA_ALERT_AFTER.

        Runs inside django-otp's transaction (clean_otp) on a device row it loaded for update
        (``for_verify=True``), so guesses sent at the same moment are checked one at a time, each seeing the
        others' wrong codes, and the count read here is the one this guess changed.
        """
        before = device.throttling_failure_count if device is not None else 0
        try:
            return super()._verify_token(user, token, device)
        except ValidationError:
            if device is not None and wrong_codes_alert_due(
                before=before, after=device.throttling_failure_count, every=settings.ADMIN_2FA_ALERT_AFTER
            ):
                notifications_for_staff_wrong_codes(user=user, wrong_codes=device.throttling_failure_count)
            raise

    def _update_form(self, user):
        """django-otp lists the user's devices and keeps the password in the form after a right password: a tell."""

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None:
            # Staff normally have exactly one authenticator: use it rather than ask which.
            devices = list(devices_for_user(user, confirmed=True, for_verify=True))
            if len(devices) == 1:
                device = devices[0]
        return device


class ErrorsDescribedMixin:
    """Ties each field's error message to the field (aria-describedby), for screen readers."""

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["aria-invalid"] = "true"
                widget.attrs["aria-describedby"] = f"{self[name].auto_id}_error"


def local_datetime_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DateTimeField:
    zone = clinic_zone().key
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text or f"Clinic time ({zone}).",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT_FORMAT),
    )


class AssignForm(ErrorsDescribedMixin, forms.Form):
    user = forms.ModelChoiceField(
        label="Assign to",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Nobody (release)",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model().objects.filter(is_active=True, is_staff=True).order_by("first_name", "username")
        )
        self.fields["user"].label_from_instance = staff_display_name


class StatusForm(ErrorsDescribedMixin, forms.Form):
    status = forms.ChoiceField(label="Status", choices=CallbackRequest.Status.choices)
    outcome = forms.ChoiceField(
        label="Outcome (when closing)",
        choices=[("", "---------"), *CallbackRequest.Outcome.choices],
        required=False,
    )
    reason = forms.CharField(
        label="How was the patient contacted? (for “Contacted” without a logged call)",
        required=False,
        max_length=300,
        help_text="For example: they rang us, or came to the desk. Kept as a note.",
    )

    def __init__(self, *args, current_status: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if current_status:
            # The list opens on the status the request has now, so nobody mistakes it for the current one.
            allowed = ALLOWED_TRANSITIONS[current_status]
            self.fields["status"].choices = [
                (v, f"{label} (current)" if v == current_status else label)
                for v, label in CallbackRequest.Status.choices
                if v in allowed or v == current_status
            ]
            self.fields["status"].initial = current_status

    def clean(self):
        cleaned = super().clean()
        status, outcome = cleaned.get("status"), cleaned.get("outcome")
        if status:
            try:
                status_outcome_check(status=status, outcome=outcome or "")
            except ValidationError as exc:
                self.add_error("outcome", exc)
        return cleaned


class CallAttemptForm(ErrorsDescribedMixin, forms.Form):
    outcome = forms.ChoiceField(
        label="How did the call go?", choices=CallAttempt.Outcome.choices, widget=forms.RadioSelect
    )
    made_at = local_datetime_field("When", required=False, help_text="Leave empty for now. Clinic time.")
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=CallAttempt._meta.get_field("note").max_length,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ScheduleForm(ErrorsDescribedMixin, forms.Form):
    at = local_datetime_field("Next call at")


class PriorityForm(ErrorsDescribedMixin, forms.Form):
    priority = forms.TypedChoiceField(label="Priority", choices=Priority.choices, coerce=int)


class NoteForm(ErrorsDescribedMixin, forms.Form):
    text = forms.CharField(
        label="Internal note",
        max_length=StaffNote._meta.get_field("text").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Staff only. Notes cannot be edited or deleted later.",
    )
