"""What every page needs to know about the patient pages: whether online booking is offered at all."""

from callbacks.booking.slots import booking_offered


def booking(request) -> dict:
    """``booking_available``: some active service has an active practitioner. Without one the booking links are
    hidden and the callback is offered instead (public pages are stored per version, and a change to a service
    or a practitioner makes them stale, `callbacks.apps`)."""
    return {"booking_available": booking_offered()}
