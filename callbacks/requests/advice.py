"""Which advice a patient is given about a request: the one home of the answer, for the confirmation page, the
confirmation e-mail and the pages after the reference.

Staff priority and patient advice differ in one case only: a possible red flag in the patient's own words that
the patient denied when asked again (or has not been asked about yet) keeps a clinician's eyes on the request
but tells the patient nothing new (docs/CLINICAL_SAFETY.md, asked_again_denied). A priority given by a caller
or by staff, above what the answers call for, is advised as given.
"""

from callbacks.models import CallbackRequest, Priority
from intake.selectors import questionnaire_response_advice_priority, questionnaire_response_staff_priority


def request_advice_priority(request: CallbackRequest) -> int:
    """The priority (1 emergency ... 4 routine) whose advice the patient of ``request`` is given."""
    response = request.questionnaire_response
    if response is None or request.priority == Priority.EMERGENCY:
        return request.priority
    if request.priority < questionnaire_response_staff_priority(response=response):
        return request.priority  # raised by a caller or by staff, not by these answers
    return max(request.priority, questionnaire_response_advice_priority(response=response))
