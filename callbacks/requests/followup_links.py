"""The signed links of an outcome follow-up e-mail: one to answer it, one to stop all follow-ups.

The answer link names the follow-up and nothing else, expires ``CLINIC_FOLLOW_UP_LINK_DAYS`` after the e-mail
was made, and works once (a follow-up that has been answered is spent). The stop link names the request; it
only ever leads to a confirmation page, and stopping needs the POST from that page (mail scanners follow GET
links). Neither needs an account.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from callbacks.models import CallbackRequest, FollowUp
from callbacks.rules.followups import FOLLOW_UP_ANSWERABLE_STATUSES

ANSWER_LINK_SALT = "callbacks.followups.answer"
STOP_LINK_SALT = "callbacks.followups.stop"
# Stopping stays possible for as long as follow-ups can still come (the last one is at most a year or so out).
STOP_LINK_MAX_AGE = dt.timedelta(days=400)


@dataclass(frozen=True)
class FollowUpLink:
    """What an answer link leads to: the follow-up, or why it does not (``problem``: expired, invalid, spent,
    stopped), so that the page can say so plainly."""

    follow_up: FollowUp | None
    problem: str = ""


def follow_up_answer_token(follow_up: FollowUp) -> str:
    return signing.TimestampSigner(salt=ANSWER_LINK_SALT).sign_object({"f": follow_up.pk})


def follow_up_from_answer_token(token: str) -> FollowUpLink:
    max_age = dt.timedelta(days=settings.CLINIC_FOLLOW_UP_LINK_DAYS)
    try:
        payload = signing.TimestampSigner(salt=ANSWER_LINK_SALT).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired:
        return FollowUpLink(None, "expired")
    except signing.BadSignature:
        return FollowUpLink(None, "invalid")
    if not isinstance(payload, dict) or not isinstance(payload.get("f"), int):
        return FollowUpLink(None, "invalid")
    follow_up = FollowUp.objects.select_related("request").filter(pk=payload["f"]).first()
    if follow_up is None:
        return FollowUpLink(None, "invalid")
    if follow_up.status == FollowUp.Status.ANSWERED:
        return FollowUpLink(None, "spent")
    if follow_up.status not in FOLLOW_UP_ANSWERABLE_STATUSES or follow_up.request.follow_ups_stopped_at is not None:
        return FollowUpLink(None, "stopped")
    return FollowUpLink(follow_up)


def follow_ups_stop_token(request: CallbackRequest) -> str:
    return signing.TimestampSigner(salt=STOP_LINK_SALT).sign_object({"r": request.pk})


def request_from_stop_token(token: str) -> CallbackRequest | None:
    """The request a stop link names, or None when the link is tampered with, too old or the request is gone."""
    try:
        payload = signing.TimestampSigner(salt=STOP_LINK_SALT).unsign_object(token, max_age=STOP_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("r"), int):
        return None
    return CallbackRequest.objects.filter(pk=payload["r"]).first()


def follow_up_answer_path(follow_up: FollowUp) -> str:
    return reverse("callbacks:follow_up", kwargs={"token": follow_up_answer_token(follow_up)})


def follow_up_answer_url(follow_up: FollowUp) -> str:
    return settings.SITE_URL + follow_up_answer_path(follow_up)


def follow_ups_stop_path(request: CallbackRequest) -> str:
    return reverse("callbacks:follow_ups_stop", kwargs={"token": follow_ups_stop_token(request)})


def follow_ups_stop_url(request: CallbackRequest) -> str:
    return settings.SITE_URL + follow_ups_stop_path(request)
