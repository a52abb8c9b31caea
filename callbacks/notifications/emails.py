"""The e-mail a notification row becomes: subject and body from its kind's templates, and for a booking the
appointment's details, its reschedule and cancel links and its calendar file."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

from callbacks.booking.calendar import appointment_ics, appointments_ics
from callbacks.booking.links import appointment_cancel_url, appointment_reschedule_url, waitlist_offer_url
from callbacks.booking.reschedule import appointment_movable
from callbacks.booking.services import appointment_confirm_by
from callbacks.models import (
    Appointment,
    CallbackRequest,
    CourseOfCare,
    FollowUp,
    Notification,
    Priority,
    WaitlistOffer,
)
from callbacks.requests.advice import request_advice_priority
from callbacks.requests.followup_links import follow_up_answer_url, follow_ups_stop_url
from callbacks.requests.links import questionnaire_continue_url

# Every patient e-mail about an appointment carries its calendar file, so the patient's calendar follows: the
# first e-mail the time as tentative, the confirmation and reminder as confirmed, a move the new time, and a
# decline or cancellation a METHOD:CANCEL that removes it (same UID, higher SEQUENCE; see
# `callbacks.booking.calendar`).
ICS_KINDS = (
    Notification.Kind.PATIENT_CONFIRMATION,
    Notification.Kind.BOOKING_CONFIRMED,
    Notification.Kind.BOOKING_REMINDER,
    Notification.Kind.BOOKING_MOVED,
)
CANCEL_ICS_KINDS = (
    Notification.Kind.BOOKING_DECLINED,
    Notification.Kind.BOOKING_CANCELLED_BY_CLINIC,
    Notification.Kind.BOOKING_CANCELLED_BY_PATIENT,
)


def admin_url_for(request: CallbackRequest) -> str:
    return settings.SITE_URL + reverse("admin:callbacks_callbackrequest_change", args=[request.pk])


def notification_calendar_sequence(notification: Notification, appointment: Appointment) -> int:
    """The SEQUENCE of the row's calendar file: the number it was written with. The first e-mail is written with
    the request, before the appointment exists, and is always the first file (0); rows written before the
    numbers were kept carry the appointment's current one."""
    if notification.calendar_sequence is not None:
        return notification.calendar_sequence
    if notification.kind == Notification.Kind.PATIENT_CONFIRMATION:
        return 0
    return appointment.calendar_sequence


def booking_email_context(notification: Notification) -> dict:
    """What the e-mail templates of a booking need: the appointment, its state in words, the reschedule and
    cancel links while it can still be changed, and the calendar file to attach."""
    appointment = (
        Appointment.objects.select_related("service", "practitioner").filter(request_id=notification.request_id).first()
    )
    if appointment is None:
        return {}
    context = {
        "appointment": appointment,
        "clinic_address": settings.CLINIC_ADDRESS,
        "confirmed": appointment.status == Appointment.Status.CONFIRMED,
        "confirm_by": appointment_confirm_by(appointment),
        # Released because later answers made it an emergency: the patient's own advice comes first.
        "emergency": notification.kind == Notification.Kind.BOOKING_CANCELLED_BY_CLINIC
        and request_advice_priority(appointment.request) == Priority.EMERGENCY,
        "emergency_advice": settings.CLINIC_EMERGENCY_ADVICE.replace("{number}", settings.CLINIC_EMERGENCY_NUMBER),
    }
    # A cancelled or declined appointment has nothing left to change: its e-mails carry no link, and an e-mail
    # written before the cancellation but sent after it carries neither links nor a file that would put it back.
    if appointment_movable(appointment):
        context["cancel_url"] = appointment_cancel_url(appointment)
        context["reschedule_url"] = appointment_reschedule_url(appointment)
        if notification.kind in ICS_KINDS:
            context["ics"] = appointment_ics(
                appointment, sequence=notification_calendar_sequence(notification, appointment)
            )
    if notification.kind in CANCEL_ICS_KINDS:
        context["ics"] = appointment_ics(
            appointment, sequence=notification_calendar_sequence(notification, appointment), cancelled=True
        )
    return context


def course_email_context(notification: Notification) -> dict:
    """A course of care's one e-mail: every session still to come that holds a time, each with its own reference
    and links, and one calendar file with an event per session (the SEQUENCE the row was written with). A
    session cancelled or moved before the e-mail goes out is left out or shown at its new time; its own later
    e-mail carries a higher SEQUENCE, so the patient's calendar ends up right whatever the order."""
    course = CourseOfCare.objects.filter(first_request_id=notification.request_id).first()
    if course is None:
        return {}
    sessions = [
        session
        for session in course.appointments.select_related("request", "service", "practitioner").order_by("starts_at")
        if appointment_movable(session)
    ]
    return {
        "course": course,
        "sessions": [
            {
                "appointment": session,
                "reschedule_url": appointment_reschedule_url(session),
                "cancel_url": appointment_cancel_url(session),
            }
            for session in sessions
        ],
        "ics": appointments_ics(sessions, sequence=notification.calendar_sequence or 0) if sessions else "",
    }


