"""Issue 25, item 4: a patient's text read into the same services the signed links call.

C/YES confirms and X/CANCEL cancels the number's next appointment, STOP stops its texts, anything else is kept
for staff (the request's timeline, the queue's "New text") and read for red flags like any text the patient
writes; a text from a number no request has waits in a list of its own.
"""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from callbacks.booking.links import appointment_cancel_token
from callbacks.models import Appointment, CallbackRequest, InboundText, Notification, Priority, RequestEvent
from callbacks.notifications.delivery import notification_send
from callbacks.notifications.optouts import text_opted_out
from callbacks.notifications.replies import inbound_text_receive
from callbacks.notifications.texts import notification_text
from callbacks.requests.closures import request_response_deadline
from callbacks.requests.consent import CURRENT_CONSENT_VERSION, CURRENT_TEXT_CONSENT_VERSION
from callbacks.requests.selectors import callback_request_queue, callback_request_timeline
from callbacks.requests.services import callback_request_create
from intake.definitions import BACK_PAIN, definition_current
from intake.services import QuestionnaireAnswers
from tests.callbacks.booking.test_booking import a_free_slot, book
from tests.callbacks.web.test_intake_flow import routine_answers
from tests.factories import CallbackRequestFactory

pytestmark = pytest.mark.django_db

PHONE = "+447400123456"
Outcome = InboundText.Outcome
_sids = iter(range(10**6))


def text(body, phone=PHONE, sid=None):
    return inbound_text_receive(provider_sid=sid or f"SM{next(_sids):032x}", from_phone=phone, body=body)


def routine_request(phone=PHONE, **fields):
    return callback_request_create(
        name="Alex Example",
        phone=phone,
        reason="Lower back spasms since Monday.",
        consent_version=CURRENT_CONSENT_VERSION,
        questionnaire=QuestionnaireAnswers(definition=definition_current(BACK_PAIN), answers=routine_answers()),
        **fields,
    )


# Confirm and cancel --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["C", "yes", "Yes."])
def test_c_or_yes_confirms_the_numbers_next_appointment(service, practitioner, body):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    received = text(body)
    appointment.refresh_from_db()
    assert appointment.patient_confirmed_at is not None
    assert appointment.status == Appointment.Status.REQUESTED  # staff still decide on a requested time
    assert (received.outcome, received.request, received.seen_at is not None) == (
        Outcome.CONFIRMED,
        appointment.request,
        True,
    )
    [event] = RequestEvent.objects.filter(request=appointment.request, field="appointment")
    assert event.after == "The patient confirmed they will come (by text)."


