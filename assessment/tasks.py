"""Celery tasks of the assessment app: thin, JSON arguments, idempotent (see scores_compute).

IDEMPOTENT (config/celery_app.py): acks_late, reject_on_worker_lost, retry on transient database
errors. A worker killed half-way has its transaction rolled back and the task redelivered (a
killed child at once, a whole killed worker after the visibility timeout); the rerun writes the
same rows.
"""

from __future__ import annotations

import datetime

from celery import shared_task
from django.utils import timezone

from config.celery_app import IDEMPOTENT

from . import services
from .periods import period_containing


# The longest task: a province's period (10,000 cadres) is computed in well under a minute on
# PostgreSQL; 240 s is the ceiling, below the visibility timeout (300 s, settings).
@shared_task(name="assessment.compute_scores", **IDEMPOTENT, time_limit=240, soft_time_limit=210)
def compute_scores(period: str, policy_id: int | None = None) -> dict:
    from .models import ScoringPolicy

    policy = ScoringPolicy.objects.get(pk=policy_id) if policy_id else None
    run = services.scores_compute(period=period, policy=policy)
    _enqueue_contact_stats(run.pk)
    return {"run": run.pk, "period": run.period, "cadres": run.n_cadres, "final": run.is_final}


@shared_task(
    name="assessment.compute_contact_stats", **IDEMPOTENT, time_limit=180, soft_time_limit=150
)
def compute_contact_stats(run_id: int, today: str | None = None) -> int:
    """The dashboard's contacts per organisation × week × channel of a run's period.

    Its own task, after the scores: the score computation does not wait for a dashboard
    aggregate, and a busy deployment can give it its own worker. Idempotent like the scores."""
    from .models import ScoreRun

    day = datetime.date.fromisoformat(today) if today else None
    return services.contact_stats_compute(run=ScoreRun.objects.get(pk=run_id), today=day)


def enqueue_contact_stats(run_id: int, today: datetime.date | None = None) -> None:
    arg = today.isoformat() if today else None
    from cadres.outbox import enqueue

    # After commit, through the outbox: a broker lost between the scores and the statistics
    # keeps the job for later instead of failing the finished computation.
    enqueue(compute_contact_stats, run_id, arg)


_enqueue_contact_stats = enqueue_contact_stats


# The coalesced recomputation of one period (assessment/freshness.py). Limits within the
# broker's visibility timeout (config/settings/base.py), like compute_scores: a period's run
# takes seconds on a banner and under a minute at province scale.
@shared_task(name="assessment.refresh_period", **IDEMPOTENT, time_limit=240, soft_time_limit=210)
def refresh_period(period: str) -> dict:
    """The coalesced recomputation of one period after changes (assessment/freshness.py)."""
    from . import freshness

    return freshness.run_pending(period=period)


# Four periods in a row, each like compute_scores; beat runs it at night.
@shared_task(name="assessment.compute_current", **IDEMPOTENT, time_limit=240, soft_time_limit=210)
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


# Beat, daily and weekly (config/celery_app.py). A few thousand rows at province scale, a few
# seconds; the limits are those of every task here, below the visibility timeout.
@shared_task(name="assessment.refresh_reminders", **IDEMPOTENT, time_limit=240, soft_time_limit=210)
def refresh_reminders() -> dict[str, int]:
    """Beat, daily: every user's reminders (assessment/reminders.py), in one pass."""
    from . import reminders

    return reminders.reminders_refresh()


@shared_task(name="assessment.send_digests", **IDEMPOTENT, time_limit=240, soft_time_limit=210)
def send_digests() -> int:
    """Beat, weekly: refresh the reminders, then mail the digest to those who asked for it.
    At most one digest per user and week, however often it runs (reminders.digests_send)."""
    from . import reminders

    reminders.reminders_refresh()
    return reminders.digests_send()
