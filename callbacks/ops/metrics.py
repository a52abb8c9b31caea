"""The Prometheus endpoint, /metrics: the operator's figures (`callbacks.ops.figures`), read from the database at
each scrape by a custom collector, so every web process answers the same.

Protected: it exists only when METRICS_TOKEN is set, and answers only a request carrying
``Authorization: Bearer <METRICS_TOKEN>`` (compared in constant time); anything else gets a bare 404, whatever
the host and scheme, as for an address that does not exist. It is answered before host validation and the HTTPS
redirect (like /healthz), so Prometheus can scrape a web process on the internal network by its service name;
nginx never passes it on. Labels are priorities, lanes, queues, receipt statuses and "beat": never a name, a
reference, an answer or a text's words. README.md, "Metrics and alerts" under Operations, lists the metrics and
the alerts.
"""

import hmac
import math

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotFound
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from callbacks.ops.figures import ops_figures
from clinic.admission import turned_away_total
from clinic.heartbeat import BEAT

METRICS_PATH = "/metrics"


def _gauge(name: str, documentation: str, label: str, values: dict) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in values.items():
        family.add_metric([key], value)
    return family


class ClinicCollector(Collector):
    """Yields the figures as gauges; `ops_figures` costs six queries per scrape."""

    def collect(self):
        figures = ops_figures()
        yield _gauge("clinic_requests_open", "Requests not closed, by priority.", "priority", figures.requests_open)
        yield _gauge(
            "clinic_requests_overdue",
            "Requests nobody has reached yet whose response deadline has passed, by priority.",
            "priority",
            figures.requests_overdue,
        )
        yield _gauge(
            "clinic_notifications_pending",
            "Notifications waiting to be sent, by lane.",
            "lane",
            figures.notifications_pending,
        )
        yield _gauge(
            "clinic_notifications_pending_oldest_age_seconds",
            "Age of the oldest notification waiting to be sent, by lane (0 with none waiting).",
            "lane",
            figures.notifications_pending_oldest_age,
        )
        yield _gauge(
            "clinic_notifications_failed",
            "Notifications given up after their last attempt (need a person), by lane.",
            "lane",
            figures.notifications_failed,
        )
        yield _gauge(
            "clinic_staff_alerts_pending_oldest_age_seconds",
            "Age of the oldest staff alert (new request, raised priority, escalation, failed text) of an emergency "
            "or urgent request still waiting to be sent, by priority (0 with none waiting).",
            "priority",
            figures.staff_alerts_pending_oldest_age,
        )
        yield GaugeMetricFamily(
            "clinic_follow_ups_due", "Outcome follow-ups due and not yet sent.", value=figures.follow_ups_due
        )
        yield _gauge(
            "clinic_text_receipts",
            "Delivery receipts stored for the texts sent, by status (each receipt once, however often the provider "
            "sent it).",
            "status",
            figures.text_receipts,
        )
        yield _gauge(
            "clinic_text_receipts_last_hour",
            "Delivery receipts received in the last hour, by status.",
            "status",
            figures.text_receipts_last_hour,
        )
        yield GaugeMetricFamily(
            "clinic_texts_not_delivered_last_hour",
            "Texts the provider reported failed or undelivered in the last hour.",
            value=figures.text_receipts_last_hour["failed"] + figures.text_receipts_last_hour["undelivered"],
        )
        yield GaugeMetricFamily(
            "clinic_texts_from_patients_unread",
            "Texts from patients that nobody has read yet.",
            value=figures.texts_unread,
        )
        yield GaugeMetricFamily(
            "clinic_texts_from_patients_unread_oldest_age_seconds",
            "Age of the oldest text from a patient nobody has read yet (0 with none).",
            value=figures.texts_unread_oldest_age,
        )
        beat = next(item for item in figures.heartbeats if item.source == BEAT)
        yield GaugeMetricFamily(
            "clinic_beat_heartbeat_age_seconds",
            "Seconds since beat sent the newest heartbeat a worker ran (+Inf: none yet).",
            value=math.inf if beat.age_seconds is None else beat.age_seconds,
        )
        turned_away = turned_away_total()
        if turned_away is not None:  # not exported while the cache cannot say: a missing figure is no reset to 0
            yield CounterMetricFamily(
                "clinic_new_journeys_turned_away",
                "New patients shown the busy page because the site was too far behind (clinic/admission.py); kept "
                "in the shared cache, so it starts again from 0 when Redis restarts.",
                value=turned_away,
            )
        yield _gauge(
            "clinic_worker_heartbeat_age_seconds",
            "Seconds since a worker of the queue last ran a heartbeat (+Inf: none yet).",
            "queue",
            {
                item.source.removeprefix("worker:"): math.inf if item.age_seconds is None else item.age_seconds
                for item in figures.heartbeats
                if item.source != BEAT
            },
        )


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(ClinicCollector())


def metrics_authorised(header: str) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return False
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


class MetricsMiddleware:
    """Answers /metrics for a request with the token; a 404 to anyone else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path != METRICS_PATH:
            return self.get_response(request)
        if not metrics_authorised(request.headers.get("Authorization", "")):
            # The same bare 404 on any host and over plain HTTP (the site would redirect to HTTPS first).
            return HttpResponseNotFound("Not Found\n", content_type="text/plain")
        return HttpResponse(
            generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"}
        )
