"""Who is ringing a patient now: the one home of the "being called by" rule the queue and a request's page show.

Logging a call (`callbacks.requests.workflow.call_attempt_log`) stamps the request with who logged it and when;
for CLINIC_CALL_CLAIM_MINUTES after that, everyone else sees that person's name, so two people do not ring the
same patient. The caller does not see their own name.
"""

import datetime as dt

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone

from callbacks.models import CallbackRequest
from callbacks.rules.staff import staff_display_name


def call_claim_since(now: dt.datetime | None = None) -> dt.datetime:
    """Calls logged after this moment still hold the request for their caller."""
    return (now or timezone.now()) - dt.timedelta(minutes=settings.CLINIC_CALL_CLAIM_MINUTES)


def call_claim_q(*, viewer, now: dt.datetime | None = None) -> Q:
    """Requests another member of staff than ``viewer`` logged a call on within the claim time, still open."""
    return (
        Q(last_call_at__gt=call_claim_since(now))
        & ~Q(last_call_by=viewer.pk)
        & ~Q(status=CallbackRequest.Status.CLOSED)
    )


def requests_with_call_claim(requests: QuerySet[CallbackRequest], *, viewer) -> QuerySet[CallbackRequest]:
    """``requests`` with ``being_called``: true where someone else is ringing the patient (in the same query)."""
    return requests.annotate(being_called=ExpressionWrapper(call_claim_q(viewer=viewer), output_field=BooleanField()))


def call_claim_holder(request: CallbackRequest, *, viewer, now: dt.datetime | None = None) -> str:
    """The name of whoever else is ringing the patient now, or "" (nobody, or only ``viewer``)."""
    if (
        request.last_call_at is None
        or request.last_call_by_id in (None, viewer.pk)
        or request.status == CallbackRequest.Status.CLOSED
        or request.last_call_at <= call_claim_since(now)
    ):
        return ""
    return staff_display_name(request.last_call_by)
