"""The migrated template the xdist workers copy is named after its migrations
(tests/template_db.py): a changed or added migration gives a new name, nothing else does, and
only templates of this suite's own database are ever dropped."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from django.db import connection

from tests import template_db


@pytest.fixture
def one_app(tmp_path, monkeypatch):
    """A single installed app whose migrations package lives in tmp_path."""
    package = tmp_path / "lq_fake_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "0001_initial.py").write_text("operations = []\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(
        template_db.apps, "get_app_configs", lambda: [SimpleNamespace(label="fake")]
    )
    monkeypatch.setattr(
        template_db.MigrationLoader,
        "migrations_module",
        classmethod(lambda cls, label: ("lq_fake_migrations", False)),
    )
    yield package
    sys.modules.pop("lq_fake_migrations", None)


def test_the_name_follows_the_migrations_and_nothing_else(one_app):
    first = template_db.digest()
    assert template_db.digest() == first  # stable
    (one_app / "0001_initial.py").write_text("operations = []  # changed\n")
    changed = template_db.digest()
    assert changed != first
    (one_app / "0002_more.py").write_text("operations = []\n")
    added = template_db.digest()
    assert added not in (first, changed)
    (one_app / "README.txt").write_text("not a migration")
    assert template_db.digest() == added


def test_the_real_digest_names_a_valid_database():
    name = template_db.name("test_" + "x" * 70, template_db.digest())
    assert len(name.encode()) <= 63
    assert name.startswith(template_db.prefix("test_" + "x" * 70))


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's databases")
def test_only_this_suites_older_templates_are_dropped(db, django_db_blocker):
    names = {
        "old": "test_lqtpl_m0123456789abcdef",
        "legacy": "test_lqtpl_migrated",
        "keep": "test_lqtpl_mfedcba9876543210",
        "other_suite": "test_lqtpl_mig_gw0",
    }
    with connection._nodb_cursor() as cursor:
        for name in names.values():
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            cursor.execute(f"CREATE DATABASE {name}")
        try:
            template_db.drop_others(cursor, "test_lqtpl", keep=names["keep"])
            cursor.execute(
                "SELECT datname FROM pg_database WHERE starts_with(datname, 'test_lqtpl')"
            )
            left = {row[0] for row in cursor.fetchall()}
        finally:
            for name in names.values():
                cursor.execute(f"DROP DATABASE IF EXISTS {name}")
    assert left == {names["keep"], names["other_suite"]}
