"""The morning text of the day we call: "we will call you today between 10:00 and 12:00 from <clinic number>".

Sent once per request (the outbox's unique constraint on request, kind and channel), on the morning of the day its
callback window opens, to a patient who chose texts. Only for requests sent on an earlier day: a patient who asked
this morning for a call this afternoon was told the times in their confirmation minutes ago. The window is the one
the patient chose (`callbacks.requests.windows`, stored on the request); no text once it has closed, or once the
request no longer awaits a call.
"""

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from callbacks.models import CallbackRequest, Notification
from callbacks.notifications.outbox import notification_for_call_today
from callbacks.notifications.quiet_hours import quiet_hours_end
from clinic.hours import clinic_zone

logger = logging.getLogger(__name__)


def callback_requests_tell_call_today(*, now: dt.datetime | None = None) -> int:
    """Write the "we call you today" text of every request whose window opens today; return how many were written.
    Does nothing during quiet hours (the morning run after they end writes them). Idempotent: run it as often as
    you like."""
    now = now or timezone.now()
    if quiet_hours_end(now) is not None:
        return 0
    zone = clinic_zone()
    today = now.astimezone(zone).date()
    midnight = dt.datetime.combine(today, dt.time(), tzinfo=zone)
    due = (
        CallbackRequest.objects.awaiting_response()
        .filter(
            kind=CallbackRequest.Kind.CALLBACK,
            window_start__gte=midnight,
            window_start__lt=midnight + dt.timedelta(days=1),
            window_end__gt=now,
            created_at__lt=midnight,
        )
        .exclude(text_consent_version="")
        .exclude(notifications__kind=Notification.Kind.CALL_TODAY)
        .values_list("pk", flat=True)
    )
    written = 0
    for pk in list(due):
        try:
            with transaction.atomic():
                request = CallbackRequest.objects.get(pk=pk)
                written += notification_for_call_today(request)
        except IntegrityError:
            continue  # written meanwhile by another run
    if written:
        logger.info("queued %s 'we call you today' text(s)", written)
    return written
