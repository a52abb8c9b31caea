"""How a patient submits a callback request, as functions the benchmarks time.

When the request flow changes, only this module changes: bench/run.py times the response that
`submit_callback_request` returns (the final POST) and reads the reference the patient is shown with
`shown_reference`. The walk through the questionnaire is the end-to-end tests' own
(PatientBrowser.request_callback, answers that raise no flag: a routine request): the short path, the safety
questions then the details. bench/patient_time.py times `home_to_reference`.
"""

import itertools
import random
import re
import time

import requests

from tests.callbacks.web.test_forms import form_data
from tests.support.questionnaire import NO_RED_FLAGS, SCREENING_STEPS, step_data
from tests.support.stack import PatientBrowser

REFERENCE = re.compile(r'id="reference">(CB-[0-9A-Z]+)<')
# A different (valid UK mobile) number for each submission, so that a limit per phone number is not what is timed.
_PHONE_NUMBERS = itertools.count(random.randrange(100_000, 800_000))


def submit_callback_request(browser: PatientBrowser) -> requests.Response:
    """Answer every questionnaire step, then send the contact details; the response of that final POST."""
    return browser.request_callback(form_data(phone=f"07400 {next(_PHONE_NUMBERS):06d}"))


HREF = re.compile(r'href="([^"]+)"[^>]*>\s*Request a callback')


def home_to_reference(browser: PatientBrowser) -> tuple[float, int, str]:
    """A scripted patient from the home page to a reference, as a browser fetches the pages (each form page is
    loaded, then sent): the seconds it took, the form pages sent and the reference shown."""
    started = time.perf_counter()
    home = browser.get("/")
    assert home.status_code == 200, home.status_code
    path = HREF.search(home.text).group(1)
    posts = 0
    for step in SCREENING_STEPS:
        response = browser.post_form(path, step_data(NO_RED_FLAGS[step]))
        posts += 1
        assert response.status_code == 302, f"{step}: {response.status_code}"
        path = response.headers["Location"]
    response = browser.post_form(path, form_data(phone=f"07400 {next(_PHONE_NUMBERS):06d}"))
    posts += 1
    reference = shown_reference(browser, response)
    return time.perf_counter() - started, posts, reference


def shown_reference(browser: PatientBrowser, response: requests.Response) -> str:
    """The reference the patient is shown after a successful submission."""
    assert response.status_code == 302, f"submission refused: {response.status_code}\n{response.text[:2000]}"
    page = browser.get(response.headers["Location"])
    match = REFERENCE.search(page.text)
    assert match, f"no reference on the confirmation page\n{page.text[:2000]}"
    return match.group(1)
