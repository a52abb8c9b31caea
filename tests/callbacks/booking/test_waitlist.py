"""The waitlist: joining (validated like the other forms), freed slots offered in order by e-mail, the first
acceptance wins (the database decides), the others find it gone; staff see it privacy-logged; retention."""

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.core import mail, signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from callbacks.booking import links
from callbacks.booking.links import waitlist_offer_token
from callbacks.booking.reschedule import appointment_reschedule
from callbacks.booking.services import appointment_cancel, appointment_decline
from callbacks.booking.slots import slots_free
from callbacks.booking.waitlist import (
    OfferGone,
    waitlist_entries_purge_expired,
    waitlist_entry_join,
    waitlist_offer_accept,
)
from callbacks.models import (
    Appointment,
    CallbackRequest,
    Notification,
    PrivacyLogEntry,
    WaitlistEntry,
    WaitlistOffer,
)
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
from tests.callbacks.booking.test_booking import book, send_all
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_client(client):
    client.force_login(UserFactory(username="desk", is_superuser=True))
    return client


def join(service, number=1, **overrides):
    data = {
        "service": service,
        "practitioner_id": None,
        "weekdays": "",
        "name": f"Waiting Patient {number}",
        "phone": f"+44740055{number:04d}",
        "email": f"waiting{number}@example.com",
        "consent_version": CURRENT_CONSENT_VERSION,
    }
    data.update(overrides)
    return waitlist_entry_join(**data)


def booked_slot(service, practitioner, days_ahead=3):
    """An appointment held by another patient, whose time we then free."""
    slot = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=days_ahead), days=1)[2]
    return slot, book(service, practitioner, slot.starts_at, phone="+447400777777")


def offer_path(offer):
    return reverse("callbacks:waitlist_offer", kwargs={"token": waitlist_offer_token(offer)})


# Joining ----------------------------------------------------------------------------------------------------


def test_the_slots_page_leads_to_the_waitlist(client, service, practitioner):
    page = client.get(reverse("callbacks:booking_slots", kwargs={"service": service.pk})).content.decode()
    assert reverse("callbacks:waitlist_join", kwargs={"service": service.pk}) in page


def test_joining_validates_like_the_other_forms_and_saves_nothing_half_way(client, service, practitioner):
    url = reverse("callbacks:waitlist_join", kwargs={"service": service.pk})
    response = client.post(url, {"name": "  ", "phone": "12", "email": "", "weekdays": ["9"], "practitioner": "999"})
    assert response.status_code == 200
    page = response.content.decode()
    for message in (
        "Tell us your name",
        "Enter an e-mail address: offers are sent by e-mail.",
        "We can only take your request if you agree to this.",
        "Choose days from the list.",
        "Choose one of the practitioners listed, or any.",
    ):
        assert message in page, message
    assert 'aria-describedby="' in page
    assert not WaitlistEntry.objects.exists()


