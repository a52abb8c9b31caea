"""A practitioner's calendar feed, fetched by their calendar app at the secret address (no sign-in)."""

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from callbacks.booking.feeds import practitioner_feed_ics, practitioner_from_feed_token


@require_GET
def calendar_feed(request, token: str):
    practitioner = practitioner_from_feed_token(token)
    if practitioner is None:
        # The same answer for a revoked, mistyped or guessed address.
        raise Http404("No such calendar.")
    response = HttpResponse(
        practitioner_feed_ics(practitioner=practitioner), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="diary.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
