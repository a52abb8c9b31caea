"""The queue's paginator (callbacks.admin.paging): PostgreSQL's row estimate only for a large, unfiltered listing."""

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from callbacks.admin import paging
from callbacks.admin.paging import QueuePaginator, counts_whole_table, table_row_estimate
from callbacks.models import CallbackRequest
from callbacks.requests.selectors import callback_request_queue
from tests.callbacks.admin.test_admin_triage import CHANGELIST, make_requests, page_text
from tests.factories import CallbackRequestFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def triage_client(client):
    user = UserFactory(username="frontdesk")
    user.groups.add(Group.objects.get(name="Triage staff"))
    client.force_login(user)
    return client


@pytest.fixture
def analysed():
    """ANALYZE the requests table now (its row estimate then counts this test's rows); afterwards the table is
    emptied and analysed again, since PostgreSQL keeps the estimate even when the test's transaction rolls back."""

    def analyse():
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(CallbackRequest._meta.db_table)}")

    yield analyse
    CallbackRequest.objects.all().delete()
    analyse()


def listing(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return response, len(queries)


def stale_estimate(analysed, *, rows: int, deleted: int) -> None:
    """``rows`` requests known to the planner, then ``deleted`` of them removed: the estimate and the exact count
    differ, so a test can tell which one the page used."""
    make_requests(rows)
    analysed()
    doomed = CallbackRequest.objects.order_by("pk").values_list("pk", flat=True)[:deleted]
    CallbackRequest.objects.filter(pk__in=list(doomed)).delete()


def test_only_a_query_without_conditions_counts_the_whole_table():
    assert counts_whole_table(callback_request_queue())
    assert not counts_whole_table(callback_request_queue().open())
    assert not counts_whole_table(callback_request_queue().filter(priority=1))
    assert not counts_whole_table(callback_request_queue().filter(name__icontains="x").distinct())
    assert not counts_whole_table(callback_request_queue().none())


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite pass")
def test_other_databases_always_count_exactly(monkeypatch):
    monkeypatch.setattr(paging, "ESTIMATE_ABOVE_ROWS", 0)
    make_requests(30)
    paginator = QueuePaginator(callback_request_queue(), 10)
    assert table_row_estimate(callback_request_queue()) is None
    assert paginator.count == 30
    assert not paginator.estimated


@pytest.mark.postgres
def test_a_large_unfiltered_listing_takes_the_planners_estimate(triage_client, analysed, monkeypatch):
    monkeypatch.setattr(paging, "ESTIMATE_ABOVE_ROWS", 100)
    stale_estimate(analysed, rows=150, deleted=20)
    assert CallbackRequest.objects.count() == 130

    response, _ = listing(triage_client, status="all")
    cl = response.context["cl"]
    assert cl.paginator.estimated
    assert cl.result_count == 150
    assert "About 150 callback requests" in page_text(response)
    # The rows themselves are the real ones, in the queue's order.
    assert len(cl.result_list) == 50
    last, _ = listing(triage_client, status="all", p=3)
    assert len(last.context["cl"].result_list) == 30


@pytest.mark.postgres
def test_pages_past_a_short_estimate_still_show_their_rows(triage_client, analysed, monkeypatch):
    monkeypatch.setattr(paging, "ESTIMATE_ABOVE_ROWS", 100)
    make_requests(150)
    analysed()
    # The table grows by 60 rows the statistics do not know about yet: 210 real, 150 estimated (3 pages).
    CallbackRequestFactory.create_batch(60)
    assert CallbackRequest.objects.count() == 210
    response, _ = listing(triage_client, status="all", p=5)
    cl = response.context["cl"]
    assert cl.paginator.estimated
    assert cl.paginator.num_pages == 3
    assert len(cl.result_list) == 10
    fourth, _ = listing(triage_client, status="all", p=4)
    assert len(fourth.context["cl"].result_list) == 50
    beyond, _ = listing(triage_client, status="all", p=6)
    assert list(beyond.context["cl"].result_list) == []


@pytest.mark.postgres
@pytest.mark.parametrize(
    "params",
    [
        {},  # the default listing: open requests only
        {"status": "all", "q": "Patient"},
        {"status": "all", "priority__exact": "1"},
        {"status": "all", "overdue": "no"},
        {"status": "all", "assigned": "none"},
    ],
)
def test_filters_and_search_keep_the_exact_count(triage_client, analysed, monkeypatch, params):
    monkeypatch.setattr(paging, "ESTIMATE_ABOVE_ROWS", 100)
    stale_estimate(analysed, rows=150, deleted=20)

    response, _ = listing(triage_client, **params)
    cl = response.context["cl"]
    assert not cl.paginator.estimated
    assert cl.result_count == cl.queryset.count()
    assert not re.search(r"About \d", page_text(response))


@pytest.mark.postgres
def test_a_small_table_keeps_the_exact_count(triage_client, analysed):
    # The real threshold: 150 known rows are far below it.
    stale_estimate(analysed, rows=150, deleted=20)
    assert table_row_estimate(CallbackRequest.objects.all()) == 150

    response, _ = listing(triage_client, status="all")
    cl = response.context["cl"]
    assert not cl.paginator.estimated
    assert cl.result_count == 130


@pytest.mark.postgres
def test_a_table_never_analysed_keeps_the_exact_count(monkeypatch):
    monkeypatch.setattr(paging, "ESTIMATE_ABOVE_ROWS", 0)
    monkeypatch.setattr(paging, "table_row_estimate", lambda queryset: None)
    make_requests(12)
    paginator = QueuePaginator(callback_request_queue(), 10)
    assert paginator.count == 12
    assert not paginator.estimated


@pytest.mark.postgres
def test_listing_everything_costs_the_same_queries_for_10_and_10000_requests(triage_client, analysed):
    make_requests(10)
    analysed()
    small, queries_small = listing(triage_client, status="all")
    assert not small.context["cl"].paginator.estimated
    assert len(small.context["cl"].result_list) == 10

    CallbackRequest.objects.all().delete()
    make_requests(12_000)  # above the real threshold
    analysed()
    large, queries_large = listing(triage_client, status="all", p=100)
    cl = large.context["cl"]
    assert cl.paginator.estimated
    assert cl.result_count == 12_000
    assert len(cl.result_list) == 50
    # A small table asks for the estimate and then counts; a large one only asks: never more as the rows grow.
    assert queries_large == queries_small - 1
    # No COUNT of the table: the number comes from pg_class.
    with CaptureQueriesContext(connection) as queries:
        listing(triage_client, status="all", p=2)
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)
    assert any("RELTUPLES" in query["sql"].upper() for query in queries.captured_queries)
