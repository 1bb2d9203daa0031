"""Idempotency under concurrency (PostgreSQL row locks) and the Celery path on a real worker."""

from __future__ import annotations

import datetime
import time

import pytest

from assessment import services
from assessment.models import CadreScore, ScoreRun
from tests.assessment.conftest import TODAY, link_youths, log_contact
from tests.factories import CadreFactory
from tests.threads import in_threads


@pytest.fixture
def busy(tree, quota10):
    cadres = [tree.cadre] + [CadreFactory(organisation=tree.town_b) for _ in range(3)]
    for i, cadre in enumerate(cadres):
        youths = link_youths(cadre, 4 + i, sectors=2)
        log_contact(cadre, youths, datetime.date(2026, 7, 3), "talk")
    return cadres


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_leave_the_same_rows(busy):
    def work():
        services.scores_compute(period="2026Q3", today=TODAY)

    assert in_threads(work, work, timeout=60) == []
    assert ScoreRun.objects.get(period="2026Q3").runs == 2  # serialised by the run row lock
    # Only 2026Q3: the fixture's links also had the current periods recomputed after commit
    # (assessment/freshness.py), which this test is not about.
    q3 = CadreScore.objects.filter(period="2026Q3").order_by("cadre")
    rows = list(q3.values_list("cadre", "score", "reached"))
    assert len(rows) == 4
    services.scores_compute(period="2026Q3", today=TODAY)
    assert list(q3.values_list("cadre", "score", "reached")) == rows


@pytest.mark.redis
# The in-thread worker consumes the shared Redis queue; were two xdist workers to run one each,
# either could take the other's task and run it against the other's test database. One group
# keeps every real-worker test on one xdist worker, one at a time.
@pytest.mark.xdist_group("celery-worker")
@pytest.mark.django_db(transaction=True)
def test_compute_through_a_real_celery_worker_on_redis(busy):
    from celery.contrib.testing.worker import start_worker

    from assessment.tasks import compute_scores
    from tests.celery_helpers import own_broker

    with (
        own_broker(10) as app,
        start_worker(app, pool="solo", perform_ping_check=False, loglevel="error"),
    ):
        result = compute_scores.delay("2026Q3")
        assert type(result).__name__ == "AsyncResult"  # not an eager result
        out = result.get(timeout=60)
        # The worker also runs the dashboard statistics, queued after the scores commit.
        from assessment.models import ChannelWeekStat

        deadline = time.monotonic() + 60
        while not ChannelWeekStat.objects.filter(run_id=out["run"]).exists():
            assert time.monotonic() < deadline, "contact statistics task never ran"
            time.sleep(0.2)
    assert out["period"] == "2026Q3" and out["cadres"] == 4
    assert CadreScore.objects.filter(period="2026Q3").count() == 4
