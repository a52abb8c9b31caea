"""The document a patient's data download holds: the request, its history, calls, notes, appointment, answers
(with every earlier version the patient's corrections replaced), the patient's waitlist entries, and their texts
to the clinic."""

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone

from callbacks.models import (
    Appointment,
    CallAttempt,
    CallbackRequest,
    FollowUp,
    RequestEvent,
    StaffNote,
    WaitlistEntry,
    WorkingHours,
)
from callbacks.privacy.waitlist import waitlist_entries_of_request
from callbacks.requests.consent import CONSENT_TEXTS
from callbacks.requests.selectors import callback_request_notifications
from callbacks.rules.staff import staff_display_name
from clinic.hours import clinic_zone
from intake.selectors import questionnaire_response_answers, questionnaire_response_summary

logger = logging.getLogger(__name__)

PURGE_BATCH_SIZE = 500
EXPORT_FORMAT_VERSION = 1
# The export document


def export_document(request: CallbackRequest) -> dict[str, Any]:
    zone = clinic_zone()

    def local(value: dt.datetime | None) -> str | None:
        return timezone.localtime(value, zone).isoformat() if value else None

    return {
        "format": f"clinic-patient-data/{EXPORT_FORMAT_VERSION}",
        "clinic": settings.CLINIC_NAME,
        "exported_at": local(timezone.now()),
        "time_zone": zone.key,
        "request": {
            "reference": request.reference,
            "kind": request.get_kind_display(),
            "received_at": local(request.created_at),
            "last_changed_at": local(request.updated_at),
            "status": request.get_status_display(),
            "outcome": request.get_outcome_display() or None,
            "priority": request.get_priority_display(),
            "respond_by": local(request.deadline),
            "next_call_at": local(request.next_attempt_at),
            "closed_at": local(request.closed_at),
        },
        "contact": {
            "name": request.name,
            "phone": str(request.phone),
            "email": request.email or None,
            "preferred_callback_from": local(request.window_start),
            "preferred_callback_until": local(request.window_end),
        },
        "reason": request.reason,
        "consent": {
            "version": request.consent_version,
            "given_at": local(request.consent_given_at),
            "text_sha256": request.consent_text_sha256,
            "text": CONSENT_TEXTS.get(request.consent_version),
        },
        "questionnaire": _export_questionnaire(request.questionnaire_response),
        "appointment": _export_appointment(request, local),
        "follow_ups_stopped_at": local(request.follow_ups_stopped_at),
        "follow_ups": [
            {
                "weeks": f.weeks,
                "due_at": local(f.due_at),
                "status": f.get_status_display(),
                "sent_at": local(f.sent_at),
                "answered_at": local(f.answered_at),
                "questionnaire": _export_questionnaire(f.questionnaire_response),
            }
            for f in FollowUp.objects.filter(request=request).select_related("questionnaire_response").order_by("weeks")
        ],
        "call_attempts": [
            {
                "at": local(a.made_at),
                "by": staff_display_name(a.made_by),
                "outcome": a.get_outcome_display(),
                "note": a.note,
            }
            for a in CallAttempt.objects.filter(request=request).select_related("made_by").order_by("made_at")
        ],
        "notes": [
            {"at": local(n.created_at), "by": staff_display_name(n.author), "text": n.text}
            for n in StaffNote.objects.filter(request=request).select_related("author").order_by("created_at")
        ],
        "history": [
            {
                "at": local(e.at),
                "by": staff_display_name(e.actor),
                "action": e.get_action_display(),
                "field": e.field or None,
                "before": e.before,
                "after": e.after,
            }
            for e in RequestEvent.objects.filter(request=request).select_related("actor").order_by("at", "pk")
        ],
        "notifications": [
            {
                "kind": n.get_kind_display(),
                "channel": n.get_channel_display(),
                # A webhook's address may hold the clinic's secret token: the patient gets only its kind.
                "recipient": n.recipient if n.channel != n.Channel.WEBHOOK else "the clinic's staff chat",
                "status": n.get_status_display(),
                "delivery": n.get_delivery_status_display() or None,
                "attempts": n.attempts,
                "created_at": local(n.created_at),
                "sent_at": local(n.sent_at),
            }
            for n in callback_request_notifications(request=request)
        ],
        "waitlist": [_export_waitlist_entry(entry, local) for entry in waitlist_entries_of_request(request=request)],
        "texts_from_you": [
            {"at": local(t.received_at), "from": t.from_phone, "text": t.body, "what_it_did": t.get_outcome_display()}
            for t in request.inbound_texts.order_by("received_at", "pk")
        ],
    }


