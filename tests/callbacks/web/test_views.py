import re
from unittest import mock

import pytest
from django.urls import reverse

from callbacks.models import CallbackRequest, Notification
from tests.callbacks.web.test_forms import form_data
from tests.callbacks.web.test_intake_flow import complete_questionnaire

pytestmark = pytest.mark.django_db


def test_form_page_shows_every_field_with_a_label(client):
    response = client.get(complete_questionnaire(client))
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("name", "phone", "email", "preferred_date", "preferred_time", "reason", "consent"):
        assert f'for="id_{field}"' in html
    assert 'name="consent"' in html
    assert "checked" not in re.search(r'<input[^>]*name="consent"[^>]*>', html).group(0)


def test_submit_saves_the_request_queues_its_notification_and_shows_the_reference(
    client, django_capture_on_commit_callbacks
):
    contact_url = complete_questionnaire(client)
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(contact_url, form_data(email="alex@example.com"))
    assert response.status_code == 302
    request = CallbackRequest.objects.get()
    assert request.phone == "+447400123456"
    assert request.consent_version
    assert re.fullmatch(r"CB-[0-9A-HJKMNP-TV-Z]{5}", request.reference)
    notifications = list(request.notifications.order_by("kind"))
    assert [(n.kind, n.recipient) for n in notifications] == [
        ("patient_confirmation", "alex@example.com"),
        ("staff_new", "frontdesk@clinic.localhost"),
    ]
    # Only ids travel through the broker.
    assert sorted(call.kwargs["args"] for call in apply_async.call_args_list) == sorted([n.pk] for n in notifications)

    done = client.get(response["Location"])
    assert request.reference in done.content.decode()


def test_invalid_submit_saves_nothing_and_shows_the_error_beside_the_field(client):
    response = client.post(complete_questionnaire(client), form_data(phone="12345"))
    assert response.status_code == 200
    assert CallbackRequest.objects.count() == 0
    assert Notification.objects.count() == 0
    html = response.content.decode()
    field_block = re.search(r'<div id="div_id_phone".*?</div>\s*</div>', html, re.S).group(0)
    assert "Enter a phone number we can call" in field_block
    assert 'aria-invalid="true"' in field_block or "is-invalid" in field_block
    # The answers already given are kept.
    assert 'value="Alex Example"' in html


def test_confirmation_page_without_a_request_goes_back_to_the_form(client):
    response = client.get(reverse("callbacks:done"))
    assert response.status_code == 302
    assert response["Location"] == reverse("callbacks:request")


def test_broker_down_still_saves_and_answers(client, django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    contact_url = complete_questionnaire(client)
    with (
        mock.patch("callbacks.tasks.notification_send_task.apply_async", side_effect=OperationalError("down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(contact_url, form_data())
    assert response.status_code == 302
    assert Notification.objects.get().status == Notification.Status.PENDING


def test_oversized_body_is_refused_without_a_server_error(client):
    response = client.post(reverse("callbacks:request"), form_data(reason="z" * 300_000))
    assert response.status_code == 413
    assert CallbackRequest.objects.count() == 0


@pytest.mark.parametrize("path", ["/request-a-callback/abc/", "/request-a-callback/thank-you/1/", "/nope/123abc"])
def test_unknown_urls_are_404_pages(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_non_numeric_admin_id_does_not_fail(admin_client):
    response = admin_client.get("/admin/callbacks/callbackrequest/abc/change/", follow=True)
    assert response.status_code == 200
    assert "doesn\u2019t exist" in response.content.decode()


def test_method_not_allowed_on_the_confirmation_page(client):
    assert client.post(reverse("callbacks:done")).status_code == 405