def test_joining_records_the_wishes_the_consent_and_a_reference(client, service, practitioner):
    url = reverse("callbacks:waitlist_join", kwargs={"service": service.pk})
    response = client.post(
        url,
        {
            "practitioner": str(practitioner.pk),
            "weekdays": ["0", "2"],
            "name": "Robin Waiting",
            "phone": "07400 123456",
            "email": "robin@example.com",
            "consent": "on",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("callbacks:waitlist_joined")
    entry = WaitlistEntry.objects.get()
    assert (entry.practitioner, entry.weekdays, entry.phone) == (practitioner, "02", "+447400123456")
    assert entry.consent_version == CURRENT_CONSENT_VERSION and entry.consent_given_at
    assert re.fullmatch(r"WL-[0-9A-Z]{5}", entry.reference)
    # The database holds numbers in E.164 only, whoever writes them.
    with pytest.raises(IntegrityError), transaction.atomic():
        WaitlistEntry.objects.filter(pk=entry.pk).update(phone="12")
    page = client.get(response["Location"]).content.decode()
    assert entry.reference in page and "Monday, Wednesday" in page
    # The privacy notice the consent links to says what the waitlist keeps and for how long.
    assert "If you join our waitlist" in client.get(reverse("callbacks:privacy")).content.decode()


# Offers -----------------------------------------------------------------------------------------------------


def test_a_cancelled_slot_is_offered_in_order_to_the_patients_it_suits(
    service, practitioner, django_capture_on_commit_callbacks
):
    slot, appointment = booked_slot(service, practitioner)
    weekday = str(slot.local_start.weekday())
    other_day = str((slot.local_start.weekday() + 1) % 7)
    first = join(service, 1)
    wrong_day = join(service, 2, weekdays=other_day)
    second = join(service, 3, weekdays=weekday + other_day, practitioner_id=practitioner.pk)
    left = join(service, 4)
    WaitlistEntry.objects.filter(pk=left.pk).update(status=WaitlistEntry.Status.LEFT)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert appointment_cancel(appointment=appointment)
    offers = list(WaitlistOffer.objects.order_by("pk"))
    assert [offer.entry for offer in offers] == [first, second]
    assert all((o.starts_at, o.ends_at, o.practitioner) == (slot.starts_at, slot.ends_at, practitioner) for o in offers)
    assert wrong_day not in [offer.entry for offer in offers]
    notifications = Notification.objects.filter(kind=Notification.Kind.WAITLIST_OFFER).order_by("pk")
    assert [n.recipient for n in notifications] == ["waiting1@example.com", "waiting3@example.com"]
    assert callbacks  # queued after commit, ids only
    send_all(Notification.Kind.WAITLIST_OFFER)
    message = next(m for m in mail.outbox if m.to == ["waiting1@example.com"])
    assert first.reference in message.subject
    assert "Waiting Patient" not in message.body
    token = re.search(r"http\S+/book/offer/(\S+)/", message.body).group(1)
    assert links.waitlist_offer_from_token(token) == offers[0]


def test_declines_and_moves_free_slots_for_the_waitlist_too(service, practitioner):
    staff = UserFactory()
    slot, appointment = booked_slot(service, practitioner)
    join(service, 1)
    appointment_decline(appointment=appointment, user=staff)
    assert WaitlistOffer.objects.filter(starts_at=slot.starts_at).count() == 1
    moved_from, mover = booked_slot(service, practitioner, days_ahead=4)
    target = slots_free(service=service, first_day=timezone.localdate() + dt.timedelta(days=5), days=1)[0]
    appointment_reschedule(appointment=mover, revision=0, practitioner_id=practitioner.pk, starts_at=target.starts_at)
    assert WaitlistOffer.objects.filter(starts_at=moved_from.starts_at).count() == 1


def test_no_more_offers_per_slot_than_the_setting(service, practitioner, settings):
    settings.CLINIC_WAITLIST_OFFERS_PER_SLOT = 2
    _, appointment = booked_slot(service, practitioner)
    entries = [join(service, number) for number in range(1, 5)]
    appointment_cancel(appointment=appointment)
    assert [offer.entry for offer in WaitlistOffer.objects.order_by("pk")] == entries[:2]


def test_first_acceptance_wins_and_the_others_are_told_it_is_gone(client, service, practitioner):
    slot, appointment = booked_slot(service, practitioner)
    first, second = join(service, 1), join(service, 2)
    appointment_cancel(appointment=appointment)
    offer_first, offer_second = WaitlistOffer.objects.order_by("pk")

    # GET only shows the offer.
    page = client.get(offer_path(offer_second))
    assert page.status_code == 200 and "Take this appointment" in page.content.decode()
    assert not Appointment.objects.holding().exists()

    taken = client.post(offer_path(offer_second))
    assert taken.status_code == 200 and "The time is yours" in taken.content.decode()
    won = Appointment.objects.holding().get()
    assert (won.starts_at, won.practitioner, won.status) == (slot.starts_at, practitioner, Appointment.Status.REQUESTED)
    request = CallbackRequest.objects.get(pk=won.request_id)
    assert (request.kind, request.name, request.phone, request.email) == (
        CallbackRequest.Kind.BOOKING,
        "Waiting Patient 2",
        "+447400550002",
        "waiting2@example.com",
    )
    assert request.consent_version == CURRENT_CONSENT_VERSION
    assert Notification.objects.filter(request=request, kind=Notification.Kind.STAFF_NEW_REQUEST).exists()
    second.refresh_from_db()
    offer_first.refresh_from_db()
    assert second.status == WaitlistEntry.Status.BOOKED
    assert offer_first.status == WaitlistOffer.Status.GONE

    # The other patient clicks later: told it is gone, by GET and by POST; they stay on the waitlist.
    for response in (client.get(offer_path(offer_first)), client.post(offer_path(offer_first))):
        assert response.status_code == 410 and "this time has gone" in response.content.decode()
    first.refresh_from_db()
    assert first.status == WaitlistEntry.Status.WAITING
    assert Appointment.objects.holding().count() == 1
    # The winner clicking again sees their booking, nothing new is made.
    again = client.post(offer_path(offer_second))
    assert "The time is yours" in again.content.decode() and Appointment.objects.count() == 2


def test_an_offer_whose_slot_someone_booked_directly_is_gone(service, practitioner):
    slot, appointment = booked_slot(service, practitioner)
    join(service, 1)
    appointment_cancel(appointment=appointment)
    offer = WaitlistOffer.objects.get()
    book(service, practitioner, slot.starts_at, phone="+447400888888")
    with pytest.raises(OfferGone):
        waitlist_offer_accept(offer=offer)
    offer.refresh_from_db()
    assert offer.status == WaitlistOffer.Status.GONE
    assert offer.entry.status == WaitlistEntry.Status.WAITING


def test_tampered_and_expired_offer_links_are_refused(client, service, practitioner, monkeypatch):
    _, appointment = booked_slot(service, practitioner)
    join(service, 1)
    appointment_cancel(appointment=appointment)
    offer = WaitlistOffer.objects.get()
    token = waitlist_offer_token(offer)
    forged = signing.TimestampSigner(salt="another purpose").sign_object({"o": offer.pk})
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), forged, "x"):
        assert client.post(reverse("callbacks:waitlist_offer", kwargs={"token": bad})).status_code == 404
    monkeypatch.setattr(links, "WAITLIST_OFFER_LINK_MAX_AGE", dt.timedelta(seconds=-1))
    response = client.post(reverse("callbacks:waitlist_offer", kwargs={"token": token}))
    assert response.status_code == 404 and "does not work" in response.content.decode()
    assert not Appointment.objects.holding().exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_acceptances_of_one_offered_slot_at_the_same_instant_one_wins(service, practitioner):
    """Two patients offered the same slot press "Take" together, in two connections: the exclusion constraint
    lets exactly one appointment through; the other offer ends up gone and nothing of it is half-saved."""
    from django.db import connection

    _, appointment = booked_slot(service, practitioner)
    join(service, 1), join(service, 2)
    appointment_cancel(appointment=appointment)
    offers = list(WaitlistOffer.objects.order_by("pk"))
    assert len(offers) == 2
    barrier = Barrier(2, timeout=30)

    def accept(offer):
        try:
            barrier.wait()
            waitlist_offer_accept(offer=offer)
            return "booked"
        except OfferGone:
            return "gone"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(accept, offers))
    assert outcomes == ["booked", "gone"]
    assert Appointment.objects.holding().count() == 1
    assert sorted(WaitlistOffer.objects.values_list("status", flat=True)) == ["accepted", "gone"]
    # The loser's booking request was rolled back with its refused appointment.
    assert CallbackRequest.objects.filter(reason__startswith="Booked from the waitlist").count() == 1


