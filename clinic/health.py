from django.db import DatabaseError, connection
from django.http import JsonResponse

from clinic.heartbeat import BEAT, liveness


class HealthCheckMiddleware:
    """Answers `/healthz` before host validation and the HTTPS redirect, for container health checks.

    200 whenever the database answers, even with beat or a worker stopped: load balancers and compose take a
    web process out on a failed check, and a stopped worker is not cured by that. The JSON says what runs:
    ``{"status": "ok", "database": "ok", "beat": {"state": "ok", "age_seconds": 12}, "workers": {"urgent":
    {...}, "routine": {...}}}``, each state "ok", "stale" or "never" (`clinic.heartbeat`). 503 without the
    database. One query (the heartbeat's, which proves the database too). No patient data, ever.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != "/healthz":
            return self.get_response(request)
        try:
            report = liveness()
        except DatabaseError:
            report = None
        if report is None and not database_answers():
            return JsonResponse({"status": "unavailable", "database": "unavailable"}, status=503)
        body = {"status": "ok", "database": "ok"}
        # No report with a database that answers: the heartbeat table is not there yet (a deploy before its
        # migration); the site itself works.
        for item in report or ():
            state = {"state": item.state, "age_seconds": None if item.age_seconds is None else round(item.age_seconds)}
            if item.source == BEAT:
                body["beat"] = state
            else:
                body.setdefault("workers", {})[item.source.removeprefix("worker:")] = state
        return JsonResponse(body, headers={"Cache-Control": "no-store"})


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means "unhealthy", nothing more to say here
        return False
    return True