def _export_questionnaire(response: Any) -> dict[str, Any] | None:
    """``response`` is the request's `intake` questionnaire response, or None."""
    if response is None:
        return None
    summary = questionnaire_response_summary(response=response)
    values = questionnaire_response_answers(response=response)
    by_question = {line.question_id: line for line in summary.lines}
    return {
        "title": summary.title,
        "definition": summary.definition_key,
        "started_at": timezone.localtime(response.created_at, clinic_zone()).isoformat(),
        # When the current version's answers were last added to (its earlier versions below were before it).
        "answered_at": timezone.localtime(summary.answered_at, clinic_zone()).isoformat(),
        "complete": summary.is_complete,
        "triage_tier": summary.tier.label,
        "answers": [
            {
                "question_id": question_id,
                "step": by_question[question_id].step_title,
                "question": by_question[question_id].question_text,
                "answer": by_question[question_id].answer_text,
                "value": value,
            }
            for question_id, value in values.items()
        ],
        "triage_reasons": [
            {"tier": line.tier.label, "reason": line.text, "source": line.source, "based_on": list(line.answers)}
            for line in summary.reason_lines
        ],
        "scores": list(summary.scores),
        # What the patient said before they corrected it (the answers staff read beside the current ones).
        "version": summary.version,
        "earlier_versions": [
            {
                "version": earlier.version,
                "answered_at": timezone.localtime(earlier.answered_at, clinic_zone()).isoformat(),
                "replaced_at": timezone.localtime(earlier.replaced_at, clinic_zone()).isoformat(),
                "triage_tier": earlier.tier.label,
                "answers": [
                    {
                        "question_id": line.question_id,
                        "step": line.step_title,
                        "question": line.question_text,
                        "answer": line.answer_text,
                    }
                    for line in earlier.lines
                ],
                "changed_by_the_next_version": list(earlier.changed),
            }
            for earlier in summary.earlier_versions
        ],
    }


def _export_appointment(request: CallbackRequest, local) -> dict[str, Any] | None:
    appointment = (
        Appointment.objects.filter(request=request).select_related("service", "practitioner", "decided_by").first()
    )
    if appointment is None:
        return None
    return {
        "service": appointment.service.name,
        "practitioner": appointment.practitioner.name,
        "starts_at": local(appointment.starts_at),
        "ends_at": local(appointment.ends_at),
        "status": appointment.get_status_display(),
        "decided_at": local(appointment.decided_at),
        "decided_by": staff_display_name(appointment.decided_by),
        "requested_at": local(appointment.created_at),
    }


def _export_waitlist_entry(entry: WaitlistEntry, local) -> dict[str, Any]:
    return {
        "reference": entry.reference,
        "joined_at": local(entry.created_at),
        "last_changed_at": local(entry.updated_at),
        "status": entry.get_status_display(),
        "service": entry.service.name,
        "practitioner": entry.practitioner.name if entry.practitioner else "Any",
        "days": [WorkingHours.Weekday(int(day)).label for day in entry.weekdays] or "Any day",
        "name": entry.name,
        "phone": str(entry.phone),
        "email": entry.email,
        "consent": {
            "version": entry.consent_version,
            "given_at": local(entry.consent_given_at),
            "text_sha256": entry.consent_text_sha256,
            "text": CONSENT_TEXTS.get(entry.consent_version),
        },
        "offers": [
            {
                "practitioner": offer.practitioner.name,
                "starts_at": local(offer.starts_at),
                "ends_at": local(offer.ends_at),
                "status": offer.get_status_display(),
                "offered_at": local(offer.created_at),
                "decided_at": local(offer.decided_at),
            }
            for offer in entry.offers.select_related("practitioner").order_by("created_at", "pk")
        ],
    }
