"""The signed link that lets a patient continue the questionnaire after sending their request, on any device.

The link names the request and nothing else; it expires (``CLINIC_CONTINUE_LINK_DAYS``). Because an e-mail can
be forwarded, whoever holds it may add answers and see which parts remain, never read the answers already given
or the patient's details (`callbacks.web.prepare` keeps to that). Once the request is finished for answers
(`callbacks.rules.requests.status_takes_answers`) the link still opens, to say which parts were sent and when,
and takes no change.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse

from callbacks.models import CallbackRequest

CONTINUE_LINK_SALT = "callbacks.questionnaire.continue"


def continue_link_max_age() -> dt.timedelta:
    return dt.timedelta(days=settings.CLINIC_CONTINUE_LINK_DAYS)


def questionnaire_continue_token(request: CallbackRequest) -> str:
    return signing.TimestampSigner(salt=CONTINUE_LINK_SALT).sign_object({"r": request.pk})


def request_from_continue_token(token: str) -> CallbackRequest | None:
    """The request a continue link names, open or finished, or None when the link is tampered with, expired, or
    the request is erased or has no questionnaire."""
    try:
        payload = signing.TimestampSigner(salt=CONTINUE_LINK_SALT).unsign_object(token, max_age=continue_link_max_age())
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("r"), int):
        return None
    return (
        CallbackRequest.objects.filter(pk=payload["r"], questionnaire_response__isnull=False)
        .select_related("questionnaire_response")
        .first()
    )


def questionnaire_continue_path(request: CallbackRequest) -> str:
    return reverse("callbacks:prepare", kwargs={"token": questionnaire_continue_token(request)})


def questionnaire_continue_url(request: CallbackRequest) -> str:
    return settings.SITE_URL + questionnaire_continue_path(request)
