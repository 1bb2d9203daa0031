"""Browser tests: Playwright for Python driving Debian's /usr/bin/chromium (never a downloaded
browser). Screenshots go to artifacts/screenshots/ (git-ignored) to be looked at."""

from __future__ import annotations

import datetime
import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connections, transaction
from django.test.testcases import LiveServerThread
from django.test.utils import modify_settings
from django.utils import timezone

from tests import committed
from tests.conftest import CHROMIUM

logger = logging.getLogger(__name__)

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


class _InTheTestsTransaction(ThreadedWSGIServer):
    """The live server of the browser tests, answering from inside the running test's transaction.

    Every request thread uses the test's own connection (`connections_override`), so a page sees
    what the test wrote and the test sees what a page wrote, none of it committed: the test's
    ROLLBACK (pytest-django's `db`) undoes both, instead of a flush and a copy of the whole demo
    back after every test. One request at a time (`lock`), the response read to the end inside
    the lock, as a streamed one may still be reading rows; the test's own statements and atomic
    blocks wait for a request in progress (`_serving`). Between tests (`serving` off) a request
    gets a 503 without touching the database."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lock = threading.RLock()
        self.serving = False

    def set_app(self, application):
        def in_turn(environ, start_response):
            with self.lock:
                if not self.serving:
                    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
                    return [b"between tests"]
                response = application(environ, start_response)
                try:
                    return [b"".join(response)]
                finally:
                    if hasattr(response, "close"):
                        response.close()

        super().set_app(in_turn)

    def _close_connections(self):
        # Django closes a request thread's connections after each request; here that is the
        # test's connection, and closing it would end the test's transaction.
        pass


class LiveSite:
    """What the browser-test fixtures return: the server's address (like pytest-django's
    live_server)."""

    def __init__(self, thread: LiveServerThread) -> None:
        self.thread = thread

    @property
    def url(self) -> str:
        return f"http://{self.thread.host}:{self.thread.port}"

    def __str__(self) -> str:
        return self.url


@pytest.fixture(scope="session")
def _server(django_db_setup):
    """One live server per session (per xdist worker). Which connection its request threads use
    is set for each test (`_serving`): the main thread's connection object is not the same one
    across a session (Playwright's sync API runs the test in a greenlet of its own, with its own
    context variables, where Django keeps connections)."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler

    thread = LiveServerThread("localhost", StaticFilesHandler, connections_override={})
    thread.server_class = _InTheTestsTransaction
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    try:
        if thread.error:
            raise thread.error
        yield thread
    finally:
        thread.terminate()
        committed.close_connections()