def test_a_second_confirmation_changes_nothing_and_waits_for_staff(service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    text("C")
    again = text("C")
    assert again.outcome == Outcome.NO_APPOINTMENT and again.seen_at is None
    assert RequestEvent.objects.filter(request=appointment.request, field="appointment").count() == 1


@pytest.mark.parametrize("body", ["X", "cancel"])
def test_x_or_cancel_cancels_through_the_patients_cancel_service(service, practitioner, body):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    received = text(body)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert received.outcome == Outcome.CANCELLED
    # As the signed link does: the front desk and the patient are told, once each.
    kinds = set(Notification.objects.filter(request=appointment.request).values_list("kind", flat=True))
    assert {Notification.Kind.BOOKING_CANCELLED, Notification.Kind.BOOKING_CANCELLED_BY_PATIENT} <= kinds


def test_a_cancel_reply_after_the_link_cancelled_changes_nothing(service, practitioner, client):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    response = client.post(f"/book/cancel/{appointment_cancel_token(appointment)}/")
    assert response.status_code == 200
    received = text("X")
    assert received.outcome == Outcome.NO_APPOINTMENT
    assert Notification.objects.filter(kind=Notification.Kind.BOOKING_CANCELLED).count() == 1


def test_c_or_x_without_an_appointment_is_kept_for_staff(service, practitioner):
    request = CallbackRequestFactory(phone=PHONE)
    received = text("C")
    assert (received.outcome, received.request, received.seen_at) == (Outcome.NO_APPOINTMENT, request, None)


def remind(appointment, channel=Notification.Channel.SMS):
    """The day-before reminder went out for ``appointment``'s time (by text: "Reply C to confirm, X to cancel")."""
    now = timezone.now()
    Appointment.objects.filter(pk=appointment.pk).update(reminder_sent_at=now)
    Notification.objects.create(
        request=appointment.request,
        kind=Notification.Kind.BOOKING_REMINDER,
        channel=channel,
        recipient=PHONE if channel == Notification.Channel.SMS else "alex@example.com",
        status=Notification.Status.SENT,
        sent_at=now,
    )


def two_appointments(service, practitioner, *, reminded=()):
    """Two appointments to come on one number (two family members, say); ``reminded``: the indexes reminded."""
    first = book(service, practitioner, a_free_slot(service).starts_at)
    second = book(service, practitioner, a_free_slot(service).starts_at, name="Sam Example")
    assert first.starts_at < second.starts_at
    for index in reminded:
        remind((first, second)[index])
    return first, second


def assert_unclear(received, *appointments):
    for appointment in appointments:
        appointment.refresh_from_db()
        assert appointment.status != Appointment.Status.CANCELLED
        assert appointment.patient_confirmed_at is None
    assert (received.outcome, received.seen_at) == (Outcome.UNCLEAR, None)
    assert received.get_outcome_display() == "Unclear which appointment: for staff"
    assert not Notification.objects.filter(kind=Notification.Kind.BOOKING_CANCELLED).exists()


@pytest.mark.parametrize(("body", "reminded"), [("X", ()), ("C", ()), ("X", (0, 1)), ("C", (0, 1))])
def test_a_reply_that_could_mean_either_of_two_appointments_changes_neither_and_waits_for_staff(
    service, practitioner, body, reminded
):
    first, second = two_appointments(service, practitioner, reminded=reminded)
    assert_unclear(text(body), first, second)


def test_a_patient_whose_reply_was_unclear_is_texted_that_nothing_changed_and_we_will_call(
    service, practitioner, settings
):
    first, second = two_appointments(service, practitioner, reminded=(0, 1))
    CallbackRequest.objects.filter(pk__in=[first.request_id, second.request_id]).update(
        text_consent_version=CURRENT_TEXT_CONSENT_VERSION, text_consent_given_at=timezone.now()
    )
    received = text("X")
    [reply] = Notification.objects.filter(kind=Notification.Kind.TEXT_REPLY_UNCLEAR)
    assert (reply.channel, reply.recipient, reply.inbound_text_id) == (Notification.Channel.SMS, PHONE, received.pk)
    assert reply.request_id == received.request_id
    body = notification_text(reply)
    assert "could not tell which appointment" in body and "nothing has changed" in body
    assert settings.CLINIC_PHONE in body and reply.request.reference in body
    # The same text delivered again by the provider answers nothing more.
    inbound_text_receive(provider_sid=received.provider_sid, from_phone=PHONE, body="X")
    assert Notification.objects.filter(kind=Notification.Kind.TEXT_REPLY_UNCLEAR).count() == 1
    # A second unclear reply is answered too.
    text("C")
    assert Notification.objects.filter(kind=Notification.Kind.TEXT_REPLY_UNCLEAR).count() == 2


def test_no_answer_text_goes_to_a_number_that_did_not_choose_texts(service, practitioner):
    two_appointments(service, practitioner)
    assert text("X").outcome == Outcome.UNCLEAR
    assert not Notification.objects.filter(kind=Notification.Kind.TEXT_REPLY_UNCLEAR).exists()


@pytest.mark.parametrize("reminded", [0, 1])
def test_with_two_appointments_a_reply_acts_on_the_one_its_reminder_text_asked_about(service, practitioner, reminded):
    appointments = two_appointments(service, practitioner, reminded=(reminded,))
    received = text("X")
    for index, appointment in enumerate(appointments):
        appointment.refresh_from_db()
        assert (appointment.status == Appointment.Status.CANCELLED) is (index == reminded), index
    assert (received.outcome, received.request) == (Outcome.CANCELLED, appointments[reminded].request)


def test_a_reminder_by_e_mail_alone_tells_nothing_about_a_text_reply(service, practitioner):
    first, second = two_appointments(service, practitioner)
    remind(second, channel=Notification.Channel.EMAIL)
    assert_unclear(text("X"), first, second)


@pytest.mark.parametrize("gone", ["begun", "cancelled", "moved"])
def test_a_late_reply_to_a_reminder_never_falls_on_the_numbers_next_appointment(service, practitioner, gone):
    """The reminded time has begun (an "X" at 10:02 for 10:00), was cancelled or was moved since: the reply is
    about that time, not about the number's other appointment to come."""
    reminded, other = two_appointments(service, practitioner, reminded=(0,))
    if gone == "begun":
        begun = timezone.now() - dt.timedelta(minutes=2)
        Appointment.objects.filter(pk=reminded.pk).update(starts_at=begun, ends_at=begun + dt.timedelta(minutes=45))
    elif gone == "cancelled":
        Appointment.objects.filter(pk=reminded.pk).update(status=Appointment.Status.CANCELLED)
    else:  # a move resets the reminder: it is sent again for the new time
        Appointment.objects.filter(pk=reminded.pk).update(reminder_sent_at=None)
    received = text("X")
    other.refresh_from_db()
    assert other.status != Appointment.Status.CANCELLED
    assert (received.outcome, received.seen_at) == (Outcome.UNCLEAR, None)


def test_an_only_appointment_reminded_by_text_is_confirmed(service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    remind(appointment)
    assert text("C").outcome == Outcome.CONFIRMED


def test_a_reply_never_touches_another_numbers_appointment(service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service).starts_at, phone="+447400999888")
    text("X")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.REQUESTED


def test_a_past_appointment_is_not_cancelled_by_a_late_reply(service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=timezone.now() - dt.timedelta(hours=2), ends_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert text("X").outcome == Outcome.NO_APPOINTMENT
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.REQUESTED


# Stop and start ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["STOP", "stop all", "Unsubscribe", "END", "quit"])
def test_stop_stops_the_numbers_texts_at_once(body):
    CallbackRequestFactory(phone=PHONE)
    received = text(body)
    assert received.outcome == Outcome.STOPPED
    assert text_opted_out(phone=PHONE)
    assert not text_opted_out(phone="+447400999888")


def test_start_lets_texts_go_again():
    text("STOP")
    assert text("START").outcome == Outcome.STARTED
    assert not text_opted_out(phone=PHONE)


def test_cancel_is_not_an_opt_out(service, practitioner):
    book(service, practitioner, a_free_slot(service).starts_at)
    text("CANCEL")
    assert not text_opted_out(phone=PHONE)


# Anything else: for staff, screened for red flags --------------------------------------------------------------


def test_any_other_text_is_on_the_requests_timeline_and_marks_it_in_the_queue():
    request = routine_request()
    received = text("Can you call after 3pm? I'm at work until then.")
    assert (received.outcome, received.request, received.seen_at) == (Outcome.FOR_STAFF, request, None)
    [entry] = [e for e in callback_request_timeline(request=request) if e.kind == "text"]
    assert entry.title == "Text from the patient: For staff to read"
    assert entry.detail == "Can you call after 3pm? I'm at work until then."
    row = callback_request_queue().get(pk=request.pk)
    assert row.has_new_text
    request.refresh_from_db()
    assert request.priority == Priority.ROUTINE


def test_a_text_goes_to_the_numbers_open_request_not_an_older_closed_one():
    old = CallbackRequestFactory(phone=PHONE, status=CallbackRequest.Status.CLOSED, outcome="advice")
    new = CallbackRequestFactory(phone=PHONE)
    assert text("hello").request == new
    assert old.inbound_texts.count() == 0


def test_a_red_flag_in_a_text_makes_the_request_an_emergency_and_tells_staff(django_capture_on_commit_callbacks):
    request = routine_request()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False):
        received = text("I've lost control of my bladder since this morning")
    request.refresh_from_db()
    assert received.raised_priority
    assert request.priority == Priority.EMERGENCY
    # An emergency's deadline, by the clinic's hours (after closing time it is the next opening).
    assert request.deadline <= request_response_deadline(priority=Priority.EMERGENCY, received_at=timezone.now())
    [alert] = Notification.objects.filter(request=request, kind=Notification.Kind.STAFF_PRIORITY_RAISED)
    assert alert.recipient == settings.CLINIC_URGENT_EMAIL
    notification_send(notification_id=alert.pk)
    [message] = mail.outbox
    assert request.reference in message.subject and "Emergency" in message.subject
    # No health detail in the e-mail: the words are on the request's page only.
    assert "bladder" not in message.body and "bladder" not in message.subject
    # Staff read why on the request's page: the reason quotes the text.
    reasons = request.questionnaire_response.triage_reasons
    assert any("in a text message" in reason["text"] and "bladder" in reason["text"] for reason in reasons)
    priority_events = RequestEvent.objects.filter(request=request, field="priority")
    assert [(e.before, e.after) for e in priority_events] == [("Routine", "Emergency")]


def test_a_red_flag_text_on_a_closed_request_opens_it_again():
    request = routine_request()
    CallbackRequest.objects.filter(pk=request.pk).update(status=CallbackRequest.Status.CLOSED, outcome="advice")
    text("my legs are numb and weak, both of them")
    request.refresh_from_db()
    assert request.status == CallbackRequest.Status.IN_PROGRESS
    assert request.priority in (Priority.EMERGENCY, Priority.URGENT)


def test_an_urgent_flag_in_a_text_raises_to_urgent():
    request = routine_request()
    text("I've had a fever and the shivers for two days")
    request.refresh_from_db()
    assert request.priority == Priority.URGENT


def test_a_plain_text_raises_nothing_and_keeps_earlier_reasons():
    request = routine_request()
    text("I've lost control of my bladder")
    text("thanks for calling")
    request.refresh_from_db()
    assert request.priority == Priority.EMERGENCY
    assert any("bladder" in r["text"] for r in request.questionnaire_response.triage_reasons)
    assert Notification.objects.filter(request=request, kind=Notification.Kind.STAFF_PRIORITY_RAISED).count() == 1


# Unknown numbers and retries -----------------------------------------------------------------------------------


def test_a_text_from_an_unknown_number_is_kept_for_staff():
    received = text("Hi, is this the back clinic?", phone="+447400555444")
    assert (received.request, received.outcome, received.seen_at) == (None, Outcome.FOR_STAFF, None)


def test_the_same_text_delivered_twice_acts_once(service, practitioner):
    appointment = book(service, practitioner, a_free_slot(service).starts_at)
    first = text("X", sid="SM" + "c" * 32)
    second = text("X", sid="SM" + "c" * 32)
    assert first.pk == second.pk and InboundText.objects.count() == 1
    assert (
        Notification.objects.filter(request=appointment.request, kind=Notification.Kind.BOOKING_CANCELLED).count() == 1
    )


def test_no_body_in_the_logs(caplog):
    routine_request()
    with caplog.at_level("DEBUG"):
        received = text("I've lost control of my bladder")
    assert "bladder" not in caplog.text
    assert re.search(rf"text {received.pk} received", caplog.text)


def test_stop_from_a_number_that_is_not_e164_is_kept_for_staff_not_an_error():
    received = text("STOP", phone="18001447400123456")
    assert received.outcome == Outcome.FOR_STAFF and received.seen_at is None


def test_a_screen_that_fails_keeps_the_text_for_staff(monkeypatch, caplog):
    request = routine_request()

    def broken(**_):
        raise RuntimeError("I've lost control of my bladder")

    monkeypatch.setattr("callbacks.notifications.replies.callback_request_text_screen", broken)
    received = text("I've lost control of my bladder")
    assert (received.request, received.outcome, received.seen_at) == (request, Outcome.FOR_STAFF, None)
    assert "screening failed (RuntimeError)" in caplog.text and "bladder" not in caplog.text


# Red flags without an answer set -------------------------------------------------------------------------------


def test_a_red_flag_text_on_a_booking_without_the_safety_questions_makes_it_an_emergency_and_tells_staff(
    django_capture_on_commit_callbacks,
):
    """A phone booking, a waitlist booking or a request not screened has no answers to read the text with: it is
    read against the current back-pain definition's words alone, and acts as on a screened request."""
    request = CallbackRequestFactory(phone=PHONE, kind=CallbackRequest.Kind.BOOKING, priority=Priority.ROUTINE)
    assert request.questionnaire_response_id is None
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False):
        received = text("I have lost control of my bladder")
    request.refresh_from_db()
    assert received.raised_priority
    assert request.priority == Priority.EMERGENCY
    [alert] = Notification.objects.filter(request=request, kind=Notification.Kind.STAFF_PRIORITY_RAISED)
    assert alert.recipient == settings.CLINIC_URGENT_EMAIL
    notification_send(notification_id=alert.pk)
    [message] = mail.outbox
    assert "Emergency" in message.subject and "bladder" not in message.body
    priority_events = RequestEvent.objects.filter(request=request, field="priority")
    assert [(e.before, e.after) for e in priority_events] == [("Routine", "Emergency")]


