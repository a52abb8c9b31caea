"""Whether a request was screened: the one home of "the safety questions were answered".

A request is screened when it carries an answer set, which holds the safety answers: the patients' own pages ask
them first, and the front desk stores one only when it asked them on the phone. A phone booking without them,
a waitlist booking (the waitlist asks none) and a request from before the questionnaire existed are not
screened: their "Routine" is only the default, not what the answers said, and staff ask the questions
(`callbacks.requests.screening`).
"""

from typing import Any

from django.db.models import Q

NOT_SCREENED = Q(questionnaire_response__isnull=True)


def request_screened(request: Any) -> bool:
    return request.questionnaire_response_id is not None
