"""How a patient submits a callback request, as one function the benchmark times.

When the request flow changes, only this module changes: bench/run.py times the response that
`submit_callback_request` returns (the final POST) and reads the reference the patient is shown with
`shown_reference`. The walk through the questionnaire is the end-to-end tests' own
(PatientBrowser.request_callback, answers that raise no flag: a routine request).
"""

import itertools
import random
import re

import requests

from tests.callbacks.web.test_forms import form_data
from tests.support.stack import PatientBrowser

REFERENCE = re.compile(r'id="reference">(CB-[0-9A-Z]+)<')
# A different (valid UK mobile) number for each submission, so that a limit per phone number is not what is timed.
_PHONE_NUMBERS = itertools.count(random.randrange(100_000, 800_000))


def submit_callback_request(browser: PatientBrowser) -> requests.Response:
    """Answer every questionnaire step, then send the contact details; the response of that final POST."""
    return browser.request_callback(form_data(phone=f"07400 {next(_PHONE_NUMBERS):06d}"))


def shown_reference(browser: PatientBrowser, response: requests.Response) -> str:
    """The reference the patient is shown after a successful submission."""
    assert response.status_code == 302, f"submission refused: {response.status_code}\n{response.text[:2000]}"
    page = browser.get(response.headers["Location"])
    match = REFERENCE.search(page.text)
    assert match, f"no reference on the confirmation page\n{page.text[:2000]}"
    return match.group(1)
