"""kill -9 of the whole Celery worker (issue 11 item 5): the task it held comes back.

With Redis' default visibility timeout (an hour) a task taken by a worker whose every process was
killed stayed unacknowledged in Redis for an hour; only a killed child was redelivered at once.
Settings now set the visibility timeout to 300 s (< 5 minutes); this test lowers it through the
environment (CELERY_VISIBILITY_TIMEOUT=15, and a scan of the unacknowledged tasks every second,
CELERY_UNACKED_RESTORE_INTERVAL=1) so the redelivery happens within the test.

The worker is caught mid-task deterministically: the test holds an EXCLUSIVE lock on the score
run table, so the task blocks on its row lock inside its transaction; the test sees it waiting in
pg_stat_activity, kills the worker's process group with SIGKILL, releases the lock, starts a new
worker and waits for the run to finish. The rows are the same as an undisturbed run's.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from assessment import services
from assessment.models import CadreScore, ScoreRun
from assessment.periods import period_containing
from tests.assessment.conftest import link_youths, log_contact, quota10  # noqa: F401
from tests.factories import CadreFactory

ROOT = Path(__file__).resolve().parents[2]


def _worker(env: dict) -> subprocess.Popen:
    # A new session: the worker's master and its pool children form one process group,
    # killed together below, the way an OOM killer or `kill -9 -PGID` does it.
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", "1", "-l", "info"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def _rows():
    # Each cadre has a row per period (quarter, half, year): order by both, or two equal result
    # sets compare unequal (seen in CI).
    return list(
        CadreScore.objects.order_by("cadre", "period").values_list(
            "cadre", "period", "score", "reached"
        )
    )


# One broker queue for every xdist worker: tests with a real Celery worker run in one group.
@pytest.mark.xdist_group("celery-worker")
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_task_of_a_killed_worker_is_redelivered_and_gives_the_same_rows(tree, quota10):  # noqa: F811
    import redis

    cadres = [tree.cadre] + [CadreFactory(organisation=tree.town_b) for _ in range(2)]
    day = timezone.localdate() - datetime.timedelta(days=1)
    for i, cadre in enumerate(cadres):
        log_contact(cadre, link_youths(cadre, 4 + i, sectors=2), day, "talk")
    period = period_containing(timezone.localdate()).code  # what the task computes by default
    services.scores_compute(period=period)
    expected = _rows()
    runs_before = ScoreRun.objects.get(period=period).runs
    assert expected

    db = connection.settings_dict
    url = os.environ["REDIS_URL"]
    broker = redis.Redis.from_url(url)
    broker.flushdb()  # an empty queue and no stale unacked messages
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_VISIBILITY_TIMEOUT": "15",
        # The new worker looks for it every second, not every 10 s (settings' default).
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
    }
    from config.celery_app import app

    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = url, False
    app._pool = None
    app.amqp._producer_pool = None
    first = second = None
    locker = None
    try:
        import psycopg2

        locker = psycopg2.connect(
            host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]
        )
        locker.cursor().execute("LOCK TABLE assessment_scorerun IN EXCLUSIVE MODE")
        first = _worker(env)
        app.send_task("assessment.compute_scores", args=[period], ignore_result=True)

        def task_is_waiting() -> bool:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()",
                    [db["NAME"]],
                )
                return cursor.fetchone()[0] > 0

        _wait(task_is_waiting, 120, "the worker never started the task")
        os.killpg(first.pid, signal.SIGKILL)  # master and children, no chance to requeue
        first.wait(30)
        locker.rollback()
        assert ScoreRun.objects.get(period=period).runs == runs_before  # rolled back
        assert broker.hlen("unacked") == 1  # held by nobody, not yet visible again

        killed_at = time.monotonic()
        second = _worker(env)
        _wait(
            lambda: ScoreRun.objects.get(period=period).runs == runs_before + 1,
            240,
            "the task of the killed worker was never redelivered",
        )
        assert time.monotonic() - killed_at < 240
        assert _rows() == expected
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(30)
        if locker is not None:
            locker.close()
        app.conf.broker_url, app.conf.task_always_eager = saved
        app._pool = None
        app.amqp._producer_pool = None
        broker.flushdb()
