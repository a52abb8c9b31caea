import datetime as dt
import unicodedata

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from callbacks.requests.closures import clinic_closed_on
from callbacks.requests.consent import CURRENT_CONSENT_VERSION, consent_text
from callbacks.requests.email_address import email_address_check
from callbacks.requests.phone import phone_example, phone_to_e164
from callbacks.requests.windows import callback_block_starts, callback_windows
from clinic.hours import WEEKDAYS
from clinic.text import HIDDEN_CHARACTERS_MESSAGE, text_has_hidden_characters

# A window must leave staff time to ring: one ending sooner than this is treated as already gone.
MIN_NOTICE = dt.timedelta(minutes=30)
# What a browser sends for a ticked checkbox. Django's checkbox would take any other text ("no", "0") as ticked.
CHECKBOX_TICKED = frozenset({"on", "true", "1", "yes"})


class CallbackRequestForm(forms.Form):
    name = forms.CharField(
        label="Your name",
        max_length=120,
        error_messages={"required": "Tell us your name so we know who to ask for."},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label="Phone number",
        max_length=30,
        error_messages={"required": "Enter a phone number so we can call you back."},
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel", "type": "tel"}),
    )
    email = forms.EmailField(
        label="E-mail (optional)",
        required=False,
        max_length=254,
        help_text="Only to send you your reference number.",
        error_messages={"invalid": "Enter an e-mail address like name@example.com, or leave it empty."},
        validators=[email_address_check],
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    preferred_date = forms.DateField(
        label="Day you would like us to call",
        error_messages={"required": "Choose a day for the call.", "invalid": "Enter a date, for example 2026-12-01."},
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    preferred_time = forms.TypedChoiceField(
        label="Time of day",
        coerce=dt.time.fromisoformat,
        error_messages={"required": "Choose a time for the call.", "invalid_choice": "Choose one of the times listed."},
    )
    # Optional: the questionnaire that follows the request asks about the back pain in detail.
    reason = forms.CharField(
        label="What would you like to talk about? (optional)",
        required=False,
        max_length=2000,
        help_text="A sentence or two is enough. Up to 2,000 characters.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent = forms.BooleanField(
        label=consent_text(CURRENT_CONSENT_VERSION),
        error_messages={"required": "We can only take your request if you agree to this."},
    )

    # A honeypot: hidden from sight (and skipped by the keyboard), so only a form-filling robot fills it in.
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, submit_label: str = "Request a callback", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["phone"].help_text = f"For example {phone_example()}."
        self.fields["consent"].help_text = format_html(
            'What we keep, why and for how long: our <a href="{}" target="_blank">privacy notice</a> '
            "(opens in a new tab).",
            reverse("callbacks:privacy"),
        )
        self.fields["preferred_time"].choices = [("", "Choose a time")] + [
            (start.strftime("%H:%M"), self._window_label(start)) for start in callback_block_starts()
        ]
        # The browser's date picker offers no past day, nor one beyond the booking horizon (checked again below).
        today = timezone.localdate()
        self.fields["preferred_date"].widget.attrs.update(
            min=today.isoformat(), max=(today + dt.timedelta(days=settings.CLINIC_CALLBACK_DAYS_AHEAD)).isoformat()
        )
        self.fields["preferred_date"].help_text = f"We call during opening hours ({self._hours_text()})."
        self.helper = FormHelper()
        # The server's messages, next to each field and listed in the error summary, rather than the browser's.
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Fieldset("About you", "name", "phone", "email"),
            Fieldset("When to call", "preferred_date", "preferred_time"),
            Fieldset("Your request", "reason", "consent"),
            Div("website", css_class="form-honeypot"),
        )
        self.helper.add_input(Submit("submit", submit_label, css_class="btn-lg"))

    @staticmethod
    def _window_label(start: dt.time) -> str:
        end = (
            dt.datetime.combine(dt.date.min, start) + dt.timedelta(minutes=settings.CLINIC_CALLBACK_WINDOW_MINUTES)
        ).time()
        return f"{start:%H:%M} to {end:%H:%M}"

    @staticmethod
    def _hours_text() -> str:
        parts = []
        for day, (opens, closes) in sorted(settings.CLINIC_OPENING_HOURS.items()):
            parts.append(f"{WEEKDAYS[day].capitalize()} {opens:%H:%M}-{closes:%H:%M}")
        return ", ".join(parts)

    def clean_name(self):
        if text_has_hidden_characters(self.cleaned_data["name"]):
            raise forms.ValidationError(HIDDEN_CHARACTERS_MESSAGE)
        name = " ".join(self.cleaned_data["name"].split())
        # Staff must be able to read it: invisible characters alone (zero-width, direction marks) are no name.
        if not any(unicodedata.category(char).startswith("L") for char in name):
            raise forms.ValidationError("Tell us your name so we know who to ask for.")
        return name

    def clean_phone(self):
        return phone_to_e164(self.cleaned_data["phone"])

    def clean_consent(self):
        if str(self.data.get(self.add_prefix("consent"), "")).strip().lower() not in CHECKBOX_TICKED:
            raise forms.ValidationError(self.fields["consent"].error_messages["required"], code="required")
        return True

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if text_has_hidden_characters(reason):
            raise forms.ValidationError(HIDDEN_CHARACTERS_MESSAGE)
        # Invisible characters alone are no reason: kept as empty, like a box left blank.
        if not any(not unicodedata.category(char).startswith(("C", "Z")) for char in reason):
            return ""
        return reason

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("website"):
            raise forms.ValidationError(
                f"We could not send this form. Please call us on {settings.CLINIC_PHONE} and we will help you."
            )
        day, start = cleaned.get("preferred_date"), cleaned.get("preferred_time")
        if day is None or start is None:
            return cleaned
        today = timezone.localdate()
        if day < today:
            self.add_error("preferred_date", "That day has passed. Choose today or a later day.")
            return cleaned
        if day > today + dt.timedelta(days=settings.CLINIC_CALLBACK_DAYS_AHEAD):
            self.add_error(
                "preferred_date",
                f"We book calls up to {settings.CLINIC_CALLBACK_DAYS_AHEAD} days ahead. Choose an earlier day.",
            )
            return cleaned
        windows = callback_windows(day)
        if windows and clinic_closed_on(day):
            self.add_error("preferred_date", "The clinic is closed that day. Choose another day.")
            return cleaned
        if not windows:
            self.add_error("preferred_date", f"The clinic is closed that day. Open: {self._hours_text()}.")
            return cleaned
        if start not in windows:
            self.add_error("preferred_time", "The clinic is closed at that time that day. Choose another time.")
            return cleaned
        window_start, window_end = windows[start]
        if window_end - MIN_NOTICE < timezone.now():
            self.add_error("preferred_time", "That time has passed or is about to. Choose a later time.")
            return cleaned
        cleaned["window_start"], cleaned["window_end"] = window_start, window_end
        return cleaned


class EmergencyContactForm(CallbackRequestForm):
    """The details form after the emergency advice: no day or time is asked, we call as soon as we can."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, submit_label="Send my request to the clinic", **kwargs)
        del self.fields["preferred_date"], self.fields["preferred_time"]
        self.fields["email"].help_text = "Only to send you your reference number and this advice."
        self.helper.layout = Layout(
            Fieldset("About you", "name", "phone", "email"),
            Fieldset("Your request", "reason", "consent"),
            Div("website", css_class="form-honeypot"),
        )
