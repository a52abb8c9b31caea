"""One patient across many requests: the matching rule at a request's arrival, staff linking and unlinking with
history, the backfill of requests stored before patients, and a patient's data downloaded and erased together."""

import datetime as dt
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from callbacks.models import (
    CallbackRequest,
    ConsentMethod,
    InboundText,
    Patient,
    PatientLinkEvent,
    PrivacyLogEntry,
    RequestEvent,
)
from callbacks.notifications.replies import inbound_text_receive
from callbacks.patients.backfill import patients_backfill
from callbacks.patients.matching import name_key
from callbacks.patients.selectors import patient_offers_for_request
from callbacks.patients.services import (
    PatientLinkRefused,
    request_patient_link,
    request_patient_not_same,
    request_patient_unlink,
)
from callbacks.privacy.patients import patient_erase, patient_export
from callbacks.privacy.retention import callback_requests_purge_expired
from callbacks.privacy.services import callback_request_erase
from callbacks.requests.consent import CURRENT_CONSENT_VERSION
from callbacks.requests.services import callback_request_create
from tests.factories import CallbackRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


def new_request(name="Jane Smith", phone="+447400123456", **extra) -> CallbackRequest:
    start = timezone.now() + dt.timedelta(days=1)
    return callback_request_create(
        name=name,
        phone=phone,
        window_start=start,
        window_end=start + dt.timedelta(hours=2),
        reason="Back pain.",
        consent_version=CURRENT_CONSENT_VERSION,
        **extra,
    )


@pytest.mark.parametrize(
    ("name", "key"),
    [("Jane Smith", "jane smith"), ("  JANE   smith ", "jane smith"), ("Jane\tSmith", "jane smith")],
)
def test_the_name_key_ignores_case_and_spacing(name, key):
    assert name_key(name) == key


def test_the_same_phone_and_name_join_the_same_patient_by_themselves_and_it_is_recorded():
    first = new_request()
    second = new_request(name="  jane SMITH")
    assert first.patient_record is not None
    assert second.patient_record_id == first.patient_record_id
    event = PatientLinkEvent.objects.get(request=second)
    assert event.action == PatientLinkEvent.Action.MATCHED
    assert event.actor is None
    assert event.patient_number == first.patient_record.number
    assert PatientLinkEvent.objects.get(request=first).action == PatientLinkEvent.Action.NEW


def test_the_same_phone_with_another_name_is_offered_never_merged():
    first = new_request()
    other = new_request(name="Tom Smith")
    assert other.patient_record_id != first.patient_record_id
    assert patient_offers_for_request(request=other) == [first.patient_record]
    assert patient_offers_for_request(request=first) == [other.patient_record]
    assert patient_offers_for_request(request=new_request(phone="+447400999888")) == []


def test_a_booking_taken_by_phone_records_who_took_it_on_the_link():
    staff = UserFactory()
    new_request()
    by_phone = new_request(consent_method=ConsentMethod.PHONE, consent_recorded_by=staff)
    assert PatientLinkEvent.objects.get(request=by_phone).actor == staff


def test_staff_link_a_phone_only_match_and_the_empty_patient_goes():
    staff = UserFactory()
    first = new_request()
    other = new_request(name="J. Smith")
    left = other.patient_record_id
    request_patient_link(request=other, patient=first.patient_record, actor=staff)
    other.refresh_from_db()
    assert other.patient_record_id == first.patient_record_id
    assert not Patient.objects.filter(pk=left).exists()
    event = PatientLinkEvent.objects.filter(request=other).first()
    assert (event.action, event.actor, event.previous_number) == (
        PatientLinkEvent.Action.LINKED,
        staff,
        f"P-{left:06d}",
    )
    assert patient_offers_for_request(request=other) == []
    with pytest.raises(PatientLinkRefused, match="already linked"):
        request_patient_link(request=other, patient=first.patient_record, actor=staff)


def test_not_the_same_person_stops_the_offer_and_is_kept():
    staff = UserFactory()
    first = new_request()
    other = new_request(name="Tom Smith")
    request_patient_not_same(request=other, patient=first.patient_record, actor=staff)
    assert patient_offers_for_request(request=other) == []
    assert PatientLinkEvent.objects.filter(request=other, action=PatientLinkEvent.Action.NOT_SAME).count() == 1


def test_unlinking_gives_the_request_a_patient_of_its_own_and_history_keeps_both():
    staff = UserFactory()
    first = new_request()
    second = new_request()
    with pytest.raises(PatientLinkRefused, match="only request"):
        request_patient_unlink(request=new_request(phone="+447400999888"), actor=staff)
    patient = request_patient_unlink(request=second, actor=staff)
    second.refresh_from_db()
    assert second.patient_record == patient != first.patient_record
    assert first.patient_record.requests.count() == 1
    actions = list(PatientLinkEvent.objects.filter(request=second).values_list("action", flat=True))
    assert PatientLinkEvent.Action.UNLINKED in actions and PatientLinkEvent.Action.NOT_SAME in actions
    # The patient it left is not offered straight back.
    assert patient_offers_for_request(request=second) == []
    with pytest.raises(ValueError, match="append-only"):
        PatientLinkEvent.objects.filter(request=second).first().delete()


