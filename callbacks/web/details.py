"""What the details page of both flows (callback and booking) shares: the limits it counts against, the way
back, and the advice it shows."""

from django.conf import settings
from django.urls import reverse

from callbacks.web.flow import step_url
from clinic.ratelimit import client_address, rate_limit_exceeded
from intake.selectors import Step


def requests_from_address_limited(request) -> bool:
    """Count one more finished-request attempt from this address; True once over the limit."""
    return rate_limit_exceeded(
        scope="request-address", identity=client_address(request), rate=settings.CLINIC_RATE_LIMIT_REQUESTS_PER_ADDRESS
    )


def requests_for_phone_limited(phone: str) -> bool:
    """Count one more request for this (E.164) number, from any address; True once over the limit."""
    return rate_limit_exceeded(
        scope="request-phone", identity=phone, rate=settings.CLINIC_RATE_LIMIT_REQUESTS_PER_PHONE
    )


def details_back_url(flow_id: str, *, asked: list[Step], emergency: bool) -> str:
    """Back from the details page: to the emergency advice, or to the last questions asked."""
    return reverse("callbacks:emergency", kwargs={"flow": flow_id}) if emergency else step_url(flow_id, asked[-1])


def advice() -> dict[str, str]:
    return {
        "emergency_advice": settings.CLINIC_EMERGENCY_ADVICE.replace("{number}", settings.CLINIC_EMERGENCY_NUMBER),
        "urgent_advice": settings.CLINIC_URGENT_ADVICE.replace("{number}", settings.CLINIC_URGENT_ADVICE_NUMBER),
    }