def test_a_plain_text_on_a_request_without_answers_raises_nothing():
    request = CallbackRequestFactory(phone=PHONE, priority=Priority.ROUTINE)
    assert not text("Can you call after 3pm?").raised_priority
    request.refresh_from_db()
    assert request.priority == Priority.ROUTINE
    assert not Notification.objects.filter(kind=Notification.Kind.STAFF_PRIORITY_RAISED).exists()


def test_a_red_flag_text_from_an_unknown_number_alerts_the_urgent_address_at_once(
    django_capture_on_commit_callbacks, settings
):
    from callbacks.notifications.lanes import URGENT, lane_filter, notification_lane

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False):
        received = text("I have lost control of my bladder", phone="+447400555444")
    assert (received.request, received.outcome, received.seen_at) == (None, Outcome.FOR_STAFF, None)
    [alert] = Notification.objects.filter(kind=Notification.Kind.TEXT_RED_FLAG)
    assert (alert.inbound_text, alert.recipient, alert.request) == (received, settings.CLINIC_URGENT_EMAIL, None)
    assert notification_lane(kind=alert.kind, priority=None, channel=alert.channel) == URGENT
    assert Notification.objects.filter(lane_filter(URGENT), pk=alert.pk).exists()
    notification_send(notification_id=alert.pk)
    [message] = mail.outbox
    assert f"text {received.pk}" in message.subject
    assert f"/admin/callbacks/inboundtext/{received.pk}/" in message.body
    # Ids only: neither the words nor the number.
    for secret in ("bladder", "control", "447400555444", "7400 555444"):
        assert secret not in message.body and secret not in message.subject
    # A plain text from an unknown number alerts nobody.
    text("Hi, is this the back clinic?", phone="+447400555333")
    assert Notification.objects.filter(kind=Notification.Kind.TEXT_RED_FLAG).count() == 1
