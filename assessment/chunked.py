"""A whole-period recomputation in bounded steps, so that no task approaches its time limit.

At province scale (10,001 cadres) the year's whole run — scores, flags and padding detection in
one transaction — took 378 s on the loaded benchmark machine, past the task's 240 s limit (and
every limit must stay below the broker's 300 s visibility timeout). `freshness.run_pending`
therefore runs a whole period that has more cadres than one chunk as a chain of tasks on the
period kind's queue (assessment/queues.py):

1. `run_part` × N: the cadres of one id range (LIANQING_RUN_CHUNK_CADRES, default 1,000): their
   metrics, scores (their older rows of the run gone), flags and padding findings
   (integrity.findings_store with `cadre_range`: every signal is a cadre's own), in one
   transaction under the run's row lock (services.cadres_compute, the same code as the
   single-transaction run);
2. `run_finish`: rows and findings no step wrote (cadres deleted or inactive since) removed,
   the dashboards' subtree score figures, the organisation rollups (latest quarter), the run's as-of day, count and finish time; then
   the claim is released and the weekly statistics are queued as before.

Why the rows equal a full recomputation: a cadre's numbers, score and flag depend on their own
rows only (the incremental run relies on the same fact, tests/assessment/test_incremental.py),
and the id ranges cover every cadre id (the first starts at 0, the last is open-ended). The
steps run under the period's claim (RecomputeClaim.running_since, held from run_pending to
run_finish), so no other run of the period interleaves; changes made meanwhile wait as markers
for the next run. Each step first checks that the claim is still the one it was started under:
a step of a chain whose claim was taken over (STALE_AFTER) or given up after a failure does
nothing. A failed step puts a whole-period marker back, releases the claim with the error and
schedules a new run; a step whose worker was killed is redelivered (acks_late) and continues
the chain. While a chain runs the pages show the previous 统计时间 and "计算中…"; the rows are
replaced range by range, each row a cadre's true numbers as of the day the chain started.

Without a broker (CELERY_TASK_ALWAYS_EAGER) the steps run one after another in-process.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cadres.models import Cadre
from cadres.rollups import organisation_rollup_refresh

from . import integrity as integrity_signals
from . import metrics, services
from .models import CadreScore, IntegrityFinding, RecomputeClaim, ScoreRun, ScoringPolicy
from .periods import Period, parse_period
from .subtree_stats import subtree_score_stats_store


def chunk_size() -> int:
    """Cadres per step. Measured on the province seed, load average ≈ 5: the year's metrics
    took 13.6 s and its padding detection 41–50 s for 2,000 cadres (222 s for all 10,001).
    1,000 keeps the year's heaviest step near 30 s there, far inside the 240 s limit on a
    machine three times as loaded."""
    return max(1, int(getattr(settings, "LIANQING_RUN_CHUNK_CADRES", 1000)))


def chunk_bounds(size: int | None = None) -> list[tuple[int, int | None]]:
    """Id ranges [lo, hi) covering every cadre id, `size` cadres each (the last open-ended)."""
    size = size or chunk_size()
    ids = list(Cadre.objects.order_by("pk").values_list("pk", flat=True))
    lows = ids[::size] or [0]
    lows[0] = 0
    return [(lo, lows[i + 1] if i + 1 < len(lows) else None) for i, lo in enumerate(lows)]


def is_chunked(bounds: list[tuple[int, int | None]]) -> bool:
    return len(bounds) > 1


def start(
    *,
    period: Period,
    today: datetime.date,
    claim_since: datetime.datetime,
    started: float,
    bounds: list[tuple[int, int | None]],
    pending: float | None = None,
) -> dict[str, Any] | None:
    """Send the chain (or, eager, run it here and return run_finish's result). Called by
    freshness.run_pending holding the claim `claim_since`."""
    policy = services.policy_current()
    window = metrics.Window.for_period(period, today)
    ScoreRun.objects.get_or_create(
        period=period.code, policy=policy, defaults={"as_of": window.as_of}
    )
    args = {
        "period": period.code,
        "today": today.isoformat(),
        "policy_id": policy.pk,
        "claim_since": claim_since.isoformat(),
    }
    if inline():
        for lo, hi in bounds:
            run_part(**args, lo=lo, hi=hi)
        return run_finish(**args, started=started, pending=pending)
    from celery import chain

    from .tasks import refresh_finish, refresh_part

    steps = [refresh_part.si(**args, lo=lo, hi=hi) for lo, hi in bounds]
    chain(*steps, refresh_finish.si(**args, started=started, pending=pending)).apply_async()
    return None


def inline() -> bool:
    """No broker (eager): the steps run here, one after another. benchmark_freshness's
    in-process worker replaces this to run them inline too."""
    from config.celery_app import app

    # The app's setting, not Django's: a test that starts a real worker turns eager off there.
    return bool(app.conf.task_always_eager)


def _ours(period: str, claim_since: datetime.datetime) -> bool:
    return RecomputeClaim.objects.filter(period=period, running_since=claim_since).exists()


def _failed(period: str, claim_since: datetime.datetime, exc: BaseException) -> None:
    """A step failed: the whole period is marked again, the claim released with the error, and
    a new run scheduled (after the debounce)."""
    from . import freshness

    freshness.touch([period], None)
    released = RecomputeClaim.objects.filter(period=period, running_since=claim_since).update(
        running_since=None, last_error=str(exc)[:500]
    )
    # The step's own transaction has been rolled back. With a broker, a new run after the
    # debounce; eager (in-process), not: the run would start again at once inside this
    # handler, a loop on a lasting error. The whole-period marker waits for the next change.
    if released and not inline():
        freshness.schedule([period])


def _context(
    period: str, today: str, policy_id: int
) -> tuple[Period, datetime.date, metrics.Window, ScoringPolicy]:
    day = datetime.date.fromisoformat(today)
    p = parse_period(period, today=day)
    return p, day, metrics.Window.for_period(p, day), ScoringPolicy.objects.get(pk=policy_id)


def run_part(
    *, period: str, today: str, policy_id: int, claim_since: str, lo: int, hi: int | None
) -> dict[str, Any]:
    """Step 1: the cadres with lo <= id < hi (hi None: no upper bound)."""
    since = datetime.datetime.fromisoformat(claim_since)
    if not _ours(period, since):
        return {"period": period, "status": "superseded"}
    p, _day, window, policy = _context(period, today, policy_id)
    t0 = time.monotonic()
    try:
        with transaction.atomic():
            run = ScoreRun.objects.select_for_update().get(period=period, policy=policy)
            if run.is_final:
                return {"period": period, "status": "final"}
            cadres = Cadre.objects.filter(pk__gte=lo)
            if hi is not None:
                cadres = cadres.filter(pk__lt=hi)
            ids = set(cadres.values_list("pk", flat=True))
            now = timezone.now()
            rows, ballot_status = services.cadres_compute(
                run=run,
                period=p,
                window=window,
                policy=policy,
                some=ids,
                now=now,
                flags=services.flags_wanted(p),
            )
            integrity_signals.findings_store(
                run=run, period=p, as_of=window.as_of, policy=policy, now=now, cadre_range=(lo, hi)
            )
            ScoreRun.objects.filter(pk=run.pk).update(sources={"ballots": ballot_status})
    except BaseException as exc:
        _failed(period, since, exc)
        raise
    return {
        "period": period,
        "status": "part",
        "lo": lo,
        "hi": hi,
        "cadres": len(rows),
        "seconds": round(time.monotonic() - t0, 3),
    }


def run_finish(
    *,
    period: str,
    today: str,
    policy_id: int,
    claim_since: str,
    started: float,
    pending: float | None = None,
) -> dict[str, Any]:
    """Step 2: what needs the whole period once every range is stored; releases the claim."""
    from .tasks import enqueue_contact_stats

    since = datetime.datetime.fromisoformat(claim_since)
    if not _ours(period, since):
        return {"period": period, "status": "superseded"}
    p, day, window, policy = _context(period, today, policy_id)
    try:
        with transaction.atomic():
            run = ScoreRun.objects.select_for_update().get(period=period, policy=policy)
            if not run.is_final:
                now = timezone.now()
                # Rows no step rewrote: cadres deleted or no longer active since.
                CadreScore.objects.filter(run=run, computed_at__lt=since).delete()
                IntegrityFinding.objects.filter(run=run, computed_at__lt=since).delete()
                subtree_score_stats_store(run=run)  # every subtree: the whole run's scores
                if services.flags_wanted(p):
                    organisation_rollup_refresh(now=now)
                run.as_of = window.as_of
                run.n_cadres = CadreScore.objects.filter(run=run).count()
                run.started_at = since
                run.finished_at = timezone.now()
                run.runs += 1
                run.is_final = p.is_closed(day)
                run.save()
    except BaseException as exc:
        _failed(period, since, exc)
        raise
    RecomputeClaim.objects.filter(period=period, running_since=since).update(
        running_since=None,
        last_finished_at=timezone.now(),
        last_duration=time.time() - started,
        last_error="",
        n_runs=F("n_runs") + 1,
    )
    enqueue_contact_stats(run.pk, day, period=period)
    return {
        "period": period,
        "status": "done",
        "run": run.pk,
        "cadres": None,
        "incremental": False,
        "chunks": True,
        "seconds": round(time.time() - started, 3),
        "started": round(started, 3),
        "finished": round(time.time(), 3),
        "pending": pending,  # for benchmark_freshness, like run_pending's
    }
