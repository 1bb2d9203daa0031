"""Fresh within a minute (assessment/freshness.py): changes coalesce into one run per period, at
most one run at a time, in-process after the commit without a broker, and a real worker with
Redis picks a contact up within 60 s."""

from __future__ import annotations

import datetime
import time
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from assessment import freshness
from assessment.models import CadreScore, RecomputeClaim, ScoreRun
from assessment.periods import period_containing
from contacts.services import contact_log
from tests.assessment.conftest import link_youths


def _current() -> str:
    return period_containing(timezone.localdate()).code


def test_affected_periods_are_current_and_containing_never_future_or_frozen(db):
    today = datetime.date(2026, 7, 15)
    assert freshness.affected_periods(today, today) == ["2026Q3", "2026H2", "2026"]
    assert freshness.affected_periods(datetime.date(2026, 5, 2), today) == [
        "2026Q2",
        "2026Q3",
        "2026H1",
        "2026H2",
        "2026",
    ]
    ScoreRun.objects.create(
        period="2026Q2", policy=freshness_policy(), as_of=datetime.date(2026, 6, 30), is_final=True
    )
    assert "2026Q2" not in freshness.affected_periods(datetime.date(2026, 5, 2), today)
    # A need due next month: nothing of a future period.
    assert freshness.affected_periods(datetime.date(2026, 10, 3), today) == [
        "2026Q3",
        "2026H2",
        "2026",
    ]


def freshness_policy():
    from assessment.services import policy_current

    return policy_current()


def test_changes_coalesce_into_one_delayed_run_per_period(db, settings):
    settings.LIANQING_FRESHNESS_DEBOUNCE_SECONDS = 45
    with mock.patch("assessment.tasks.refresh_period.apply_async") as enqueue:
        for _ in range(5):
            freshness.schedule(["2026Q3"])
    enqueue.assert_called_once_with(("2026Q3",), countdown=45)
    claim = RecomputeClaim.objects.get(period="2026Q3")
    assert claim.pending_since is not None and claim.n_changes == 1


