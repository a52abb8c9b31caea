"""Issue 26 item 8: a request's page opens on the work (contact, appointment, call log, status) with the
questionnaire folded below on a phone, and an action comes back to the section it was done in, with its result
there; a refused action shows the error summary at the top."""

import pytest
from django.urls import reverse

from tests.callbacks.admin.test_admin_triage import (  # noqa: F401 - fixtures
    change_url,
    emergency_request,
    triage_client,
    triage_user,
    workflow_url,
)

pytestmark = pytest.mark.django_db


def test_the_work_comes_before_the_answers_and_the_answers_fold(triage_client, emergency_request):  # noqa: F811
    html = triage_client.get(change_url(emergency_request)).content.decode()
    assert html.index('id="act-call"') < html.index('id="questionnaire"')
    assert html.index('href="tel:+447700900123"') < html.index('id="questionnaire"')
    assert '<details class="intake-answers-fold" open data-fold-narrow>' in html
    assert "callbacks/admin/request_page.js" in html


@pytest.mark.parametrize(
    ("action", "data", "anchor"),
    [
        ("call", {"call-outcome": "voicemail", "call-note": "Left a message"}, "act-call"),
        ("note", {"note-text": "Prefers mornings."}, "act-note"),
        ("assign_me", {}, "act-assign"),
    ],
)
def test_an_action_comes_back_to_its_section_with_its_result_there(
    triage_client,  # noqa: F811
    emergency_request,  # noqa: F811
    action,
    data,
    anchor,
):
    response = triage_client.post(workflow_url(emergency_request, action), data)
    assert response.status_code == 302
    assert response["Location"] == f"{change_url(emergency_request)}?done={action}#{anchor}"
    page = triage_client.get(response["Location"]).content.decode()
    section = page[page.index(f'id="{anchor}"') :]
    assert 'class="triage-done" role="status"' in section[: section.index("</form>")]


def test_a_refused_action_shows_the_error_summary_at_the_top(triage_client, emergency_request):  # noqa: F811
    response = triage_client.post(workflow_url(emergency_request, "note"), {"note-text": ""})
    html = response.content.decode()
    assert response.status_code == 200
    summary = html.index('id="error-summary"')
    assert summary < html.index('aria-label="Request summary"')
    assert 'href="#id_note-text"' in html[summary:]
    assert reverse("admin:index")  # the page is still the admin's
