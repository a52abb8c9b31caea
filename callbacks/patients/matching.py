"""The matching rule: when a new request is the same person as a patient the clinic already knows.

- The same phone number (E.164, as every request stores it) and the same name, compared without case and extra
  spaces ("Jane  SMITH" is "jane smith"): the request joins that patient by itself, and its history says so.
- The same phone number only (a family's landline, a typo in a name, a maiden name): nothing is merged. The
  request gets a patient of its own, and its page offers staff the other patient, with "Link" and "Not the same
  person".

The intake asks no date of birth, so it takes no part. The data migration groups the requests stored before
patients existed by the same rule, in SQL (`callbacks.patients.backfill`): keep the two in step.
"""

import re

_SPACES = re.compile(r"\s+")


def name_key(name: str) -> str:
    """The name as the rule compares it: trimmed, inner spaces collapsed to one, lower case."""
    return _SPACES.sub(" ", name.strip()).lower()
