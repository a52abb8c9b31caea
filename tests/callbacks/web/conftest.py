import pytest

from tests.callbacks.web.test_intake_flow import prepare_link, send_request


@pytest.fixture
def sent(client, django_capture_on_commit_callbacks):
    """A routine request sent on the short path: (request, link to the rest of the questionnaire)."""
    request, confirmation = send_request(client, django_capture_on_commit_callbacks, email="alex@example.com")
    return request, prepare_link(confirmation)
