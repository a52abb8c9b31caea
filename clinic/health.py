from django.db import connection
from django.http import HttpResponse


class HealthCheckMiddleware:
    """Answers `/healthz` before host validation and the HTTPS redirect, for container health checks."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != "/healthz":
            return self.get_response(request)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:  # noqa: BLE001 - any database failure means "unhealthy", nothing more to say here
            return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
        return HttpResponse("ok\n", content_type="text/plain")