# Staff and retention ----------------------------------------------------------------------------------------


def test_staff_see_the_waitlist_and_each_opening_is_privacy_logged(desk_client, service, practitioner):
    entry = join(service, 1, practitioner_id=practitioner.pk, weekdays="14")
    listing = desk_client.get(reverse("admin:callbacks_waitlistentry_changelist")).content.decode()
    assert entry.reference in listing and "Tue, Fri" in listing
    assert not PrivacyLogEntry.objects.exists()
    page = desk_client.get(reverse("admin:callbacks_waitlistentry_change", args=[entry.pk]))
    assert page.status_code == 200 and "waiting1@example.com" in page.content.decode()
    log = PrivacyLogEntry.objects.get()
    assert (log.action, log.reference) == (PrivacyLogEntry.Action.VIEWED, entry.reference)
    desk_client.post(
        reverse("admin:callbacks_waitlistentry_changelist"), {"action": "leave", "_selected_action": [entry.pk]}
    )
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.LEFT


def test_a_privacy_officer_erases_a_waitlist_entry_and_the_log_keeps_only_its_reference(
    desk_client, service, practitioner
):
    _, appointment = booked_slot(service, practitioner)
    entry, other = join(service, 1), join(service, 2)
    appointment_cancel(appointment=appointment)
    changelist = reverse("admin:callbacks_waitlistentry_changelist")
    desk_client.post(changelist, {"action": "erase", "_selected_action": [entry.pk]})
    assert list(WaitlistEntry.objects.all()) == [other]
    assert not Notification.objects.filter(recipient="waiting1@example.com").exists()
    log = PrivacyLogEntry.objects.get(action=PrivacyLogEntry.Action.ERASED)
    assert log.reference == entry.reference


