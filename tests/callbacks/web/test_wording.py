"""The remaining wording fixes of issue 24, item 9: an invalid e-mail is told once, the error summary reads the
same and is focused on every form page, and the consent box has a short label with its detail as a hint.
(The call hours hint against the times offered: tests/callbacks/web/test_call_times.py.)"""

import hashlib
import re
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from callbacks.models import CallbackRequest
from callbacks.requests.consent import CURRENT_CONSENT_VERSION, consent_hint, consent_label, consent_text
from callbacks.requests.email_address import EMAIL_NOT_PUBLIC_MESSAGE
from callbacks.requests.followup_links import follow_up_answer_path
from tests.callbacks.booking.test_booking import CONTACT, a_free_slot, answer_all, choose_slot
from tests.callbacks.web.test_forms import form_data
from tests.callbacks.web.test_intake_flow import complete_questionnaire, post_step, prepare_link, send_request
from tests.callbacks.web.test_redflag_recheck import CAUDA_EQUINA_WORDS, answer_every_step
from tests.factories import FollowUpFactory

pytestmark = pytest.mark.django_db


def errors_next_to(html: str, field_id: str) -> list[str]:
    """The messages shown with a field (crispy's invalid-feedback block tied to it), not those of the summary."""
    return re.findall(rf'<[^>]*id="error_\d+_{field_id}"[^>]*>\s*<strong>([^<]+)</strong>', html)


@pytest.mark.parametrize(
    "address", ["alex", "alex@", "@example.com", "alex@@example.com", "alex@localhost", "alex@[127.0.0.1]", "a b@c.d"]
)
def test_an_invalid_e_mail_is_told_once(client, address):
    page = client.post(complete_questionnaire(client), form_data(email=address))
    assert page.status_code == 200
    assert page.context["form"].errors["email"] == [EMAIL_NOT_PUBLIC_MESSAGE]
    html = page.content.decode()
    assert errors_next_to(html, "id_email") == [EMAIL_NOT_PUBLIC_MESSAGE]
    # Once beside the box and once, as a link to it, in the summary at the top.
    assert html.count(EMAIL_NOT_PUBLIC_MESSAGE) == 2
    assert not CallbackRequest.objects.exists()


def test_a_good_e_mail_is_kept(client, django_capture_on_commit_callbacks):
    request, _ = send_request(client, django_capture_on_commit_callbacks, email="  alex@example.com ")
    assert request.email == "alex@example.com"


def summary_of(html: str) -> str:
    start = html.index('id="error-summary"')
    return html[html.rindex("<div", 0, start) : html.index("</div>", start)]


@pytest.fixture
def form_pages_with_bad_input(client, django_capture_on_commit_callbacks, service, practitioner) -> dict[str, str]:
    """Every public page with a form, each sent with something wrong: {page: HTML}."""
    pages = {}
    pages["question step"] = client.post(reverse("callbacks:request"), {}).content.decode()
    pages["details"] = client.post(complete_questionnaire(client), form_data(phone="12")).content.decode()
    _, confirmation = send_request(client, django_capture_on_commit_callbacks)
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        pages["prepare step"] = post_step(
            client, f"{prepare_link(confirmation)}when/", {"duration": "under_1_week"}
        ).content.decode()
    checking = Client()
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        check_url = answer_every_step(checking, {"treatment": {"anything_else": CAUDA_EQUINA_WORDS}})["Location"]
        pages["prepare quick check"] = checking.post(check_url, {}).content.decode()
    booking = Client()
    details_url = answer_all(booking, choose_slot(booking, service, a_free_slot(service)))
    pages["booking details"] = booking.post(details_url, {**CONTACT, "email": "alex@"}).content.decode()
    join = reverse("callbacks:waitlist_join", kwargs={"service": service.pk})
    pages["waitlist"] = Client().post(join, {**CONTACT, "email": ""}).content.decode()
    pages["follow-up"] = Client().post(follow_up_answer_path(FollowUpFactory()), {}).content.decode()
    return pages


def test_every_form_page_sent_with_bad_input_has_the_one_focused_error_summary(form_pages_with_bad_input):
    assert len(form_pages_with_bad_input) == 7
    for page, html in form_pages_with_bad_input.items():
        assert html.count('id="error-summary"') == 1, page
        summary = summary_of(html)
        assert '<h2 class="h5">There is a problem</h2>' in summary, page
        opening_tag = summary.split(">", 1)[0]
        assert "autofocus" in opening_tag and 'tabindex="-1"' in opening_tag and 'role="alert"' in opening_tag, page
        # Each error in it is a link to its field.
        assert re.search(r'<li><a class="alert-link" href="#[^"]+">', summary), page
        assert "Please check the form" not in html, page


def test_the_consent_box_has_a_short_label_and_its_detail_as_a_hint(client, django_capture_on_commit_callbacks):
    html = client.get(complete_questionnaire(client)).content.decode()
    box = re.search(r'<input type="checkbox" name="consent"[^>]*>', html).group(0)
    label = re.search(r'<label[^>]*for="id_consent"[^>]*>\s*(.*?)\s*(?:<span|</label>)', html, re.S).group(1)
    assert label == consent_label() == "I agree that the clinic may keep and use what I tell it here."
    assert len(label.split()) <= 15
    described_by = re.search(r'aria-describedby="([^"]+)"', box).group(1).split()
    hints = [re.search(rf'id="{ident}"[^>]*>(.*?)</', html, re.S) for ident in described_by]
    assert any(hint and consent_hint() in hint.group(1) for hint in hints)
    assert "privacy notice" in html
    # What the patient agreed to, label and hint, is what is stored.
    request, _ = send_request(client, django_capture_on_commit_callbacks)
    assert request.consent_version == CURRENT_CONSENT_VERSION
    assert consent_text() == f"{consent_label()} {consent_hint()}"
    assert request.consent_text_sha256 == hashlib.sha256(consent_text().encode()).hexdigest()
