"""Celery tasks of the assessment app: thin, JSON arguments, idempotent (see scores_compute).

acks_late and reject_on_worker_lost are global settings: a worker killed half-way has its
transaction rolled back and the task redelivered; the rerun writes the same rows.
"""

from __future__ import annotations

import datetime

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from . import services
from .periods import period_containing


@shared_task(name="assessment.compute_scores")
def compute_scores(period: str, policy_id: int | None = None) -> dict:
    from .models import ScoringPolicy

    policy = ScoringPolicy.objects.get(pk=policy_id) if policy_id else None
    run = services.scores_compute(period=period, policy=policy)
    _enqueue_contact_stats(run.pk)
    return {"run": run.pk, "period": run.period, "cadres": run.n_cadres, "final": run.is_final}


@shared_task(name="assessment.compute_contact_stats")
def compute_contact_stats(run_id: int, today: str | None = None) -> int:
    """The dashboard's contacts per organisation × week × channel of a run's period.

    Its own task, after the scores: the score computation does not wait for a dashboard
    aggregate, and a busy deployment can give it its own worker. Idempotent like the scores."""
    from .models import ScoreRun

    day = datetime.date.fromisoformat(today) if today else None
    return services.contact_stats_compute(run=ScoreRun.objects.get(pk=run_id), today=day)


def enqueue_contact_stats(run_id: int, today: datetime.date | None = None) -> None:
    arg = today.isoformat() if today else None
    transaction.on_commit(lambda: compute_contact_stats.delay(run_id, arg))


_enqueue_contact_stats = enqueue_contact_stats


# Its own limits: a period's run takes seconds on a banner and under a minute at province
# scale; a run past 10 minutes is stuck and its claim is taken over (freshness.STALE_AFTER).
@shared_task(name="assessment.refresh_period", soft_time_limit=9 * 60, time_limit=10 * 60)
def refresh_period(period: str) -> dict:
    """The coalesced recomputation of one period after changes (assessment/freshness.py)."""
    from . import freshness

    return freshness.run_pending(period=period)


@shared_task(name="assessment.compute_current")
def compute_current() -> list[dict]:
    """Beat, daily: recompute the current quarter, half year and year; and give the quarter
    just closed its final run (after which it is frozen)."""
    today = timezone.localdate()
    current = period_containing(today)
    results = []
    for period in (
        current.previous(),
        current,
        period_containing(today, kind="half"),
        period_containing(today, kind="year"),
    ):
        run = services.scores_compute(period=period, today=today)
        _enqueue_contact_stats(run.pk, today)
        results.append({"period": run.period, "final": run.is_final, "cadres": run.n_cadres})
    return results
