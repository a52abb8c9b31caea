"""The queue's paginator: the whole table's size from PostgreSQL's statistics instead of counting a million rows.

Staff listing every request ("All, closed too", no search, no other filter) see page numbers for the whole table.
Counting it exactly reads every row (or every entry of an index) on each page load: about a third of a second at
a million requests. The number PostgreSQL keeps for its planner (``pg_class.reltuples``, refreshed by autovacuum
and ANALYZE) is close enough to number the pages, and costs one small query whatever the size of the table.

The estimate is used only when the listing's query has no condition at all (so it counts the whole table) and
the table is large; any filter, search or smaller table, and every other database, keeps the exact count. Pages
past the estimate (the table grew since PostgreSQL last looked) still open, with the real rows there.
"""

from django.core.paginator import EmptyPage, Paginator
from django.db import connections
from django.utils.functional import cached_property

# Below this many rows an exact count is quick; above it the estimate is within a few per cent.
ESTIMATE_ABOVE_ROWS = 10_000


def table_row_estimate(queryset) -> int | None:
    """The planner's row estimate of the queryset's table on PostgreSQL, or None (another database, or a table
    never analysed)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    # PostgreSQL 14+ says -1 for a table never vacuumed or analysed.
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


def counts_whole_table(queryset) -> bool:
    """True when counting the queryset counts every row of its table: no condition, no DISTINCT, no slice.

    The queue's joins (the assigned staff member, the questionnaire for the red-flag mark) follow a foreign key
    from each request, so they do not change the number of rows.
    """
    query = queryset.query
    return not query.where and not query.distinct and not query.is_sliced and not query.combinator


class QueuePaginator(Paginator):
    """A paginator whose count is PostgreSQL's estimate for a large, unfiltered listing, exact otherwise."""

    #: True when ``count`` came from the planner's statistics (the admin then says "about").
    estimated = False

    @cached_property
    def count(self) -> int:
        if counts_whole_table(self.object_list):
            estimate = table_row_estimate(self.object_list)
            if estimate is not None and estimate > ESTIMATE_ABOVE_ROWS:
                self.estimated = True
                return estimate
        return super().count

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except EmptyPage:
            # The estimate may be short of the real count: a page past it is asked for and may hold rows.
            if self.estimated and int(number) > 1:
                return int(number)
            raise

    def page(self, number):
        number = self.validate_number(number)
        if not self.estimated:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)
