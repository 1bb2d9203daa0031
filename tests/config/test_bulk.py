from __future__ import annotations

import pytest
from django.db import connection

from config.bulk import indexes_deferred

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0] for row in cursor.fetchall()}


def test_secondary_indexes_are_dropped_during_the_load_and_rebuilt_after():
    table = "contacts_contact"
    before = _indexes(table)
    assert "contact_week_stats_idx" in before
    with indexes_deferred(table):
        during = _indexes(table)
        # Primary key and unique indexes guard the load; the secondary ones are gone.
        assert "contacts_contact_pkey" in during
        assert "contact_one_per_client_key" in during
        assert "contact_week_stats_idx" not in during and "contact_date_idx" not in during
    assert _indexes(table) == before


def test_indexes_come_back_when_the_load_fails():
    table = "contacts_contactyouth"
    before = _indexes(table)
    with pytest.raises(RuntimeError), indexes_deferred(table):
        raise RuntimeError("load failed")
    assert _indexes(table) == before
