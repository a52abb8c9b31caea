"""Response headers every page gets: a Permissions-Policy, and no caching of anything a patient typed or sees.

Pages carry a patient's answers, contact details and reference (questionnaire steps, the details form with its
errors, confirmations, booking and cancel pages) or a patient's record (the staff admin). A shared computer's
browser cache must not keep them, so every response is `Cache-Control: no-store` unless its view chose its own
caching (WhiteNoise's static files do: their names carry a hash of their content).
"""

from django.conf import settings


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response
