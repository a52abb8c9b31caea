"""Booking from a request's page ("Book an appointment"), and the warning "Book for a caller" gives when the
caller's phone number is a patient the clinic already knows.

The booking form is the desk's own (`CallerBookingForm`), prefilled with everything the request holds: its name,
phone, e-mail and reason (shown, not editable: the appointment joins that request), and its safety answers if it
has them. `callbacks.booking.from_request` books."""

from __future__ import annotations

from dataclasses import dataclass

from callbacks.admin.desk_forms import NO, QUESTION_PREFIX, YES, CallerBookingForm
from callbacks.booking.from_request import request_bookable
from callbacks.models import CallbackRequest, Patient
from callbacks.patients.selectors import patients_with_phone
from intake.selectors import questionnaire_response_answers


def request_for_booking(raw: str | None) -> CallbackRequest | None:
    """The request named by the booking page's ``request`` parameter, if any."""
    if not raw or not raw.isdigit():
        return None
    return CallbackRequest.objects.select_related("questionnaire_response").filter(pk=int(raw)).first()


def request_known_answers(request: CallbackRequest) -> dict[str, str | int]:
    """The request's stored answers as the form's safety-question fields hold them ("yes"/"no", numbers)."""
    if request.questionnaire_response is None:
        return {}
    answers = questionnaire_response_answers(response=request.questionnaire_response)
    return {
        QUESTION_PREFIX + question_id: (YES if value else NO) if isinstance(value, bool) else value
        for question_id, value in answers.items()
    }


class RequestBookingForm(CallerBookingForm):
    """The desk's booking form for one request. When the appointment joins the request itself (``attach``), the
    caller's details are the request's (disabled fields: what is posted is ignored), the consent is the one it
    already holds, and answers it already has are shown, not asked again. Otherwise (a closed request, or one
    that already holds an appointment) the details are only a starting point for a new request."""

    def __init__(self, *args, for_request: CallbackRequest, attach: bool, **kwargs):
        details = {
            "name": for_request.name,
            "phone": str(for_request.phone),
            "email": for_request.email,
            "reason": for_request.reason,
        }
        known = request_known_answers(for_request)
        initial = {**kwargs.pop("initial", {}), **details, **known}
        if known:
            initial["ask_questions"] = True
        super().__init__(*args, initial=initial, **kwargs)
        self.for_request, self.attach, self.answers_known = for_request, attach, bool(known)
        if attach:
            for name in ("name", "phone", "email", "reason"):
                self.fields[name].disabled = True
            self.fields["consent"].required = False
            self.fields["consent"].disabled = True
        if known:
            # The questions answered with the request, as answered (a request answers them all, unless its answers
            # were cut short): shown, not asked again. One it left unanswered is not offered here either.
            for question in [question for question in self.questions if QUESTION_PREFIX + question.id not in known]:
                del self.fields[QUESTION_PREFIX + question.id]
            self.questions = [question for question in self.questions if QUESTION_PREFIX + question.id in known]
            for name in ("ask_questions", *(QUESTION_PREFIX + question.id for question in self.questions)):
                self.fields[name].disabled = True

    def clean(self):
        cleaned = super().clean()
        if self.answers_known and self.attach:
            # Already stored with the request: shown for the desk to read, never stored a second time. A new
            # request for the same patient (not ``attach``) takes them with it, so it is triaged on them.
            cleaned["answers"] = {}
        return cleaned


@dataclass(frozen=True)
class CallerMatch:
    """A patient with the caller's phone number, and which of their open requests could take the booking."""

    patient: Patient
    bookable: list[CallbackRequest]
    other_open: list[CallbackRequest]


def caller_matches(phone: str) -> list[CallerMatch]:
    """The patients with this (E.164) phone number: "Book for a caller" warns before making another request."""
    matches = []
    for patient in patients_with_phone(phone=phone):
        bookable = [request for request in patient.open_requests if request_bookable(request)]
        others = [request for request in patient.open_requests if request not in bookable]
        matches.append(CallerMatch(patient=patient, bookable=bookable, other_open=others))
    return matches
