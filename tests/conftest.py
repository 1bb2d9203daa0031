"""Shared fixtures: a small organisation tree with the three standing users of every scope test
(owner, colleague in the same organisation, outsider in another subtree), and the rules for
tests that need PostgreSQL, Redis or a browser."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from cadres.models import Cadre, Organisation, User
from tests import committed, template_db
from tests.factories import CadreFactory, OrganisationFactory, UserFactory

REQUIRE_SERVICES = os.environ.get("LIANQING_REQUIRE_SERVICES") == "1"
REQUIRE_BROWSER = os.environ.get("LIANQING_REQUIRE_BROWSER") == "1"
CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres / redis / browser skip with a reason where the component is absent,
    and fail instead of skipping in CI (LIANQING_REQUIRE_*), where every one of them must run."""
    on_postgres = connection.vendor == "postgresql" or os.environ.get(
        "DATABASE_URL", ""
    ).startswith(("postgres://", "postgresql://"))
    has_redis = bool(os.environ.get("REDIS_URL"))
    has_browser = shutil.which(CHROMIUM) is not None or os.path.exists(CHROMIUM)
    reasons = {
        "postgres": (
            on_postgres,
            REQUIRE_SERVICES,
            "needs PostgreSQL (row locks, concurrency): set DATABASE_URL=postgres://…",
        ),
        "redis": (has_redis, REQUIRE_SERVICES, "needs Redis and a Celery worker: set REDIS_URL"),
        "browser": (
            has_browser,
            REQUIRE_BROWSER,
            f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)",
        ),
    }
    # The tests that share a copy of committed rows run next to each other (tests/committed.py).
    items.sort(key=committed.sort_key)
    for item in items:
        for marker, (available, required, reason) in reasons.items():
            if item.get_closest_marker(marker) and not available:
                if required:
                    # Fail at setup: in CI a missing component is a broken build, not a skip.
                    item.fixturenames.insert(0, "_fail_missing_component")
                else:
                    item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before any fixture: the committed rows this test expects, or none (tests/committed.py)."""
    from pytest_django.plugin import blocking_manager_key

    committed.prepare(item.config.stash[blocking_manager_key], committed.needed(item.fixturenames))


def _transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    return "transactional_db" in getattr(item, "fixturenames", ()) or bool(
        marker and marker.kwargs.get("transaction")
    )


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """A transactional test's fixtures build their rows with the recomputation paused.

    Each factory save commits there, and each commit would run a whole recomputation of three
    periods (in-process tasks): 297 of them, 30 s, for the nine cadres of one fixture. Inside a
    test's transaction, as in every other test, none runs (no commit). The test's own writes
    still schedule as they would in production."""
    if not _transactional(request.node):
        return (yield)
    from assessment.freshness import paused

    with paused():
        return (yield)


@pytest.fixture
def _fail_missing_component(request):
    pytest.fail("a component CI must provide is missing (see the test's marker)")


def _delete_flush_sql(original):
    """PostgreSQL's flush as one DELETE per table instead of one TRUNCATE of all of them.

    TRUNCATE gives each table and index a new file and drops the old one's buffers: 5-8 s for the
    83 tables on the shared CI machine, at every transactional test's teardown (and again in the
    browser tests' restore), where DELETE of the few rows a test wrote takes 0.1-0.6 s. With
    session_replication_role = replica no foreign key or row trigger fires, as with TRUNCATE;
    every table is emptied, so no reference is left dangling. reset_sequences (the flush
    command's default, RESTART IDENTITY) restarts every sequence owned by a column of these
    tables; CASCADE (available_apps) keeps Django's statement."""

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables or allow_cascade:
            return original(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        deletes = [f"DELETE FROM {self.quote_name(table)};" for table in tables]
        restarts = []
        if reset_sequences:
            # Django's own table names (introspection), as SQL string literals.
            names = ", ".join("'" + table.replace("'", "''") + "'" for table in tables)
            restarts.append(
                "SELECT setval(seq, 1, false) FROM (SELECT pg_get_serial_sequence("
                "quote_ident(table_name), column_name) AS seq FROM information_schema.columns "
                f"WHERE table_schema = current_schema() AND table_name IN ({names})) owned "
                "WHERE seq IS NOT NULL;"
            )
        return [
            "SET session_replication_role = replica;",
            *deletes,
            *restarts,
            "SET session_replication_role = DEFAULT;",
        ]

    return sql_flush


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete():
    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.operations import DatabaseOperations

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            DatabaseOperations, "sql_flush", _delete_flush_sql(DatabaseOperations.sql_flush)
        )
        yield


@pytest.fixture(scope="session")
def django_db_setup(
    request,
    django_test_environment,
    django_db_blocker,
    django_db_use_migrations,
    django_db_keepdb,
    django_db_createdb,
    django_db_modify_db_settings,
):
    """pytest-django's test database, except on PostgreSQL under xdist: every worker copies a
    migrated template with CREATE DATABASE … TEMPLATE (a file copy, under a second) instead of
    migrating its own (tests/template_db.py).

    1. Under an advisory lock shared by every run on the server, the template named after the
       migrations' digest is migrated unless it is there complete (or `--create-db` was given).
    2. Still under the lock (no session may use the template while it is copied), the worker's
       database is dropped if left over and created from the template.
    3. At the end the worker drops its database (Django's teardown); the template stays for the
       next run with the same migrations."""
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    cloning = (
        worker is not None
        and connection.vendor == "postgresql"
        and aliases == {"default"}
        and not serialized_aliases
        and not django_db_keepdb
        and django_db_use_migrations
    )
    if not django_db_use_migrations:
        _disable_migrations()
    if not cloning:
        kwargs = {"keepdb": True} if django_db_keepdb and not django_db_createdb else {}
        with django_db_blocker.unblock():
            db_cfg = setup_databases(
                verbosity=request.config.option.verbose,
                interactive=False,
                aliases=aliases,
                serialized_aliases=serialized_aliases,
                **kwargs,
            )
    else:
        with django_db_blocker.unblock(), template_db.Lock():
            db_cfg = _clone_from_template(worker, rebuild=django_db_createdb)
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            try:
                teardown_databases(db_cfg, verbosity=request.config.option.verbose)
            except Exception as exc:  # noqa: BLE001
                request.node.warn(
                    pytest.PytestWarning(f"Error when trying to teardown test databases: {exc!r}")
                )


def _clone_from_template(worker: str, *, rebuild: bool):
    from django.conf import settings
    from django.test.utils import setup_databases

    settings_dict = connection.settings_dict
    original_name = settings_dict["NAME"]
    test_name = connection.creation._get_test_db_name()
    run_name = test_name.removesuffix(f"_{worker}")
    schema = template_db.digest()
    template = template_db.name(run_name, schema)
    quote = connection.ops.quote_name
    with connection._nodb_cursor() as cursor:
        complete = template_db.is_complete(cursor, template, schema)
    if rebuild or not complete:
        settings_dict["TEST"]["NAME"] = template
        try:
            setup_databases(verbosity=0, interactive=False, aliases={"default"})
        finally:
            settings_dict["TEST"]["NAME"] = test_name
        connection.close()
        with connection._nodb_cursor() as cursor:
            template_db.mark_complete(cursor, template, schema)
            template_db.drop_others(cursor, run_name, keep=template)
        # setup_databases pointed the connection at the template: back to the server's name.
        settings.DATABASES["default"]["NAME"] = settings_dict["NAME"] = original_name
    with connection._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quote(test_name)}")
        cursor.execute(f"CREATE DATABASE {quote(test_name)} TEMPLATE {quote(template)}")
    connection.close()
    settings.DATABASES["default"]["NAME"] = test_name
    settings_dict["NAME"] = test_name
    # What teardown_databases expects: the connection, the name to restore, drop it.
    return [(connections["default"], original_name, True)]