def test_the_privacy_officer_group_sees_and_erases_waitlist_entries(client, service):
    """Security review 27, finding 6: the README's "Privacy officer" group answered 403 on the waitlist."""
    from django.contrib.auth.models import Group

    entry, other = join(service, 1), join(service, 2)
    officer = UserFactory(username="dpo")
    officer.groups.add(Group.objects.get(name="Privacy officer"))
    client.force_login(officer)
    changelist = reverse("admin:callbacks_waitlistentry_changelist")
    listing = client.get(changelist)
    assert listing.status_code == 200 and entry.reference in listing.content.decode()
    page = client.get(reverse("admin:callbacks_waitlistentry_change", args=[entry.pk]))
    assert page.status_code == 200 and "waiting1@example.com" in page.content.decode()
    assert PrivacyLogEntry.objects.get(action=PrivacyLogEntry.Action.VIEWED).reference == entry.reference
    client.post(changelist, {"action": "erase", "_selected_action": [entry.pk]})
    assert list(WaitlistEntry.objects.all()) == [other]
    assert PrivacyLogEntry.objects.get(action=PrivacyLogEntry.Action.ERASED).reference == entry.reference


def test_the_desk_without_the_privacy_permission_cannot_erase(client, service):
    from django.contrib.auth.models import Group

    entry = join(service, 1)
    desk = UserFactory(username="triage")
    desk.groups.add(Group.objects.get(name="Triage staff"))
    client.force_login(desk)
    changelist = reverse("admin:callbacks_waitlistentry_changelist")
    assert "Take the selected patients off the waitlist" in client.get(changelist).content.decode()
    client.post(changelist, {"action": "erase", "_selected_action": [entry.pk]})
    assert WaitlistEntry.objects.filter(pk=entry.pk).exists()


def test_retention_purges_old_waitlist_entries_with_their_offers(service, practitioner, settings):
    settings.CLINIC_RETENTION_DAYS = 30
    _, appointment = booked_slot(service, practitioner)
    old, recent = join(service, 1), join(service, 2)
    appointment_cancel(appointment=appointment)
    long_ago = timezone.now() - dt.timedelta(days=31)
    WaitlistEntry.objects.filter(pk=old.pk).update(created_at=long_ago, updated_at=long_ago)
    assert waitlist_entries_purge_expired() == 0  # the old entry had an offer within the period
    WaitlistOffer.objects.filter(entry=old).update(
        created_at=long_ago, starts_at=long_ago, ends_at=long_ago + dt.timedelta(minutes=45)
    )
    assert waitlist_entries_purge_expired() == 1
    assert list(WaitlistEntry.objects.all()) == [recent]
    assert not WaitlistOffer.objects.filter(entry_id=old.pk).exists()
    assert not Notification.objects.filter(recipient="waiting1@example.com").exists()


def test_the_purge_task_purges_the_waitlist(service, settings):
    from callbacks.tasks import callback_requests_purge_expired

    settings.CLINIC_RETENTION_DAYS = 30
    entry = join(service, 1)
    long_ago = timezone.now() - dt.timedelta(days=31)
    WaitlistEntry.objects.filter(pk=entry.pk).update(created_at=long_ago, updated_at=long_ago)
    callback_requests_purge_expired()
    assert not WaitlistEntry.objects.exists()
