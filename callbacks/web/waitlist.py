"""The waitlist's public pages: joining it for a service, and taking a freed slot offered by e-mail.

The offer link follows the rules of the other e-mailed links (`callbacks.booking.links`): signed, expiring, a
GET only shows, the booking needs a POST, and an offer is taken once.
"""

from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from callbacks.booking.links import waitlist_offer_from_token
from callbacks.booking.waitlist import OfferGone, waitlist_entry_join, waitlist_offer_accept, waitlist_offer_open
from callbacks.models import Service, WaitlistEntry, WaitlistOffer, WorkingHours
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
from callbacks.web import details
from callbacks.web.forms import CallbackRequestForm
from clinic.ratelimit import limit_posts_per_address, too_many_requests

SESSION_JOINED_KEY = "callbacks_waitlist_joined"
OFFER_TEMPLATE = "callbacks/booking/waitlist_offer.html"


class WaitlistForm(CallbackRequestForm):
    """The callback form's contact details and consent, with the wishes instead of a callback window."""

    practitioner = forms.TypedChoiceField(
        label="Practitioner",
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": "Choose one of the practitioners listed, or any."},
    )
    weekdays = forms.MultipleChoiceField(
        label="Days that suit you",
        required=False,
        choices=WorkingHours.Weekday.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked if any day suits you.",
        error_messages={"invalid_choice": "Choose days from the list."},
    )

    asks_when = False

    def __init__(self, *args, service: Service, **kwargs):
        super().__init__(*args, submit_label="Join the waitlist", **kwargs)
        del self.fields["reason"]
        self.fields["email"].required = True
        self.fields["email"].label = "E-mail"
        self.fields["email"].help_text = "We send offers of a free time to this address."
        self.fields["email"].error_messages["required"] = "Enter an e-mail address: offers are sent by e-mail."
        practitioners = service.practitioners.filter(active=True).order_by("name")
        self.fields["practitioner"].choices = [("", "Any practitioner")] + [(p.pk, p.name) for p in practitioners]
        self.fields["weekdays"].choices = [(str(value), label) for value, label in WorkingHours.Weekday.choices]
        self.helper.layout = Layout(
            Fieldset("Your wishes", "practitioner", "weekdays"),
            Fieldset("About you", "name", "phone", "texts", "email"),
            Fieldset("Your consent", "consent"),
            Div("website", css_class="form-honeypot"),
        )


@require_http_methods(["GET", "POST"])
@limit_posts_per_address("intake-step", "CLINIC_RATE_LIMIT_FORM_POSTS")
def waitlist_join(request, service):
    service = get_object_or_404(Service, pk=service, active=True)
    form = WaitlistForm(request.POST or None, service=service)
    if request.method == "POST" and details.requests_from_address_limited(request):
        return too_many_requests(request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if details.requests_for_phone_limited(data["phone"]):
            return too_many_requests(request)
        entry = waitlist_entry_join(
            service=service,
            practitioner_id=data["practitioner"],
            weekdays="".join(data["weekdays"]),
            name=data["name"],
            phone=data["phone"],
            email=data["email"],
            consent_version=CURRENT_CONSENT_VERSION,
            **form.contact_choices(),
        )
        request.session[SESSION_JOINED_KEY] = entry.pk
        return redirect("callbacks:waitlist_joined")
    return render(request, "callbacks/booking/waitlist_join.html", {"form": form, "service": service})


@require_GET
def waitlist_joined(request):
    pk = request.session.get(SESSION_JOINED_KEY)
    entry = (
        WaitlistEntry.objects.select_related("service", "practitioner").filter(pk=pk).first()
        if isinstance(pk, int)
        else None
    )
    if entry is None:
        return redirect("callbacks:booking_services")
    days = [label for value, label in WorkingHours.Weekday.choices if str(value) in entry.weekdays]
    return render(request, "callbacks/booking/waitlist_joined.html", {"entry": entry, "days": days})


@require_http_methods(["GET", "POST"])
@limit_posts_per_address("intake-step", "CLINIC_RATE_LIMIT_FORM_POSTS")
def waitlist_offer(request, token):
    """An offer link from an e-mail. GET shows the offered time (or that it has gone); POST takes it."""
    offer = waitlist_offer_from_token(token)
    if offer is None:
        return render(request, OFFER_TEMPLATE, {"state": "invalid"}, status=404)
    context = {"offer": offer, "practitioner": offer.practitioner, "service": offer.entry.service}
    if offer.status == WaitlistOffer.Status.ACCEPTED and offer.appointment is not None:
        return render(request, OFFER_TEMPLATE, {**context, "state": "booked", "appointment": offer.appointment})
    if not waitlist_offer_open(offer):
        return render(request, OFFER_TEMPLATE, {**context, "state": "gone"}, status=410)
    if request.method == "GET":
        return render(request, OFFER_TEMPLATE, {**context, "state": "ask"})
    try:
        appointment = waitlist_offer_accept(offer=offer)
    except OfferGone:
        return render(request, OFFER_TEMPLATE, {**context, "state": "gone"}, status=410)
    return render(request, OFFER_TEMPLATE, {**context, "state": "booked", "appointment": appointment})
