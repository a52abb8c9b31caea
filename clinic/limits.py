"""A cap on the size of every request body, whatever its content type, before any view or form reads it.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE caps form fields but not uploaded files, and no page of this site takes a
file: a body larger than the biggest real form is refused with 413 at once, instead of being spooled to disk.
"""

from django.conf import settings
from django.shortcuts import render


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.REQUEST_BODY_MAX_BYTES:
            return render(request, "413.html", status=413)
        return self.get_response(request)