def test_the_backfill_groups_stored_requests_by_phone_and_name_and_runs_again_harmlessly():
    a1 = CallbackRequestFactory(name="Ann Lee", phone="+447400000001")
    a2 = CallbackRequestFactory(name="ann  LEE ", phone="+447400000001")
    b = CallbackRequestFactory(name="Bob Lee", phone="+447400000001")
    c = CallbackRequestFactory(name="Ann Lee", phone="+447400000002")
    assert patients_backfill(connection) == 4
    for request in (a1, a2, b, c):
        request.refresh_from_db()
    assert a1.patient_record_id == a2.patient_record_id
    assert len({a1.patient_record_id, b.patient_record_id, c.patient_record_id}) == 3
    assert a1.patient_record.name_key == "ann lee"
    assert patients_backfill(connection) == 0
    assert Patient.objects.count() == 3


def test_a_patients_data_is_downloaded_together_and_recorded_on_every_request():
    staff = UserFactory()
    first = new_request()
    second = new_request()
    document = json.loads(patient_export(patient=first.patient_record, actor=staff))
    assert document["patient"]["number"] == first.patient_record.number
    assert [r["request"]["reference"] for r in document["requests"]] == [first.reference, second.reference]
    for request in (first, second):
        assert RequestEvent.objects.filter(request=request, action=RequestEvent.Action.EXPORTED).count() == 1
    logged = set(
        PrivacyLogEntry.objects.filter(action=PrivacyLogEntry.Action.EXPORTED).values_list("reference", flat=True)
    )
    assert logged == {first.patient_record.number, first.reference, second.reference}


def test_a_patient_is_erased_with_all_their_requests_and_the_log_keeps_only_references():
    staff = UserFactory()
    first = new_request()
    second = new_request()
    stranger = new_request(phone="+447400999888")
    number = first.patient_record.number
    assert patient_erase(patient=first.patient_record, actor=staff) == [first.reference, second.reference]
    assert not CallbackRequest.objects.filter(pk__in=[first.pk, second.pk]).exists()
    assert not Patient.objects.filter(pk=first.patient_record_id).exists()
    assert CallbackRequest.objects.filter(pk=stranger.pk).exists()
    erased = set(
        PrivacyLogEntry.objects.filter(action=PrivacyLogEntry.Action.ERASED).values_list("reference", flat=True)
    )
    assert erased == {number, first.reference, second.reference}


def test_erasing_or_purging_a_last_request_takes_its_patient_too():
    staff = UserFactory()
    only = new_request()
    callback_request_erase(request=only, actor=staff)
    assert not Patient.objects.filter(pk=only.patient_record_id).exists()
    kept, old = new_request(), new_request(phone="+447400999888")
    old_time = timezone.now() - dt.timedelta(days=4000)
    CallbackRequest.objects.filter(pk=old.pk).update(created_at=old_time, updated_at=old_time)
    RequestEvent.objects.filter(request=old).update(at=old_time)
    assert callback_requests_purge_expired() >= 1
    assert not Patient.objects.filter(pk=old.patient_record_id).exists()
    assert Patient.objects.filter(pk=kept.patient_record_id).exists()


SENDERS = 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_requests_from_one_number_sent_at_the_same_instant_make_one_patient():
    barrier = threading.Barrier(SENDERS, timeout=60)

    def send(_):
        try:
            barrier.wait()
            return new_request().patient_record_id
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        patients = set(pool.map(send, range(SENDERS)))
    assert len(patients) == 1
    assert Patient.objects.count() == 1


def test_a_patients_download_and_erasure_take_their_links_and_the_texts_no_request_holds():
    staff = UserFactory()
    early = inbound_text_receive(
        provider_sid="SM" + "a" * 32, from_phone="+447400123456", body="Do you open Saturdays?"
    )
    stranger_text = inbound_text_receive(provider_sid="SM" + "b" * 32, from_phone="+447400999888", body="Hello")
    assert early.request_id is None
    first = new_request()
    new_request()
    document = json.loads(patient_export(patient=first.patient_record, actor=staff))
    assert [t["text"] for t in document["texts_without_a_request"]] == ["Do you open Saturdays?"]
    assert {link["request"] for link in document["patient_links"]} >= {first.reference}
    assert document["courses_of_care"] == []
    patient_erase(patient=first.patient_record, actor=staff)
    assert not InboundText.objects.filter(pk=early.pk).exists()
    assert InboundText.objects.filter(pk=stranger_text.pk).exists()