@pytest.fixture(scope="session")
def _demo_snapshot(django_db_setup, django_db_blocker):
    """The seeded demo (seed_demo, seed 2017), built once per session (per xdist worker) and
    copied (tests/committed.py): seed_demo costs seconds of CPU, and the browser tests and the
    tests of the demo's own content all read the same rows. What the seed printed is kept with
    the copy (`output`): the open campaign's key shares exist nowhere else."""
    out = io.StringIO()
    with django_db_blocker.unblock():
        snapshot = committed.take("demo", lambda: call_command("seed_demo", seed=2017, stdout=out))
    snapshot.output = out.getvalue()
    yield snapshot
    committed.forget("demo")
    committed.close_connections()


@pytest.fixture
def demo_rows(_demo_snapshot, db) -> str:
    """The seeded demo's rows for a test that reads them (no live server); what the test writes
    is rolled back. Returns what seed_demo printed."""
    committed.expect("demo")
    return _demo_snapshot.output


@dataclass
class Tree:
    city: Organisation
    banner: Organisation
    town_a: Organisation
    branch_a: Organisation
    town_b: Organisation
    county: User  # staff of the banner committee: sees everything below
    owner: User  # staff of township A (the owner of A's data)
    colleague: User  # another staff member of township A
    outsider: User  # staff of township B: another subtree
    cadre_user: User  # a cadre in township A, with a cadre record
    cadre: Cadre


@pytest.fixture
def tree(db) -> Tree:
    return build_tree()


T = TypeVar("T")


@contextmanager
def rows_for_module(django_db_blocker, build: Callable[[], T]) -> Iterator[T]:
    """What `build()` writes, made once for a module whose tests only read it (or write and are
    rolled back), instead of once per test.

    The rows live in a transaction opened here and rolled back when the module ends; each test
    runs in its own savepoint inside it (pytest-django's `db`), so whatever a test writes is
    undone before the next one, and no other test module ever sees these rows."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def build_tree() -> Tree:
    """The tree's rows; also called once per module by tests that seed read-mostly data once."""
    kind = Organisation.Kind
    city = OrganisationFactory(name="测试市团委", kind=kind.CITY)
    banner = OrganisationFactory(name="测试旗团委", kind=kind.BANNER, parent=city)
    town_a = OrganisationFactory(name="甲镇团委", kind=kind.TOWNSHIP, parent=banner)
    branch_a = OrganisationFactory(name="甲镇第一团支部", kind=kind.BRANCH, parent=town_a)
    town_b = OrganisationFactory(name="乙镇团委", kind=kind.TOWNSHIP, parent=banner)
    staff = User.Role.STAFF
    cadre_user = UserFactory(username="cadre_a", organisation=town_a, role=User.Role.CADRE)
    return Tree(
        city=city,
        banner=banner,
        town_a=town_a,
        branch_a=branch_a,
        town_b=town_b,
        county=UserFactory(username="county_t", organisation=banner, role=staff),
        owner=UserFactory(username="owner_a", organisation=town_a, role=staff),
        colleague=UserFactory(username="colleague_a", organisation=town_a, role=staff),
        outsider=UserFactory(username="outsider_b", organisation=town_b, role=staff),
        cadre_user=cadre_user,
        cadre=CadreFactory(name="甲镇干部", organisation=town_a, user=cadre_user),
    )
