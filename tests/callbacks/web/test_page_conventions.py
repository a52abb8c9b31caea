"""What every public page of the journey does alike (issue 24): the send button is the form's default button
(Enter or a phone's Go key sends), every emergency, urgent and clinic number is a tap-to-call link, and the
error summary reads the same everywhere."""

from html.parser import HTMLParser
from unittest import mock

import pytest
from django.urls import reverse

from tests.callbacks.web.test_forms import form_data
from tests.callbacks.web.test_intake_flow import (
    complete_questionnaire,
    post_step,
    prepare_link,
    prepare_step_url,
    send_request,
)
from tests.support.questionnaire import NO_RED_FLAGS

pytestmark = pytest.mark.django_db


class _Reader(HTMLParser):
    """Each form's submit buttons in source order, and every tel: link with its text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[list[dict[str, str | None]]] = []
        self.tel_links: list[tuple[str, str]] = []
        self._tel: str | None = None
        self._tel_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append([])
        elif self.forms and tag in {"button", "input"}:
            kind = attributes.get("type") or ("submit" if tag == "button" else "text")
            if kind == "submit":
                self.forms[-1].append(attributes)
        elif tag == "a" and (attributes.get("href") or "").startswith("tel:"):
            self._tel, self._tel_text = attributes["href"], []

    def handle_data(self, data):
        if self._tel is not None:
            self._tel_text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._tel is not None:
            self.tel_links.append((self._tel, "".join(self._tel_text).strip()))
            self._tel = None


def read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    return reader


def _details_page(client) -> str:
    return client.get(complete_questionnaire(client)).content.decode()


def test_the_send_button_is_the_first_submit_of_the_details_form(client):
    forms = [form for form in read(_details_page(client)).forms if form]
    assert len(forms) == 1
    first = forms[0][0]
    # The day's "Show the times" button (for browsers without JavaScript) comes after it in the source.
    assert (first["name"], first["value"]) == ("submit", "Send my request")
    assert [button.get("name") for button in forms[0]].index("show_times") > 0
    # The copy that makes it the default is out of the tab order and hidden from screen readers.
    assert first["tabindex"] == "-1" and first["aria-hidden"] == "true"


def test_the_first_submit_of_each_public_form_is_its_primary_button(client, django_capture_on_commit_callbacks):
    pages = [client.get(reverse("callbacks:request")).content.decode(), client.get(reverse("home")).content.decode()]
    _, confirmation = send_request(client, django_capture_on_commit_callbacks)
    pages.append(client.get(prepare_step_url(prepare_link(confirmation), "when")).content.decode())
    for html in pages:
        for form in read(html).forms:
            if form:
                assert "btn-primary" in (form[0].get("class") or "") or "show_times" not in str(form)


def _tel_hrefs(html: str) -> set[str]:
    return {href for href, _ in read(html).tel_links}


def test_the_inline_emergency_advice_has_a_call_999_button(client, settings):
    settings.CLINIC_EMERGENCY_NUMBER = "112"
    html = client.get(reverse("callbacks:request")).content.decode()
    advice = html[html.index('id="emergency-inline"') : html.index("</div>", html.index('id="emergency-inline"'))]
    assert '<a class="btn btn-light btn-lg emergency-call" href="tel:112">Call 112</a>' in advice
    assert 'Call <a href="tel:112">112</a> now' in advice


def test_the_emergency_page_the_urgent_advice_and_the_done_page_call_their_numbers(
    client, django_capture_on_commit_callbacks
):
    answers = {**NO_RED_FLAGS["safety"], "saddle_numbness": "yes"}
    emergency = client.get(post_step(client, reverse("callbacks:request"), answers)["Location"]).content.decode()
    assert {"tel:999"} <= _tel_hrefs(emergency)
    assert "Call 999</a>" in emergency
    client.cookies.clear()
    urgent = client.get(complete_questionnaire(client, {"health": {"fever": "yes"}})).content.decode()
    assert "tel:111" in _tel_hrefs(urgent)
    _, done = send_request(client, django_capture_on_commit_callbacks)
    assert {"tel:999", "tel:111", "tel:+442079460000"} <= _tel_hrefs(done)


def test_every_error_summary_has_the_one_heading_and_is_focused_on_load(client, django_capture_on_commit_callbacks):
    contact_url = complete_questionnaire(client)
    details = client.post(contact_url, form_data(phone="12")).content.decode()
    step = client.post(reverse("callbacks:request"), {}).content.decode()
    _, confirmation = send_request(client, django_capture_on_commit_callbacks)
    with mock.patch("callbacks.tasks.notification_send_task.apply_async"):
        prepare = post_step(
            client, prepare_step_url(prepare_link(confirmation), "when"), {"duration": "under_1_week"}
        ).content.decode()
    for html in (details, step, prepare):
        assert html.count('id="error-summary"') == 1
        assert '<h2 class="h5">There is a problem</h2>' in html
        assert "Please check your answers" not in html
        summary_tag = html[html.index('<div class="alert alert-warning error-summary"') :].split(">", 1)[0]
        assert "autofocus" in summary_tag
