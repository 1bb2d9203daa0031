"""Bulk loading through PostgreSQL's COPY, shared by production code (the score upsert in
`assessment.services`) and the demo loader (`cadres.demo.DemoContext.insert`): the fastest way to
put tens of thousands of rows in a table, here in one place so the text format is written once."""

from __future__ import annotations

import contextlib
import datetime
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any


def copy_value(value: Any) -> str:
    """One value in COPY's text format: \\N for NULL, t/f, ISO dates; a backslash is doubled and
    tabs and newlines (the format's separators) become spaces."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def copy_rows(
    cursor: Any, *, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY `rows` (tuples of column values) into `table` on a Django cursor (PostgreSQL only).

    The table and column names are the caller's own identifiers, never user input."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(copy_value(v) for v in row) + "\n")
    buffer.seek(0)
    cursor.cursor.copy_expert(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN', buffer)


@contextlib.contextmanager
def indexes_deferred(*tables: str) -> Iterator[None]:
    """Drop the secondary indexes of `tables` for a bulk load and build them again after it.

    Maintaining nine indexes row by row during a COPY of millions of rows costs more than
    building each once over the loaded table (one sort per index). Primary keys and unique
    indexes stay: they guard the data being loaded. PostgreSQL only; elsewhere a no-op. The
    indexes are rebuilt even if the load fails, so the schema is never left without them."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "JOIN pg_class c ON c.relname = i.indexname AND c.relkind = 'i' "
            "JOIN pg_index x ON x.indexrelid = c.oid "
            "WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s) "
            "AND NOT x.indisunique AND NOT x.indisprimary ORDER BY i.indexname",
            [list(tables)],
        )
        deferred = cursor.fetchall()
        for name, _definition in deferred:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            # Inside a transaction (tests) the deferred foreign-key checks of the loaded rows
            # are still pending, and PostgreSQL refuses CREATE INDEX on such a table: run them.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET maintenance_work_mem = '128MB'")
            for _name, definition in deferred:
                cursor.execute(definition)
            cursor.execute("RESET maintenance_work_mem")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
