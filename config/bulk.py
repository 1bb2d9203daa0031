"""Bulk loading through PostgreSQL's COPY, shared by production code (the score upsert in
`assessment.services`) and the demo loader (`cadres.demo.DemoContext.insert`): the fastest way to
put tens of thousands of rows in a table, here in one place so the text format is written once."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable, Sequence
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


def copy_rows(cursor, *, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """COPY `rows` (tuples of column values) into `table` on a Django cursor (PostgreSQL only).

    The table and column names are the caller's own identifiers, never user input."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(copy_value(v) for v in row) + "\n")
    buffer.seek(0)
    cursor.cursor.copy_expert(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN', buffer)
