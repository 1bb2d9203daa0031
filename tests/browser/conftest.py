"""Browser tests: Playwright for Python driving Debian's /usr/bin/chromium (never a downloaded
browser). Screenshots go to artifacts/screenshots/ (git-ignored) to be looked at."""

from __future__ import annotations

import datetime
import io
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread
from django.utils import timezone

from tests.conftest import CHROMIUM

# Playwright's sync API runs an event loop in this thread; the test still talks to the database
# synchronously between page actions, which Django would otherwise refuse.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
DEMO_PASSWORD = "lianqing-demo"


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


class _OneRequestAtATime(ThreadedWSGIServer):
    """The live server, answering one request at a time on SQLite.

    With an in-memory SQLite database every server thread uses the test's one connection. Two
    requests at once (a page and its service worker, say) deadlocked there: one thread inside
    sqlite3_step waiting for the GIL to run a Python SQL function (Django's MD5, date helpers),
    the other holding the GIL waiting for that connection's mutex; the whole browser run then
    hung with no CPU used. The response is read to the end inside the lock, as a streamed one
    may still be reading rows."""

    def set_app(self, application):
        lock = threading.Lock()

        def one_at_a_time(environ, start_response):
            with lock:
                response = application(environ, start_response)
                try:
                    return [b"".join(response)]
                finally:
                    if hasattr(response, "close"):
                        response.close()

        super().set_app(one_at_a_time)


@pytest.fixture(scope="session", autouse=True)
def _serial_live_server_on_sqlite():
    if connection.vendor != "sqlite":
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LiveServerThread, "server_class", _OneRequestAtATime)
        yield


@pytest.fixture(scope="session")
def _demo_snapshot(django_db_setup, django_db_blocker):
    """The seeded demo database, copied once per session (per xdist worker): seed_demo costs
    several seconds of CPU and four dozen browser tests need it fresh. Each test restores the
    copy (`_restore`) instead of seeding again."""
    with django_db_blocker.unblock():
        snapshot = _snapshot_after(_seed)
    yield snapshot
    snapshot.close()


def _seed() -> None:
    call_command("seed_demo", seed=2017, stdout=io.StringIO())


class _Snapshot:
    """The database's rows as `build()` left them. On SQLite an in-memory copy of the whole
    test database (the backup API); on PostgreSQL every Django table in COPY binary form, held in
    memory. The live server holds a connection, so PostgreSQL's CREATE DATABASE … TEMPLATE, which
    needs none, cannot be used between tests."""

    def __init__(self) -> None:
        self.sqlite: sqlite3.Connection | None = None
        self.tables: dict[str, bytes] = {}

    def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()


def _tables() -> list[str]:
    # The same tables `flush` empties at each test's teardown (transactional_db).
    return sorted(connection.introspection.django_table_names(only_existing=True))


def _snapshot_after(build) -> _Snapshot:
    """A copy of the test database as `build()` leaves it; the database is then emptied again
    for the tests that do not ask for the copy."""
    build()
    connection.ensure_connection()
    snapshot = _Snapshot()
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
    call_command("flush", interactive=False, verbosity=0)
    return snapshot


def _restore(snapshot: _Snapshot) -> None:
    """Put the copied rows back into the (flushed) test database."""
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
            # The flush after the previous test wrote content types and permissions again
            # (post_migrate): the copied ones, which the copied rows point to, replace them.
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
        # The sequences continue after the restored ids, as they did after the seed.
        for statement in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
            cursor.execute(statement)


@pytest.fixture
def demo_site(_demo_snapshot, transactional_db, live_server):
    """The live server with the banner demo data (seed_demo, fixed seed), fresh for each test:
    the test's writes are flushed at teardown (transactional_db)."""
    _restore(_demo_snapshot)
    return live_server


def _add_contacts() -> None:
    """Contacts for the demo cadres (the contacts app's own demo is another helper's), then the
    current quarter computed again so the charts have weekly data."""
    from assessment import services
    from assessment.models import ScoreRun
    from assessment.periods import period_containing
    from cadres.models import CadreYouth
    from tests.assessment.conftest import log_contact

    today = timezone.localdate()
    links = list(CadreYouth.objects.select_related("cadre", "youth").order_by("id")[:600])
    for i, link in enumerate(links):
        day = today - datetime.timedelta(days=i % 50)
        log_contact(link.cadre, [link.youth], day, ["wechat", "talk", "phone", "visit"][i % 4])
    period = period_containing(today)
    ScoreRun.objects.filter(period=period.code).delete()
    services.contact_stats_compute(run=services.scores_compute(period=period))


@pytest.fixture(scope="session")
def _contacts_snapshot(_demo_snapshot, django_db_blocker):
    """The demo with the contacts of `_add_contacts` and the recomputed quarter, copied once per
    session like `_demo_snapshot`: 600 logged contacts and a score run cost seconds, and a dozen
    browser tests start from them."""
    with django_db_blocker.unblock():
        _restore(_demo_snapshot)
        snapshot = _snapshot_after(_add_contacts)
    yield snapshot
    snapshot.close()


@pytest.fixture
def with_contacts(_contacts_snapshot, transactional_db, live_server):
    """`demo_site` with contacts for the demo cadres and the current quarter's scores and weekly
    statistics (`_add_contacts`), fresh for each test."""
    _restore(_contacts_snapshot)
    return live_server


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(viewport: dict, locale: str = "zh-CN"):
        context = browser.new_context(
            viewport=viewport, locale=locale, device_scale_factor=1, is_mobile=viewport is PHONE
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def login(page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("networkidle")


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
