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
def compute_contact_stats(run_id: int, today: str | None = None, period: str | None = None) -> int:
    """The dashboard's contacts per organisation × week × channel of a run's period.

    Its own task, after the scores: the score computation does not wait for a dashboard
    aggregate. `period` (the run's) only routes it to its period kind's queue
    (assessment/queues.py). Idempotent like the scores."""
    from .models import ScoreRun

    day = datetime.date.fromisoformat(today) if today else None
    return services.contact_stats_compute(run=ScoreRun.objects.get(pk=run_id), today=day)


def enqueue_contact_stats(
    run_id: int, today: datetime.date | None = None, *, period: str | None = None
) -> None:
    arg = today.isoformat() if today else None
    from cadres.outbox import enqueue

    # After commit, through the outbox: a broker lost between the scores and the statistics
    # keeps the job for later instead of failing the finished computation.
    if period:
        enqueue(compute_contact_stats, run_id, arg, period=period)
    else:
        enqueue(compute_contact_stats, run_id, arg)


_enqueue_contact_stats = enqueue_contact_stats


# The coalesced recomputation of one period (assessment/freshness.py), on its period kind's queue
# (assessment/queues.py). Limits within the broker's visibility timeout (config/settings/base.py):
# an incremental run takes seconds to tens of seconds at province scale, and a whole period
# with more cadres than one chunk runs as the bounded steps below, not in this task.
@shared_task(name="assessment.refresh_period", **IDEMPOTENT, time_limit=240, soft_time_limit=210)
def refresh_period(period: str) -> dict:
    """The coalesced recomputation of one period after changes (assessment/freshness.py)."""
    from . import freshness

    return freshness.run_pending(period=period)


# A whole period's steps (assessment/chunked.py): 1,000 cadres' metrics, scores, flags and padding
# detection (≈ 30 s for the year at province scale, load ≈ 5), then the whole-period remainder.
@shared_task(name="assessment.refresh_part", **IDEMPOTENT, time_limit=240, soft_time_limit=210)
def refresh_part(
    *, period: str, today: str, policy_id: int, claim_since: str, lo: int, hi: int | None
) -> dict:
    from . import chunked

    return chunked.run_part(
        period=period, today=today, policy_id=policy_id, claim_since=claim_since, lo=lo, hi=hi
    )


@shared_task(name="assessment.refresh_finish", **IDEMPOTENT, time_limit=240, soft_time_limit=210)
def refresh_finish(
    *,
    period: str,
    today: str,
    policy_id: int,
    claim_since: str,
    started: float,
    pending: float | None = None,
) -> dict:
    from . import chunked

    return chunked.run_finish(
        period=period,
        today=today,
        policy_id=policy_id,
        claim_since=claim_since,
        started=started,
        pending=pending,
    )


# Beat runs it at night. It only schedules: each period's whole recomputation then runs on its
# kind's queue through the claim (in bounded steps at province scale), never four periods in one
# task (at province scale they took ~12 minutes together under load, past any time limit).
@shared_task(name="assessment.compute_current", **IDEMPOTENT, time_limit=60, soft_time_limit=50)
def compute_current() -> list[dict]:
    """Beat, daily: recompute the current quarter, half year and year; and give the quarter
    just closed its final run (after which it is frozen)."""
    from . import freshness

    today = timezone.localdate()
    current = period_containing(today)
    results = []
    for period in (
        current.previous(),
        current,
        period_containing(today, kind="half"),
        period_containing(today, kind="year"),
    ):
        freshness.touch([period.code], None)  # the whole period
        enqueued = freshness.schedule([period.code], countdown=0)
        results.append({"period": period.code, "scheduled": bool(enqueued)})
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
