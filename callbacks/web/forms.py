import datetime as dt
import json
import unicodedata

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from callbacks.requests.closures import clinic_closed_days, clinic_closed_on
from callbacks.requests.consent import (
    CURRENT_CONSENT_VERSION,
    CURRENT_TEXT_CONSENT_VERSION,
    consent_hint,
    consent_label,
    text_consent_hint,
    text_consent_label,
)
from callbacks.requests.email_address import email_address_check
from callbacks.requests.phone import phone_example, phone_relay_split, phone_to_e164
from callbacks.requests.windows import (
    callback_block_starts,
    callback_hours_text,
    callback_window_labels,
    callback_window_still_open,
    callback_windows,
    callback_windows_offered,
)
from clinic.text import HIDDEN_CHARACTERS_MESSAGE, text_has_hidden_characters, text_without_invisible_characters

# What a browser sends for a ticked checkbox. Django's checkbox would take any other text ("no", "0") as ticked.
CHECKBOX_TICKED = frozenset({"on", "true", "1", "yes"})
# The button that asks the server for the times of the day typed in (for a browser without JavaScript).
SHOW_TIMES = "show_times"
NO_TIMES_THAT_DAY = "No times left that day: choose another day"


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
    # Texts are the default for the number everybody gives (a landline simply gets none); unticking it is kept.
    texts = forms.BooleanField(
        label=text_consent_label(CURRENT_TEXT_CONSENT_VERSION),
        help_text=text_consent_hint(CURRENT_TEXT_CONSENT_VERSION),
        required=False,
        initial=True,
    )
    # A CharField, not an EmailField: `email_address_check` already includes Django's e-mail check, and the two
    # together would show the same message twice.
    email = forms.CharField(
        label="E-mail (optional)",
        required=False,
        max_length=254,
        help_text="Only to send you your reference number.",
        error_messages={"max_length": "An e-mail address has at most 254 characters. Check it, or leave it empty."},
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
        label=consent_label(CURRENT_CONSENT_VERSION),
        error_messages={"required": "We can only take your request if you agree to this."},
    )

    # A honeypot: hidden from sight (and skipped by the keyboard), so only a form-filling robot fills it in.
    website = forms.CharField(
        label="Leave this field empty",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    # False in the forms built on this one that ask no day or time (the emergency details, the waitlist).
    asks_when = True

    def __init__(self, *args, submit_label: str = "Request a callback", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "phone"
        ].help_text = (
            f"For example {phone_example()}. To be called through Relay UK, put 18001 or 18002 before the number."
        )
        self.fields["consent"].help_text = format_html(
            '{} What we keep, why and for how long: our <a href="{}" target="_blank">privacy notice</a> '
            "(opens in a new tab).",
            consent_hint(CURRENT_CONSENT_VERSION),
            reverse("callbacks:privacy"),
        )
        self.helper = FormHelper()
        # The server's messages, next to each field and listed in the error summary, rather than the browser's.
        self.helper.attrs = {"novalidate": ""}
        if self.asks_when:
            self._when_setup()
        else:
            del self.fields["preferred_date"], self.fields["preferred_time"]
        when = [
            Fieldset(
                "When to call",
                "preferred_date",
                # Without JavaScript the times of a newly chosen day come from the server (with it,
                # call_times.js lists them at once and hides the button).
                StrictButton(
                    "Show the times for this day",
                    type="submit",
                    name=SHOW_TIMES,
                    value="1",
                    css_class="btn-outline-secondary btn-sm mb-3",
                    data_show_times="",
                ),
                "preferred_time",
            )
        ]
        # Enter (a phone's Go key) presses a form's first submit button, and without JavaScript "Show the times
        # for this day" must stay beside the day. So a copy of the send button comes first: the same name and
        # value, out of sight, out of the tab order and hidden from screen readers, who meet one send button.
        default_submit = format_html(
            '<button type="submit" name="submit" value="{}" class="visually-hidden" tabindex="-1" '
            'aria-hidden="true" data-default-submit>{}</button>',
            submit_label,
            submit_label,
        )
        self.helper.layout = Layout(
            *([HTML(default_submit)] if self.asks_when else []),
            Fieldset("About you", "name", "phone", "texts", "email"),
            *(when if self.asks_when else []),
            Fieldset("Your request", "reason", "consent"),
            Div("website", css_class="form-honeypot"),
        )
        self.helper.add_input(Submit("submit", submit_label, css_class="btn-lg"))
        self.submit_label = submit_label

    def _when_setup(self) -> None:
        """Day first, then the times still open that day: the list shows only those (closed days, closed
        hours and times already gone are never offered); any block start is still accepted and judged in
        `clean`, so a stale page gets a message rather than a silent change."""
        today = timezone.localdate()
        last = today + dt.timedelta(days=settings.CLINIC_CALLBACK_DAYS_AHEAD)
        offered = callback_windows_offered(
            first=today, last=last, now=timezone.now(), closed=clinic_closed_days(today, last)
        )
        if offered:
            self.initial.setdefault("preferred_date", next(iter(offered)))
        date_field, time_field = self.fields["preferred_date"], self.fields["preferred_time"]
        time_field.choices = [("", "Choose a time")] + [
            (start.strftime("%H:%M"), self._window_label(start)) for start in callback_block_starts()
        ]
        day = self._day_chosen()
        # Each day's windows worked out once: a fortnight of days, each label asked for twice.
        labels = {day: callback_window_labels(day) for day in offered}
        time_field.widget.choices = [("", "Choose a time" if day in offered else NO_TIMES_THAT_DAY)] + [
            (start.strftime("%H:%M"), labels[day][start]) for start in offered.get(day, [])
        ]
        time_field.widget.attrs.update(
            {
                "data-call-times": json.dumps(
                    {
                        day.isoformat(): [[f"{start:%H:%M}", labels[day][start]] for start in starts]
                        for day, starts in offered.items()
                    },
                    separators=(",", ":"),
                ),
                "data-no-times": NO_TIMES_THAT_DAY,
            }
        )
        # The browser's date picker offers no past day, nor one beyond the booking horizon (checked again below).
        date_field.widget.attrs.update(min=today.isoformat(), max=last.isoformat())
        date_field.help_text = f"We call during opening hours ({callback_hours_text()})."

    def _day_chosen(self) -> dt.date | None:
        """The day whose times the list shows: the one sent, else the first day with a time left."""
        if not self.is_bound:
            return self.initial.get("preferred_date")
        try:
            return dt.date.fromisoformat(str(self.data.get(self.add_prefix("preferred_date"), "")).strip())
        except ValueError:
            return None

    def day_errors_only(self) -> None:
        """After "Show the times for this day": judge the day alone; the rest of the form is not finished yet."""
        self.full_clean()
        for name in list(self._errors):
            if name != "preferred_date":
                del self._errors[name]
        if not self._errors:
            # The day is fine: the patient's next move is the time.
            self.fields["preferred_time"].widget.attrs["autofocus"] = ""

    def full_clean(self):
        super().full_clean()
        # The phone's message gives the example itself: the hint under the field would say it a second time.
        if "phone" in self._errors:
            # The bound field has copied the hint already (cleaning made it): both forget it.
            self.fields["phone"].help_text = self["phone"].help_text = ""

    @staticmethod
    def _window_label(start: dt.time) -> str:
        end = (
            dt.datetime.combine(dt.date.min, start) + dt.timedelta(minutes=settings.CLINIC_CALLBACK_WINDOW_MINUTES)
        ).time()
        return f"{start:%H:%M} to {end:%H:%M}"

    def clean_name(self):
        if text_has_hidden_characters(self.cleaned_data["name"]):
            raise forms.ValidationError(HIDDEN_CHARACTERS_MESSAGE)
        name = " ".join(text_without_invisible_characters(self.cleaned_data["name"]).split())
        # Staff must be able to read it: invisible characters alone (zero-width, direction marks) are no name.
        if not any(unicodedata.category(char).startswith("L") for char in name):
            raise forms.ValidationError("Tell us your name so we know who to ask for.")
        return name

    def clean_phone(self):
        # A text-relay prefix is kept as given (`phone_relay_prefix`), the number itself stored in E.164.
        self.relay_prefix, number = phone_relay_split(self.cleaned_data["phone"])
        return phone_to_e164(number)

    def clean_texts(self):
        return str(self.data.get(self.add_prefix("texts"), "")).strip().lower() in CHECKBOX_TICKED

    def contact_choices(self) -> dict:
        """What the patient chose about being contacted, as the services take it: the version of the texts wording
        they agreed to ("" for none) and a text-relay prefix typed before their number."""
        return {
            "text_consent_version": CURRENT_TEXT_CONSENT_VERSION if self.cleaned_data.get("texts") else "",
            "phone_relay_prefix": getattr(self, "relay_prefix", ""),
        }

    def clean_consent(self):
        if str(self.data.get(self.add_prefix("consent"), "")).strip().lower() not in CHECKBOX_TICKED:
            raise forms.ValidationError(self.fields["consent"].error_messages["required"], code="required")
        return True

    def clean_reason(self):
        reason = self.cleaned_data["reason"]
        if text_has_hidden_characters(reason):
            raise forms.ValidationError(HIDDEN_CHARACTERS_MESSAGE)
        reason = text_without_invisible_characters(reason).strip()
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
        windows = callback_windows(day)
        if start not in windows:
            self.add_error("preferred_time", "The clinic is closed at that time that day. Choose another time.")
            return cleaned
        window_start, window_end = windows[start]
        if not callback_window_still_open(window_end, timezone.now()):
            self.add_error("preferred_time", "That time has passed or is about to. Choose a later time.")
            return cleaned
        cleaned["window_start"], cleaned["window_end"] = window_start, window_end
        return cleaned

    def clean_preferred_date(self):
        """The day on its own, so that a past or closed day is refused next to the field, time chosen or not."""
        day = self.cleaned_data["preferred_date"]
        today = timezone.localdate()
        if day < today:
            raise forms.ValidationError("That day has passed. Choose today or a later day.")
        if day > today + dt.timedelta(days=settings.CLINIC_CALLBACK_DAYS_AHEAD):
            raise forms.ValidationError(
                f"We book calls up to {settings.CLINIC_CALLBACK_DAYS_AHEAD} days ahead. Choose an earlier day."
            )
        # The hint under the field lists the opening hours, so the message does not repeat them.
        if not callback_windows(day) or clinic_closed_on(day):
            raise forms.ValidationError("The clinic is closed that day. Choose another day.")
        return day


class EmergencyContactForm(CallbackRequestForm):
    """The details form after the emergency advice: no day or time is asked, we call as soon as we can."""

    asks_when = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, submit_label="Send my request to the clinic", **kwargs)
        self.fields["email"].help_text = "Only to send you your reference number and this advice."
