import pytest
from django.conf import settings
from django.urls import reverse

from callbacks.models import Notification, PrivacyLogEntry
from intake.models import QuestionnaireResponse
from tests.factories import CallbackRequestFactory, NotificationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:callbacks_callbackrequest_changelist")


@pytest.fixture
def requests_in_queue():
    return [
        CallbackRequestFactory(reference="CB-AAAA1", name="Priya Shah", phone="+447400123456"),
        CallbackRequestFactory(reference="CB-BBBB2", name="Tom Jones", phone="+447400654321"),
    ]


def references_listed(response):
    return {row.reference for row in response.context["cl"].result_list}


def test_list_shows_reference_status_and_the_callers_columns(admin_client, requests_in_queue):
    response = admin_client.get(CHANGELIST)
    html = response.content.decode()
    assert references_listed(response) == {"CB-AAAA1", "CB-BBBB2"}
    assert "column-status" in html
    # When a request arrived is on its page and in the "By created at" filter; the row has the phone instead.
    assert "column-phone_link" in html and "column-created_at" not in html
    assert 'data-filter-title="created at"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("CB-AAAA1", {"CB-AAAA1"}),
        ("priya", {"CB-AAAA1"}),
        ("07400 654321", {"CB-BBBB2"}),
        ("+44 7400 654321", {"CB-BBBB2"}),
        ("+447400123456", {"CB-AAAA1"}),
        ("nobody", set()),
    ],
)
def test_search_by_reference_name_or_phone_as_typed(admin_client, requests_in_queue, query, expected):
    response = admin_client.get(CHANGELIST, {"q": query})
    assert references_listed(response) == expected


def test_request_page_shows_its_notifications(admin_client):
    notification = NotificationFactory(status="failed", last_error="SMTP 550", attempts=1)
    response = admin_client.get(reverse("admin:callbacks_callbackrequest_change", args=[notification.request.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "SMTP 550" in html


def test_failed_notifications_resend_action_reports_what_it_did(admin_client, django_capture_on_commit_callbacks):
    failed = NotificationFactory(status="failed")
    pending = NotificationFactory()
    with django_capture_on_commit_callbacks():
        response = admin_client.post(
            reverse("admin:callbacks_notification_changelist"),
            {"action": "resend_failed", "_selected_action": [failed.pk, pending.pk]},
            follow=True,
        )
    text = response.content.decode()
    assert "Queued 1 notification(s) again." in text
    assert "Skipped 1 that had not failed." in text
    failed.refresh_from_db()
    assert failed.status == "pending"


# Pages with a patient's details or answers: logged, or not there (security review, finding 2)


def test_the_outbox_never_shows_a_patients_address(admin_client):
    address = "quill.xavierson@example.com"
    to_patient = NotificationFactory(
        kind=Notification.Kind.PATIENT_CONFIRMATION,
        recipient=address,
        status="failed",
        last_error=f"SMTPRecipientsRefused: {{'{address}': (550, b'No such user')}}",
    )
    to_staff = NotificationFactory(recipient="frontdesk@clinic.test")
    for url in (
        reverse("admin:callbacks_notification_changelist"),
        reverse("admin:callbacks_notification_changelist") + "?status__exact=failed",
        reverse("admin:callbacks_notification_change", args=[to_patient.pk]),
    ):
        html = admin_client.get(url).content.decode()
        assert address not in html, url
        assert "xavierson" not in html.lower(), url
    listing = admin_client.get(reverse("admin:callbacks_notification_changelist")).content.decode()
    assert "The patient" in listing
    assert to_staff.recipient in listing
    assert "SMTPRecipientsRefused" in listing  # the error itself stays readable
    assert not PrivacyLogEntry.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "intake/questionnaireresponse/",
        "intake/questionnaireresponse/?tier__exact=emergency",
        "intake/questionnaireresponse/{pk}/change/",
    ],
)
def test_answers_have_no_admin_page_of_their_own(admin_client, path):
    """The answers are shown on the request's page only, which writes the privacy log."""
    response = QuestionnaireResponse.objects.create(
        questionnaire="back-pain", definition_version=1, tier="emergency", is_complete=True
    )
    page = admin_client.get(f"/{settings.ADMIN_URL_PATH}" + path.format(pk=response.pk))
    assert page.status_code == 404
    assert "Questionnaire responses" not in admin_client.get(reverse("admin:index")).content.decode()


# Only the filters each list offers (security review, finding 9)


@pytest.mark.parametrize(
    "query",
    [
        "name__regex=%5B",
        "reason__regex=back",
        "phone__startswith=%2B44",
        "email__contains=%40",
        "priority__regex=1",
        "assigned_to__password__startswith=pbkdf2",
    ],
)
def test_the_queue_refuses_lookups_it_does_not_offer(admin_client, requests_in_queue, query):
    response = admin_client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "priority__exact=1",
        "status=all",
        "overdue=yes",
        "assigned=me",
        "created_at__gte=2026-01-01T00:00:00%2B00:00&created_at__lt=2030-01-01T00:00:00%2B00:00",
        "q=Priya",
    ],
)
def test_the_queues_own_filters_still_work(admin_client, requests_in_queue, query):
    assert admin_client.get(f"{CHANGELIST}?{query}").status_code == 200


@pytest.mark.parametrize(
    ("name", "refused", "offered"),
    [
        ("callbacks_notification", "recipient__contains=%40", "status__exact=failed"),
        ("callbacks_appointment", "request__reason__regex=.", "status__exact=requested"),
        ("callbacks_privacylogentry", "reference__regex=%5B", "action__exact=viewed"),
    ],
)
def test_other_lists_allow_only_their_filters(admin_client, name, refused, offered):
    changelist = reverse(f"admin:{name}_changelist")
    assert admin_client.get(f"{changelist}?{refused}").status_code == 400
    assert admin_client.get(f"{changelist}?{offered}").status_code == 200
