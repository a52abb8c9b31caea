"""The site's error pages, without the CSRF check Django's own handlers run first.

Django's default handlers carry `requires_csrf_token`, which runs the CSRF middleware again and so reads the
request body again. A body Django refuses to read (a form in latin-1 or UTF-16: only UTF-8 is allowed) then raises
inside the 400 handler, and once more inside the 500 handler: a 500 for anyone. None of these pages has a form, so
they need no token.
"""

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def bad_request(request, exception):
    return render(request, "400.html", status=400)


def permission_denied(request, exception):
    return render(request, "403.html", status=403)


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def server_error(request):
    # No request context: whatever failed (the database, a context processor) must not fail this page too.
    return HttpResponseServerError(loader.get_template("500.html").render())
