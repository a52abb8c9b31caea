"""deploy/prometheus/alerts.yml, checked without promtool (not on this machine, and PyPI has none): every rule is
complete, reads metrics that /metrics exports, and fires on the figures it is meant for, evaluated against a
real scrape of seeded rows."""

import datetime as dt
import operator
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from callbacks.models import InboundText, Notification, Priority, TextReceipt
from clinic.admission import turned_away_count
from clinic.models import Heartbeat
from tests.factories import CallbackRequestFactory, NotificationFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
TOKEN = "scrape-token"
NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)
# Metrics that Prometheus makes itself, not the endpoint.
PROMETHEUS_OWN = {"up"}
# The shape every rule on our metrics has: max [by (label)] (metric{name="value"}) OP number, where a counter is
# read as increase(metric[window]).
RULE = re.compile(
    r"^max(?: by \((?P<by>\w+)\))? ?\((?P<increase>increase\()?(?P<metric>\w+)"
    r"(?:\{(?P<name>\w+)=\"(?P<value>\w+)\"\})?(?(increase)\[\d+[smh]\]\))\) "
    r"(?P<op>>=|>|==) (?P<threshold>[\d.]+)$"
)
OPERATORS = {">": operator.gt, ">=": operator.ge, "==": operator.eq}


def rules():
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def rule(name):
    return next(r for r in rules() if r["alert"] == name)


@pytest.fixture
def scrape(client, settings, monkeypatch):
    settings.METRICS_TOKEN = TOKEN
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)

    def scrape():
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        return list(text_string_to_metric_families(response.content.decode()))

    return scrape


def firing(name, families, *, window_start=None) -> set:
    """The label values (or {None}) for which the rule's expression holds on this scrape; a rule on a counter's
    increase compares it with the scrape `window_start` (the start of the rule's window)."""
    match = RULE.match(rule(name)["expr"])
    assert match, f"{name}: the test cannot read this expression"
    assert bool(match["increase"]) == (window_start is not None), f"{name}: give the window's first scrape"
    compare = OPERATORS[match["op"]]
    groups = _samples(match, families)
    if window_start is not None:
        earlier = _samples(match, window_start)
        groups = {key: value - earlier.get(key, 0) for key, value in groups.items()}
    return {key for key, value in groups.items() if compare(value, float(match["threshold"]))}


def _samples(match, families) -> dict:
    groups: dict = {}
    for family in families:
        for sample in family.samples:
            if sample.name != match["metric"]:
                continue
            if match["name"] and sample.labels.get(match["name"]) != match["value"]:
                continue
            key = sample.labels.get(match["by"]) if match["by"] else None
            groups[key] = max(groups.get(key, float("-inf")), sample.value)
    return groups


def test_the_rules_the_issue_asks_for_are_there():
    assert {r["alert"] for r in rules()} >= {
        "EmergencyNotNotified",
        "OutboxOlderThan10Minutes",
        "BeatSilent",
        "WorkerSilent",
    }


def test_every_rule_is_complete_and_reads_an_exported_metric(scrape):
    # A counter's family is named without the _total its sample carries.
    exported = {sample.name for family in scrape() for sample in family.samples}
    for r in rules():
        assert set(r) == {"alert", "expr", "for", "labels", "annotations"}, r["alert"]
        assert re.fullmatch(r"\d+[smh]", r["for"]), r["alert"]
        assert r["labels"]["severity"] in {"page", "ticket"}, r["alert"]
        assert r["annotations"]["summary"] and r["annotations"]["description"], r["alert"]
        named = set(re.findall(r"\b(clinic_\w+|up)\b", r["expr"]))
        assert named, f"{r['alert']} reads no metric"
        assert named <= exported | PROMETHEUS_OWN, f"{r['alert']} reads {named - exported} that /metrics lacks"
        if not named <= PROMETHEUS_OWN:
            assert RULE.match(r["expr"]), f"{r['alert']}: a new shape of rule; teach this test to evaluate it"


def test_emergency_not_notified_fires_at_two_minutes(scrape):
    emergency = CallbackRequestFactory(priority=Priority.EMERGENCY)
    alert = NotificationFactory(request=emergency, created_at=NOW - dt.timedelta(seconds=119))
    # An urgent request's alert, however old, is not an emergency's.
    NotificationFactory(
        request=CallbackRequestFactory(priority=Priority.URGENT), created_at=NOW - dt.timedelta(minutes=30)
    )
    assert firing("EmergencyNotNotified", scrape()) == set()

    Notification.objects.filter(pk=alert.pk).update(created_at=NOW - dt.timedelta(seconds=120))
    assert firing("EmergencyNotNotified", scrape()) == {None}

    Notification.objects.filter(pk=alert.pk).update(status="sent", sent_at=NOW)
    assert firing("EmergencyNotNotified", scrape()) == set()


