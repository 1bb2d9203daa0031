"""Rows committed to a worker's test database for a run of tests that only read them or write
inside their own transaction (the browser tests' seeded demo), and put back or emptied between
tests as each test needs.

A test says which rows it needs through its fixtures (`ROWS`); `prepare` (called by
tests/conftest.py before every test's fixtures) leaves the database as that test expects:

1. `"empty"` (every test that names none of the fixtures): the tables flushed, as after any
   transactional test;
2. a named copy (`"demo"`, `"contacts"`): the copy's rows put back, unless they are there already.

Each copy is taken once per worker by the session fixture that builds it (`take`); the tests
that need it are sorted next to each other (`sort_key`), so a worker flushes and copies back a
handful of times per run instead of once per test."""

from __future__ import annotations

import io
import sqlite3
import weakref
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import connection, connections

# The fixtures that stand for a copy, and the copy each one needs.
ROWS = {"demo_site": "demo", "demo_rows": "demo", "with_contacts": "contacts"}
EMPTY = "empty"


class Snapshot:
    """The database's rows as a build left them. On SQLite an in-memory copy of the whole test
    database (the backup API); on PostgreSQL every Django table in COPY binary form, held in
    memory. The live server holds the test's connection, so PostgreSQL's CREATE DATABASE …
    TEMPLATE, which needs none, cannot be used between tests."""

    def __init__(self) -> None:
        self.sqlite: sqlite3.Connection | None = None
        self.tables: dict[str, bytes] = {}
        self.output = ""  # what the build printed, if the tests need it (the demo's key shares)

    def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()


_snapshots: dict[str, Snapshot] = {}
# The main thread's connection objects these rows went through: Playwright's sync API runs a
# test in a greenlet with context variables of its own, where Django finds another connection
# object than in the fixtures that took the copies; each is closed before the test database is
# dropped (`close_connections`), or the drop finds the database in use.
_connections: weakref.WeakSet = weakref.WeakSet()
# What the worker's test database holds now, between tests: a migrated database starts empty.
_current = EMPTY


def needed(fixturenames: list[str]) -> str:
    for fixture, rows in ROWS.items():
        if fixture in fixturenames:
            return rows
    return EMPTY


def sort_key(item: pytest.Item) -> int:
    """Tests of one copy next to each other, the copies first (they are also the slowest)."""
    rows = needed(item.fixturenames)
    return list(ROWS.values()).index(rows) if rows != EMPTY else len(ROWS)


def prepare(blocker, rows: str) -> None:
    """Leave `rows` in the database for the next test (see the module's docstring). A copy not
    taken yet is left to the session fixture that takes it."""
    global _current
    if rows == _current or (rows != EMPTY and rows not in _snapshots):
        return
    with blocker.unblock():
        if rows == EMPTY:
            flush()
        else:
            restore(_snapshots[rows])
    _current = rows


def expect(rows: str) -> None:
    assert _current == rows, f"the test needs the {rows!r} rows, the database holds {_current!r}"


def take(name: str, build: Callable[[], None], *, start_from: str | None = None) -> Snapshot:
    """Run `build()` (on top of the `start_from` copy, or on what is there) and keep a copy of
    the database it leaves; the database then holds that copy's rows."""
    global _current
    assert not connection.in_atomic_block, "a copy is taken between tests, outside transactions"
    if start_from is not None and _current != start_from:
        restore(_snapshots[start_from])
    _current = "(being built)"
    used(connections["default"])
    build()
    connection.ensure_connection()
    snapshot = Snapshot()
    if connection.vendor == "sqlite":
        snapshot.sqlite = sqlite3.connect(":memory:")
        connection.connection.backup(snapshot.sqlite)
    else:
        with connection.cursor() as cursor:
            for table in _tables():
                buffer = io.BytesIO()
                table_sql = connection.ops.quote_name(table)
                cursor.cursor.copy_expert(f"COPY {table_sql} TO STDOUT (FORMAT binary)", buffer)
                snapshot.tables[table] = buffer.getvalue()
    _snapshots[name] = snapshot
    _current = name
    return snapshot


def used(conn) -> None:
    _connections.add(conn)


def close_connections() -> None:
    for conn in list(_connections):
        conn.close()


def forget(name: str) -> None:
    snapshot = _snapshots.pop(name, None)
    if snapshot is not None:
        snapshot.close()


def flush() -> None:
    # The same emptying a transactional test gets at teardown (tests/conftest.py makes it a
    # DELETE per table on PostgreSQL).
    call_command("flush", interactive=False, verbosity=0)


def _tables() -> list[str]:
    # The same tables `flush` empties.
    return sorted(connection.introspection.django_table_names(only_existing=True))


def restore(snapshot: Snapshot) -> None:
    """Put the copied rows back in place of whatever the database holds."""
    assert not connection.in_atomic_block, "rows are put back between tests"
    used(connections["default"])
    connection.ensure_connection()
    if snapshot.sqlite is not None:
        snapshot.sqlite.backup(connection.connection)
        return
    from django.apps import apps
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        # Rows go back table by table in name order: foreign keys and the surveys app's triggers
        # (sealed ballots, frozen electorates) are not checked while restoring rows that
        # already passed them once.
        cursor.execute("SET session_replication_role = replica")
        try:
            # DELETE, not TRUNCATE: a TRUNCATE of the 83 tables took seconds (new files, buffers
            # dropped), a DELETE of the few rows there takes milliseconds (tests/conftest.py).
            for table in snapshot.tables:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
            for table, rows in snapshot.tables.items():
                table_sql = connection.ops.quote_name(table)
                copy_sql = f"COPY {table_sql} FROM STDIN (FORMAT binary)"
                cursor.cursor.copy_expert(copy_sql, io.BytesIO(rows))
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        # The sequences continue after the restored ids, as they did after the build.
        for statement in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
            cursor.execute(statement)
