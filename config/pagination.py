"""The paginators every list uses (django-tables2 `table_pagination` / `RequestConfig`).

django-tables2 takes the page size from the query string (?per_page=): bounded here, so that
?per_page=-1 is not a 500 (negative page count) and ?per_page=100000000 does not render a whole
province on one page.
"""

from __future__ import annotations

import django_tables2 as tables
from django.core.paginator import Paginator

MAX_PER_PAGE = 200


def _bounded(per_page) -> int:
    return min(max(int(per_page), 1), MAX_PER_PAGE)


class BoundedPaginator(Paginator):
    """Django's paginator with the page size clamped to 1..MAX_PER_PAGE."""

    def __init__(self, object_list, per_page, *args, **kwargs):
        super().__init__(object_list, _bounded(per_page), *args, **kwargs)


class BoundedLazyPaginator(tables.LazyPaginator):
    """django-tables2's LazyPaginator (no COUNT over millions) with the same bounded page size."""

    def __init__(self, object_list, per_page, *args, **kwargs):
        super().__init__(object_list, _bounded(per_page), *args, **kwargs)
