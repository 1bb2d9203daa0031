"""The paginators every list uses (django-tables2 `table_pagination` / `RequestConfig`).

django-tables2 takes the page size from the query string (?per_page=): bounded here, so that
?per_page=-1 is not a 500 (negative page count) and ?per_page=100000000 does not render a whole
province on one page.
"""

from __future__ import annotations

import django_tables2 as tables
from django.core.paginator import EmptyPage, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

MAX_PER_PAGE = 200


def _bounded(per_page) -> int:
    return min(max(int(per_page), 1), MAX_PER_PAGE)


# The page number comes from the query string too (?page=99999999999999999999): its OFFSET must
# fit PostgreSQL's bigint, or the query fails with "bigint out of range" (a 500). No list has
# anywhere near this many pages; a number beyond it is an empty page (the tables show page 1).
MAX_OFFSET = 2**31


def _page_in_range(number: int, per_page: int) -> int:
    if (number - 1) * per_page > MAX_OFFSET:
        raise EmptyPage(_("页码超出范围。"))
    return number


class BoundedPaginator(Paginator):
    """Django's paginator with the page size clamped to 1..MAX_PER_PAGE."""

    def __init__(self, object_list, per_page, *args, **kwargs):
        super().__init__(object_list, _bounded(per_page), *args, **kwargs)

    def validate_number(self, number):
        return _page_in_range(super().validate_number(number), self.per_page)


class BoundedLazyPaginator(tables.LazyPaginator):
    """django-tables2's LazyPaginator (no COUNT over millions) with the same bounded page size
    and page number: it never counts, so nothing but this bound stops an absurd OFFSET."""

    def __init__(self, object_list, per_page, *args, **kwargs):
        super().__init__(object_list, _bounded(per_page), *args, **kwargs)

    def validate_number(self, number):
        return _page_in_range(super().validate_number(number), self.per_page)


class CappedCountPaginator(Paginator):
    """For Django admin lists over millions of rows (contacts): counts at most COUNT_CAP rows, as
    COUNT(*) over a LIMITed subquery that stops early, instead of counting the whole table on
    every page (5.0 s → 0.4 s at province scale). Past the cap the admin offers filters and
    search, not page 5,000."""

    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            return self.object_list.order_by()[: self.COUNT_CAP].count()
        return min(len(self.object_list), self.COUNT_CAP)