@contextmanager
def _serving(thread: LiveServerThread):
    """Open the server to requests for one test, inside the test's transaction.

    1. The connection is not closed by the request machinery (Django's request_finished
       handler closes a connection whose autocommit is off, which inside a transaction it is).
    2. `transaction.on_commit` callbacks run when they would after a real commit: when the
       outermost atomic block opened by the code under test ends without an error, or at once
       when registered outside any (in-process tasks, the export and import jobs).
    3. The test thread's statements and atomic blocks wait for a request in progress, and the
       other way round, so that neither sees the other's half-done work.
    4. At the end the server stops answering (503) once the request in progress, if any, ends;
       then pytest-django's `db` rolls everything back."""
    from django.db.transaction import Atomic

    conn = connections["default"]
    if not conn.in_atomic_block:
        raise pytest.UsageError(
            "the browser fixtures run the test in one transaction: mark the test "
            "pytest.mark.django_db, not django_db(transaction=True)"
        )
    server = thread.httpd
    lock = server.lock
    test_thread = threading.current_thread()
    base = len(conn.savepoint_ids)
    on_commit = conn.on_commit
    enter, exit_ = Atomic.__enter__, Atomic.__exit__

    def run_commit_hooks():
        # As BaseDatabaseWrapper.run_and_clear_commit_hooks does after a commit.
        while conn.run_on_commit:
            _, func, robust = conn.run_on_commit.pop(0)
            if robust:
                try:
                    func()
                except Exception:
                    logger.exception("on_commit callback %r failed", func)
            else:
                func()

    def committed_on_commit(func, robust=False):
        on_commit(func, robust=robust)
        if len(conn.savepoint_ids) == base:
            run_commit_hooks()

    def atomic_enter(self):
        mine = threading.current_thread() is test_thread
        if mine:
            lock.acquire()
        try:
            return enter(self)
        except BaseException:
            if mine:
                lock.release()
            raise

    def atomic_exit(self, exc_type, exc_value, traceback):
        try:
            result = exit_(self, exc_type, exc_value, traceback)
            if (
                exc_type is None
                and transaction.get_connection(self.using) is conn
                and len(conn.savepoint_ids) == base
                and not conn.needs_rollback
            ):
                run_commit_hooks()
            return result
        finally:
            if threading.current_thread() is test_thread:
                lock.release()

    def in_turn(execute, sql, params, many, context):
        if threading.current_thread() is test_thread:
            with lock:
                return execute(sql, params, many, context)
        return execute(sql, params, many, context)

    with (
        pytest.MonkeyPatch.context() as patch,
        conn.execute_wrapper(in_turn),
        modify_settings(ALLOWED_HOSTS={"append": thread.host}),
    ):
        patch.setattr(conn, "close", lambda: None)
        patch.setattr(conn, "close_if_unusable_or_obsolete", lambda: None)
        patch.setattr(conn, "on_commit", committed_on_commit)
        patch.setattr(Atomic, "__enter__", atomic_enter)
        patch.setattr(Atomic, "__exit__", atomic_exit)
        # Each request thread takes the connections of this dict (ThreadedWSGIServer).
        server.connections_override["default"] = conn
        committed.used(conn)
        conn.inc_thread_sharing()
        server.serving = True
        try:
            yield
        finally:
            with lock:
                server.serving = False
                del server.connections_override["default"]
                conn.dec_thread_sharing()


@pytest.fixture
def live_site(db, _server):
    """The live server, answering inside the test's transaction (`_serving`), on the empty test
    database (the test writes its own rows, `tree` say)."""
    committed.expect(committed.EMPTY)
    with _serving(_server):
        yield LiveSite(_server)


@pytest.fixture
def demo_site(_demo_snapshot, db, _server):
    """The live server with the banner demo data (seed_demo, fixed seed); what the test and the
    pages write is rolled back at the end of the test."""
    committed.expect("demo")
    with _serving(_server):
        yield LiveSite(_server)


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
        snapshot = committed.take("contacts", _add_contacts, start_from="demo")
    yield snapshot
    committed.forget("contacts")


@pytest.fixture
def with_contacts(_contacts_snapshot, db, _server):
    """`demo_site` with contacts for the demo cadres and the current quarter's scores and weekly
    statistics (`_add_contacts`), rolled back at the end of the test like `demo_site`."""
    committed.expect("contacts")
    with _serving(_server):
        yield LiveSite(_server)


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
    settle(page)


def settle(page) -> None:
    """Wait until the page a click or a goto led to has loaded and drawn.

    Not "networkidle": that waits for 500 ms without a request after the last one, on every
    page (a minute and a half of the tour alone), and the pages' late requests — the service
    worker installing its copies, the freshness poll — are not what a test looks at; a test
    that needs one waits for it (the service worker: test_phone's `_wait_for_worker`). A click
    that starts a navigation returns once the new document is committed (Playwright waits for
    it), so `load` here is the new page's, and the scripts that draw (filters, charts,
    pickers) ran on DOMContentLoaded or load, before it. (Not a requestAnimationFrame either:
    a page that is not in front draws no frames, and the wait never ended.)"""
    page.wait_for_load_state("load")


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
