"""The migrated PostgreSQL database the xdist workers copy (tests/conftest.py:django_db_setup).

Migrating costs 8 s of one core at the start of every run while the second worker waits for it.
The template is named after the migrations it holds: a digest of every installed app's
migration files and Django's version (`digest`). A run whose digest names a complete template
copies it; any change to a migration (or a new one, or another Django) gives a new name, and
the first worker to get there migrates it once. Templates of older digests are dropped then.

A template is complete once its COMMENT is its digest, written after the migration: one left
half-built by a run killed while migrating has none and is built again. Building and copying
happen under a PostgreSQL advisory lock, so that two runs on one server (two sessions, or CI
beside a developer) never build the same template twice nor copy it while it is being built.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import re
from pathlib import Path

import django
from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader

# pg_advisory_lock's key for "the test templates" (any constant shared by every run).
LOCK_KEY = 0x6C71_7465  # "lqte"


def digest() -> str:
    """What the migrated schema depends on: every migration file of every installed app, by
    app label, name and content, and Django's version (its migrations and its DDL)."""
    h = hashlib.sha256(django.get_version().encode())
    for app in sorted(apps.get_app_configs(), key=lambda a: a.label):
        module_name, _ = MigrationLoader.migrations_module(app.label)
        if module_name is None:
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue  # an app without migrations
        for directory in getattr(module, "__path__", []):
            for path in sorted(Path(directory).glob("*.py")):
                h.update(f"{app.label}/{path.name}\0".encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:16]


def name(test_name: str, schema: str) -> str:
    # test_lq (test_lq_gw0 without the worker's suffix) -> test_lq_m<digest>: 63 bytes at most.
    return f"{test_name[:40]}_m{schema}"


def prefix(test_name: str) -> str:
    return f"{test_name[:40]}_m"


class Lock:
    """The advisory lock, held on a connection of its own to the server's maintenance
    database (never the template: CREATE DATABASE … TEMPLATE needs it unused)."""

    def __enter__(self) -> Lock:
        self._cm = connection._nodb_cursor()
        self.cursor = self._cm.__enter__()
        self.cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        finally:
            self._cm.__exit__(*exc)


def is_complete(cursor, template: str, schema: str) -> bool:
    cursor.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [template],
    )
    row = cursor.fetchone()
    return row is not None and row[0] == schema


def mark_complete(cursor, template: str, schema: str) -> None:
    cursor.execute(f"COMMENT ON DATABASE {connection.ops.quote_name(template)} IS %s", [schema])


def drop_others(cursor, test_name: str, keep: str) -> None:
    """Templates of other digests (older migrations): dropped, unless another run is copying
    one right now (then the next run drops it)."""
    start = prefix(test_name)
    # Exactly a template name (a digest, or the `_migrated` of the code before digests), never
    # another suite's database that happens to share the start.
    ours = re.compile(re.escape(start) + r"([0-9a-f]{16}|igrated)")
    cursor.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [start])
    for (other,) in cursor.fetchall():
        if other == keep or not ours.fullmatch(other):
            continue
        with contextlib.suppress(Exception):  # in use by another run: harmless to keep
            cursor.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(other)}")
