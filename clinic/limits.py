"""A cap on the size of every request body, whatever its content type, before any view or form reads it.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE caps form fields but not uploaded files, and no page of this site takes a
file: a body larger than the biggest real form is refused with 413 at once, instead of being spooled to disk.

A body sent in chunks (``Transfer-Encoding: chunked``, no Content-Length) has no size to check beforehand. nginx
reads such a body whole and passes it on with a Content-Length, but gunicorn reached directly hands it on as a
stream that Django would take for empty. Here it is read, counting, up to the cap: one byte more and the answer
is 413 with the rest unread; otherwise the request reads what arrived, like any other body.
"""

import io

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.shortcuts import render

READ_BLOCK_BYTES = 64 * 1024


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.REQUEST_BODY_MAX_BYTES
        if _streamed_without_length(request):
            received = _read_at_most(request.environ["wsgi.input"], limit + 1)
            if len(received) > limit:
                return render(request, "413.html", status=413)
            # Django took the body for empty (no Content-Length): it reads what arrived instead.
            request.META["CONTENT_LENGTH"] = str(len(received))
            request._stream = LimitedStream(io.BytesIO(received), len(received))
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return render(request, "413.html", status=413)
        return self.get_response(request)


def _streamed_without_length(request) -> bool:
    return (
        not request.META.get("CONTENT_LENGTH") and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
    )


def _read_at_most(stream, size: int) -> bytes:
    received = bytearray()
    while len(received) < size:
        block = stream.read(min(READ_BLOCK_BYTES, size - len(received)))
        if not block:
            break
        received += block
    return bytes(received)