def test_logging_a_contact_costs_the_same_handful_of_statements_whatever_is_pending(
    tree, quota10, django_capture_on_commit_callbacks
):
    """The writer side at 50 contacts a second: once the periods are pending, a logged contact
    costs its own check and writes, one INSERT of its markers (in production its own
    transaction, committed without a WAL flush) and one SELECT of the claims, and no more with
    1 cadre marked than with 30 (no write on the claim rows: no lock, no WAL flush)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import CadreFactory

    cadres = [tree.cadre] + [CadreFactory(organisation=tree.town_a) for _ in range(29)]
    youths = {c.pk: link_youths(c, 1, sectors=1)[0] for c in cadres}
    today = timezone.localdate()
    counts = []
    with mock.patch("assessment.tasks.refresh_period.apply_async"):
        for cadre in cadres:
            with (
                CaptureQueriesContext(connection) as ctx,
                django_capture_on_commit_callbacks(execute=True),
            ):
                contact_log(
                    cadre=cadre,
                    youths=[youths[cadre.pk]],
                    channel="wechat",
                    date=today,
                    by=None,
                )
            # Savepoints stand for the transactions of production (the test runs in one).
            sent = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
            counts.append(len(sent))
    # The first change turns the three periods pending (and creates their claim rows).
    assert counts[0] > counts[1]
    assert set(counts[1:]) == {6}, counts
    writes = [s for s in sent if s.startswith(("INSERT", "UPDATE", "DELETE"))]
    # The table after INTO (SQLite writes the markers as INSERT OR IGNORE INTO).
    tables = [w.split(" INTO ", 1)[1].split()[0].strip('"') for w in writes]
    assert tables == [
        "contacts_contact",
        "contacts_historicalcontact",
        "contacts_contactyouth",
        "assessment_touchedcadre",
    ]


def test_a_write_schedules_only_after_its_commit(tree, django_capture_on_commit_callbacks):
    youths = link_youths(tree.cadre, 2, sectors=1)
    with mock.patch("assessment.tasks.refresh_period.apply_async") as enqueue:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            contact_log(
                cadre=tree.cadre,
                youths=youths,
                channel="wechat",
                date=timezone.localdate(),
                by=tree.cadre_user,
            )
        assert not enqueue.called  # nothing before the commit
        for callback in callbacks:
            callback()
    assert {c.args[0][0] for c in enqueue.call_args_list} == set(
        freshness.affected_periods(timezone.localdate(), timezone.localdate())
    )


def test_without_a_broker_a_logged_contact_moves_the_stored_score_in_process(
    tree, quota10, django_capture_on_commit_callbacks
):
    youths = link_youths(tree.cadre, 4, sectors=2, linked_on=timezone.localdate())
    # The link itself already scheduled a run; start from a computed period.
    freshness.schedule([_current()], countdown=0)
    before = CadreScore.objects.get(cadre=tree.cadre, period=_current())
    assert before.reached == 0
    with django_capture_on_commit_callbacks(execute=True):
        contact_log(
            cadre=tree.cadre,
            youths=youths[:3],
            channel="talk",
            date=timezone.localdate(),
            by=tree.cadre_user,
        )
    after = CadreScore.objects.get(cadre=tree.cadre, period=_current())
    assert after.reached == 3 and after.score > before.score
    claim = RecomputeClaim.objects.get(period=_current())
    assert claim.pending_since is None and claim.running_since is None and claim.n_runs >= 2


def test_a_run_never_starts_while_another_holds_the_period(tree, quota10):
    code = _current()
    RecomputeClaim.objects.create(
        period=code, pending_since=timezone.now(), running_since=timezone.now()
    )
    with mock.patch("assessment.tasks.refresh_period.apply_async") as enqueue:
        out = freshness.run_pending(period=code)
    assert out["status"] == "busy"
    assert not ScoreRun.objects.filter(period=code).exists()  # nothing computed, nothing half
    enqueue.assert_called_once()  # the pending change is retried after the debounce


def test_a_stale_claim_of_a_killed_worker_is_taken_over(tree, quota10):
    code = _current()
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    RecomputeClaim.objects.create(period=code, pending_since=long_ago, running_since=long_ago)
    assert freshness.run_pending(period=code)["status"] == "done"
    assert ScoreRun.objects.filter(period=code).exists()


def test_failed_run_releases_the_claim_and_writes_nothing(tree, quota10):
    code = _current()
    RecomputeClaim.objects.create(period=code, pending_since=timezone.now())
    boom = mock.patch("assessment.services.flags_refresh", side_effect=RuntimeError("boom"))
    with boom, pytest.raises(RuntimeError):
        freshness.run_pending(period=code)
    claim = RecomputeClaim.objects.get(period=code)
    assert claim.running_since is None and claim.last_error == "boom"
    assert not CadreScore.objects.filter(period=code).exists()


@pytest.mark.parametrize(
    ("period", "message"),
    [("2026Q9", "季度只能是 Q1 到 Q4"), ("abc", "时段格式不正确"), ("2099Q1", "尚未开始")],
)
def test_recompute_of_a_bad_period_is_refused_in_chinese(db, period, message):
    with pytest.raises(ValidationError) as exc:
        freshness.request_recompute(period=period)
    assert message in exc.value.messages[0]
    assert not RecomputeClaim.objects.exists()


def test_recompute_while_running_is_refused_and_queues_nothing(db):
    code = _current()
    RecomputeClaim.objects.create(period=code, running_since=timezone.now())
    with (
        mock.patch("assessment.tasks.refresh_period.apply_async") as enqueue,
        pytest.raises(ValidationError, match="正在计算中"),
    ):
        freshness.request_recompute(period=code)
    assert not enqueue.called


def test_staff_recompute_button_rate_limited_and_bad_input_is_a_message(client, tree, quota10):
    client.force_login(tree.owner)
    url = reverse("assessment:compute")
    response = client.post(url, {"period": "2026Q9"}, follow=True)
    assert response.status_code == 200 and "季度只能是 Q1 到 Q4" in response.content.decode()
    response = client.post(url, {"period": _current()}, follow=True)
    assert "已安排重新计算" in response.content.decode()
    assert ScoreRun.objects.filter(period=_current()).exists()  # eager: ran in-process
    client.post(url, {"period": _current()})
    response = client.post(url, {"period": _current()}, follow=True)
    assert "太频繁" in response.content.decode()
    from django.core.cache import cache

    cache.clear()  # the counter is per address: later tests press the button from the same one


def test_cadre_cannot_press_recompute(client, tree):
    client.force_login(tree.cadre_user)
    assert client.post(reverse("assessment:compute"), {"period": _current()}).status_code == 404


def test_pages_show_computed_time_and_pending_note(client, tree, quota10):
    code = _current()
    freshness.schedule([code], countdown=0)
    run = ScoreRun.objects.get(period=code)
    client.force_login(tree.county)
    hm = timezone.localtime(run.finished_at).strftime("%H:%M")
    for name in ("dashboard", "scores", "bulletin"):
        html = client.get(reverse(f"assessment:{name}"), {"period": code}).content.decode()
        assert f"统计时间 {timezone.localdate().isoformat()} {hm}" in html, name
        assert "有新的变动，正在更新" not in html
    RecomputeClaim.objects.filter(period=code).update(pending_since=timezone.now())
    html = client.get(reverse("assessment:dashboard"), {"period": code}).content.decode()
    assert "有新的变动，正在更新" in html and "assessment/freshness.js" in html
    status = client.get(reverse("assessment:freshness"), {"period": code}).json()
    assert status["pending"] is True and status["computed_hm"] == hm
    bad = client.get(reverse("assessment:freshness"), {"period": "2026Q9"})
    assert bad.status_code == 400 and "季度" in bad.json()["error"]


def test_freshness_status_is_for_staff_only(client, tree):
    client.force_login(tree.cadre_user)
    assert client.get(reverse("assessment:freshness"), {"period": _current()}).status_code == 404


# One broker queue for every xdist worker: tests with a real Celery worker run in one group.
@pytest.mark.xdist_group("celery-worker")
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_real_worker_moves_the_stored_score_within_a_minute_of_a_logged_contact(
    tree, quota10, settings
):
    """PostgreSQL/SQLite + Redis + a real Celery worker: log a contact through the service and
    watch the cadre's stored score change, with the production debounce shortened to 3 s."""
    from celery.contrib.testing.worker import start_worker

    from tests.celery_helpers import own_broker

    settings.LIANQING_FRESHNESS_DEBOUNCE_SECONDS = 3
    youths = link_youths(tree.cadre, 4, sectors=2, linked_on=timezone.localdate())
    code = _current()
    with (
        own_broker(9) as app,
        start_worker(app, pool="solo", perform_ping_check=False, loglevel="error"),
    ):
        freshness.schedule([code], countdown=0)
        deadline = time.monotonic() + 60
        while not CadreScore.objects.filter(cadre=tree.cadre, period=code).exists():
            assert time.monotonic() < deadline, "first run never happened"
            time.sleep(0.2)
        before = CadreScore.objects.get(cadre=tree.cadre, period=code)
        started = time.monotonic()
        contact_log(
            cadre=tree.cadre,
            youths=youths,
            channel="talk",
            date=timezone.localdate(),
            by=tree.cadre_user,
        )
        while True:
            now = CadreScore.objects.get(cadre=tree.cadre, period=code)
            if now.reached == 4:
                break
            assert time.monotonic() - started < 60, "stored score did not follow in 60 s"
            time.sleep(0.2)
        # The scores commit before the run releases its claim, and a later change may mark
        # the period pending again: wait for the release while the worker still runs.
        released = time.monotonic()
        while True:
            claim = RecomputeClaim.objects.get(period=code)
            if claim.pending_since is None and claim.running_since is None:
                break
            assert time.monotonic() - released < 60, "the run did not release its claim"
            time.sleep(0.2)
    assert now.score > before.score
    assert claim.n_runs >= 2