def test_outbox_older_than_ten_minutes_fires_per_lane(scrape):
    routine = NotificationFactory(
        request=CallbackRequestFactory(priority=Priority.ROUTINE), created_at=NOW - dt.timedelta(minutes=10)
    )
    NotificationFactory(
        request=CallbackRequestFactory(priority=Priority.URGENT), created_at=NOW - dt.timedelta(minutes=9)
    )
    assert firing("OutboxOlderThan10Minutes", scrape()) == set()

    Notification.objects.filter(pk=routine.pk).update(created_at=NOW - dt.timedelta(minutes=10, seconds=1))
    assert firing("OutboxOlderThan10Minutes", scrape()) == {"routine"}


def test_beat_and_worker_silent(scrape):
    fresh = NOW - dt.timedelta(seconds=30)
    Heartbeat.objects.create(source="beat", at=fresh)
    Heartbeat.objects.create(source="worker:urgent", at=fresh)
    Heartbeat.objects.create(source="worker:routine", at=fresh)
    assert firing("BeatSilent", scrape()) == set()
    assert firing("WorkerSilent", scrape()) == set()

    Heartbeat.objects.filter(source__in=["beat", "worker:routine"]).update(at=NOW - dt.timedelta(minutes=5))
    assert firing("BeatSilent", scrape()) == {None}
    assert firing("WorkerSilent", scrape()) == {"routine"}

    Heartbeat.objects.filter(source="worker:urgent").delete()  # never seen: +Inf
    assert firing("WorkerSilent", scrape()) == {"routine", "urgent"}


def test_emergency_overdue(scrape):
    CallbackRequestFactory(priority=Priority.URGENT, deadline=NOW - dt.timedelta(hours=1))
    CallbackRequestFactory(priority=Priority.EMERGENCY, deadline=NOW + dt.timedelta(minutes=1))
    assert firing("EmergencyOverdue", scrape()) == set()
    CallbackRequestFactory(priority=Priority.EMERGENCY, deadline=NOW - dt.timedelta(minutes=1))
    assert firing("EmergencyOverdue", scrape()) == {None}


def test_texts_not_delivered_fires_at_five_in_the_last_hour(scrape):
    def receipt(n, status, minutes_ago):
        TextReceipt.objects.create(
            provider_message_id=f"SM{n:032x}", status=status, received_at=NOW - dt.timedelta(minutes=minutes_ago)
        )

    for n in range(4):
        receipt(n, "failed" if n % 2 else "undelivered", 30)
    receipt(10, "failed", 90)  # over an hour ago
    receipt(11, "delivered", 5)
    assert firing("TextsNotDelivered", scrape()) == set()
    receipt(12, "undelivered", 1)
    assert firing("TextsNotDelivered", scrape()) == {None}


def test_patient_text_unread_fires_after_an_hour(scrape):
    text = InboundText.objects.create(
        provider_sid="SM" + "1" * 32,
        from_phone="+447400123456",
        intent="other",
        outcome="for_staff",
        received_at=NOW - dt.timedelta(minutes=59),
    )
    assert firing("PatientTextUnread", scrape()) == set()
    InboundText.objects.filter(pk=text.pk).update(received_at=NOW - dt.timedelta(minutes=61))
    assert firing("PatientTextUnread", scrape()) == {None}
    InboundText.objects.filter(pk=text.pk).update(seen_at=NOW)
    assert firing("PatientTextUnread", scrape()) == set()


def test_patients_turned_away_fires_at_ten_in_its_window(scrape):
    window_start = scrape()
    for _ in range(9):
        turned_away_count()
    assert firing("PatientsTurnedAway", scrape(), window_start=window_start) == set()
    turned_away_count()
    assert firing("PatientsTurnedAway", scrape(), window_start=window_start) == {None}


def test_the_example_scrape_configuration_loads_these_rules_with_the_token():
    config = yaml.safe_load((ALERTS.parent / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "clinic"  # the job ClinicMetricsDown watches
    assert 'job="clinic"' in rule("ClinicMetricsDown")["expr"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