def confirmation_context(request: CallbackRequest) -> dict:
    """The patient's confirmation: the advice their answers call for first, and the link to finish the questions
    (asked after the request is sent; the link shows no answer, see `callbacks.requests.links`). No link after an
    emergency: the patient is to get help now, not answer questions."""
    response = request.questionnaire_response
    emergency = request.priority == Priority.EMERGENCY
    return {
        "emergency": emergency,
        "urgent": request_advice_priority(request) == Priority.URGENT,
        "emergency_advice": settings.CLINIC_EMERGENCY_ADVICE.replace("{number}", settings.CLINIC_EMERGENCY_NUMBER),
        "urgent_advice": settings.CLINIC_URGENT_ADVICE.replace("{number}", settings.CLINIC_URGENT_ADVICE_NUMBER),
        "continue_url": questionnaire_continue_url(request)
        if response is not None and not response.is_complete and not emergency
        else "",
        "continue_link_days": settings.CLINIC_CONTINUE_LINK_DAYS,
    }


def waitlist_offer_email_context(notification: Notification) -> dict:
    """What the offer e-mail needs: the time, the service, the practitioner and the signed link."""
    offer = WaitlistOffer.objects.select_related("entry__service", "practitioner").get(
        pk=notification.waitlist_offer_id
    )
    return {
        "offer": offer,
        "entry": offer.entry,
        "accept_url": waitlist_offer_url(offer),
        "clinic_address": settings.CLINIC_ADDRESS,
    }


def follow_up_email_context(notification: Notification) -> dict:
    """The follow-up e-mail: its signed single-use link and the stop link, and nothing about the patient's back."""
    follow_up = FollowUp.objects.get(pk=notification.follow_up_id)
    return {
        "follow_up": follow_up,
        "answer_url": follow_up_answer_url(follow_up),
        "stop_url": follow_ups_stop_url(notification.request),
        "follow_up_link_days": settings.CLINIC_FOLLOW_UP_LINK_DAYS,
    }


def staff_sign_in_alert_context(notification: Notification) -> dict:
    """Wrong authenticator codes on a staff account: whose, how many, and where administrators see its
    authenticator. No client address, no code and no key."""
    user = notification.staff_user
    return {
        "account": user.get_username(),
        "wrong_codes": notification.wrong_codes,
        "to_owner": bool(user.email) and notification.recipient.lower() == user.email.lower(),
        "devices_url": settings.SITE_URL + reverse("admin:otp_totp_totpdevice_changelist"),
    }


def notification_email(notification: Notification) -> EmailMessage:
    request = notification.request
    context = {
        "request": request,
        "notification": notification,
        "admin_url": admin_url_for(request) if request is not None else "",
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": settings.CLINIC_PHONE,
        "emergency_number": settings.CLINIC_EMERGENCY_NUMBER,
        "urgent_advice_number": settings.CLINIC_URGENT_ADVICE_NUMBER,
        "time_zone": settings.TIME_ZONE,
    }
    if notification.kind == Notification.Kind.PATIENT_CONFIRMATION:
        context.update(confirmation_context(request))
    if request is not None and request.kind == CallbackRequest.Kind.BOOKING:
        context.update(booking_email_context(notification))
    if notification.kind == Notification.Kind.COURSE_BOOKED:
        context.update(course_email_context(notification))
    if notification.waitlist_offer_id is not None:
        context.update(waitlist_offer_email_context(notification))
    if notification.follow_up_id is not None:
        context.update(follow_up_email_context(notification))
    if notification.staff_user_id is not None:
        context.update(staff_sign_in_alert_context(notification))
    if notification.inbound_text_id is not None:
        context["admin_url"] = settings.SITE_URL + reverse(
            "admin:callbacks_inboundtext_change", args=[notification.inbound_text_id]
        )
    template = f"callbacks/email/{notification.kind}"
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}_body.txt", context)
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    # A fixed Message-ID per row: should a crash ever repeat a send, mail systems can see it is the same message.
    headers = {"Message-ID": f"<notification-{notification.pk}@{domain}>"}
    message = EmailMessage(subject, body, to=[notification.recipient], headers=headers)
    if context.get("ics"):
        filename = "appointments.ics" if notification.kind == Notification.Kind.COURSE_BOOKED else "appointment.ics"
        message.attach(filename, context["ics"], "text/calendar")
    return message
