"""The change log a record's history page shows, for every app: the newest changes of the record
and of the rows that hang off it (django-simple-history keeps one table per model)."""

from __future__ import annotations

from itertools import chain
from typing import Any

from django.db.models import QuerySet

# A page, not an archive: older changes stay in the tables and in admin.
HISTORY_LIMIT = 200


def history_records(*histories: QuerySet[Any], limit: int = HISTORY_LIMIT) -> list[Any]:
    """The `limit` newest records across `histories`, newest first. Each table is cut at `limit`
    before the merge, so no table is read past what the page can show."""
    return sorted(
        chain.from_iterable(history[:limit] for history in histories),
        key=lambda r: r.history_date,
        reverse=True,
    )[:limit]
