"""Fresh within a minute: every service that moves a stored number calls `numbers_changed`.

The stored numbers (CadreScore, flags, the dashboard's weekly statistics) are computed per
period by `services.scores_compute`, one set-based statement for all cadres. Recomputing it on
every contact would mean 50 full runs a second at province scale; instead changes coalesce:

1. `numbers_changed(on=…, cadre_ids=…)` registers, after the caller's transaction commits, the
   affected periods (the quarter, half year and year containing `on`, plus the current ones)
   and marks the cadres touched in each (TouchedCadre, one row per period and cadre, upsert;
   no cadres named: the whole period);
2. per period, one conditional UPDATE on its RecomputeClaim row flips `pending_since` from
   NULL to now; only the change that wins the flip enqueues a run, `apply_async(countdown=
   DEBOUNCE_SECONDS)`; every later change until that run starts enqueues nothing;
3. the run (`run_pending`, the task `assessment.refresh_period`) claims `running_since`
   with another conditional UPDATE (so at most one run per period at any time), clears
   `pending_since` (changes from now on schedule the next run), drains the period's touched
   cadres, recomputes only them (and their organisations' weekly statistics), and releases;
4. a run that finds the period held by another run re-enqueues itself after the debounce, so a
   change made during a run is never lost and never starts a second concurrent run.

Without a broker (SQLite, `make run`, CELERY_TASK_ALWAYS_EAGER) the task runs in-process right
after the commit. The nightly run (tasks.compute_current) stays as the safety net. A claim left
by a killed worker is taken over after STALE_AFTER.

Incremental, set-based: a cadre's numbers, score and flag depend on their own rows only, so
the run gives the rows a full run would (tests/assessment/test_incremental.py checks exactly
that); the statement is filtered by cadre in every part and reads their rows through the cadre
indexes. The whole period is recomputed instead on the first run of a day (the as-of day moved),
for a closed period, for a "whole period" marker, past services.INCREMENTAL_MAX_SHARE, after a
killed run (its drained markers are gone) and at night. Why the markers are written after the
commit, not in the caller's transaction: written inside, a change whose upsert found an
existing marker that a run then drained before the change committed would be missed by that
run and have no marker for the next one. Figures: `manage.py benchmark_freshness`,
docs/quota-and-freshness.md.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import logging
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import RecomputeClaim, ScoreRun, TouchedCadre
from .periods import Period, parse_period, period_containing

logger = logging.getLogger(__name__)

KINDS = ("quarter", "half", "year")
# TouchedCadre.cadre_id meaning "recompute the whole period".
WHOLE_PERIOD = 0
# A claim older than this is a worker that died mid-run (or a lost task): taken over.
STALE_AFTER = datetime.timedelta(minutes=20)

_paused = threading.local()


def debounce_seconds() -> int:
    """Seconds between the first change and the run that includes it (and later changes)."""
    return int(getattr(settings, "LIANQING_FRESHNESS_DEBOUNCE_SECONDS", 20))


# A run that finds its period held by another retries this soon (not after a whole debounce):
# the changes it carries must not wait a debounce more behind a long run (a full one of a
# province period). A retry costs one UPDATE and one SELECT.
BUSY_RETRY_SECONDS = 3


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Bulk loads (the demo seed) that compute the scores themselves at the end: no run per
    write while they load."""
    previous = getattr(_paused, "on", False)
    _paused.on = True
    try:
        yield
    finally:
        _paused.on = previous


def affected_periods(on: datetime.date, today: datetime.date) -> list[str]:
    """Periods whose stored numbers a change dated `on` can move: those containing `on` and the
    current ones (links and needs count up to each period's as-of day), never a future period,
    nor a closed one whose run is final (frozen: recomputing it would change nothing)."""
    codes, closed = _candidates(min(on, today), today)
    if not closed:  # the common case, a change dated today: no query
        return list(codes)
    frozen = set(
        ScoreRun.objects.filter(period__in=closed, is_final=True).values_list("period", flat=True)
    )
    return [code for code in codes if code not in frozen]


@functools.lru_cache(maxsize=256)
def _candidates(on: datetime.date, today: datetime.date) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(periods containing `on` or today that have started, those of them already closed)."""
    candidates: list[Period] = []
    for kind in KINDS:
        for day in (on, today):
            period = period_containing(day, kind=kind)
            if period.start <= today and period not in candidates:
                candidates.append(period)
    return (
        tuple(p.code for p in candidates),
        tuple(p.code for p in candidates if p.is_closed(today)),
    )


def numbers_changed(
    *,
    on: datetime.date | None = None,
    organisation_id: int | None = None,
    cadre_ids: Iterable[int | None] | None = None,
) -> None:
    """Say that a stored number may have moved (a contact dated `on`, a link made today…) for
    these cadres (None: anyone's, e.g. a new policy version; the run does the whole period).

    Call it inside the service's transaction: the marking and scheduling happen after the
    commit, so a rolled-back write schedules nothing. `organisation_id` is only logged (the
    cadres' organisations are the run's to find)."""
    if getattr(_paused, "on", False):
        return
    ids = None if cadre_ids is None else sorted({c for c in cadre_ids if c is not None})
    if ids == []:
        return
    today = timezone.localdate()
    codes = affected_periods(on or today, today)
    logger.debug("numbers changed on %s (organisation %s): %s", on, organisation_id, codes)

    def after_commit() -> None:
        touch(codes, ids, on=on or today)
        schedule(codes)

    transaction.on_commit(after_commit)


def week_of(day: datetime.date) -> datetime.date:
    """The Monday of a day's week: the `week` of the weekly statistics (metrics.channel_week_sql)."""
    return day - datetime.timedelta(days=day.weekday())


def touch(
    codes: list[str], cadre_ids: list[int] | None, *, on: datetime.date | None = None
) -> None:
    """Mark cadres touched in these periods (None: the whole period), in the week of `on`
    (default today): a contact moves its own week's statistics only. One INSERT … ON CONFLICT
    DO NOTHING: a marker already waiting costs no write."""
    week = week_of(on or timezone.localdate())
    _mark(
        [
            TouchedCadre(period=code, cadre_id=cadre_id, week=week)
            for code in codes
            for cadre_id in (cadre_ids if cadre_ids is not None else [WHOLE_PERIOD])
        ]
    )


def touch_back(code: str, touched: dict[int, set[datetime.date]] | None) -> None:
    """Put drained markers back (a failed run): the same cadres and weeks, or the whole
    period."""
    if touched is None:
        touch([code], None)
        return
    _mark(
        [
            TouchedCadre(period=code, cadre_id=cadre_id, week=week)
            for cadre_id, weeks in touched.items()
            for week in weeks
        ]
    )


# Markers per statement: bounded statement size when staff mark a whole province.
MARK_BATCH = 5000


def _mark(rows: list[TouchedCadre]) -> None:
    """Write markers, ON CONFLICT DO NOTHING. On PostgreSQL, after a commit (the common case:
    numbers_changed's after-commit callback), one statement that is its own transaction and
    commits without waiting for the WAL flush: a marker lost in a server crash costs its cadres'
    freshness until the next full run, not a number. Measured at province scale on the loaded
    machine (load ≈ 11, 4 writer threads), every round trip of a logged contact waited ~8 ms
    for a CPU, a bare `SET LOCAL` too: BEGIN, SET LOCAL, INSERT and COMMIT were four of the
    eleven round trips per contact; this is one."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        TouchedCadre.objects.bulk_create(rows, ignore_conflicts=True, batch_size=MARK_BATCH)
        return
    # Inside a caller's transaction the setting would apply to all of its writes: left alone.
    lazy = (
        ""
        if connection.in_atomic_block
        else ", (SELECT set_config('synchronous_commit', 'off', true)) AS lazy"
    )
    table = TouchedCadre._meta.db_table
    sql = (
        f"INSERT INTO {table} (period, cadre_id, week) "
        "SELECT u.period, u.cadre_id, u.week "
        f"FROM unnest(%s::varchar[], %s::integer[], %s::date[]) AS u(period, cadre_id, week){lazy} "
        "ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), MARK_BATCH):
            batch = rows[start : start + MARK_BATCH]
            cursor.execute(
                sql,
                [[r.period for r in batch], [r.cadre_id for r in batch], [r.week for r in batch]],
            )


def drain(code: str) -> dict[int, set[datetime.date]] | None:
    """Take the period's touched cadres and the weeks of their changes (deleted in one short
    statement of its own, so a change marking one of them meanwhile waits for a moment, not for
    the whole run); None if one marker asks for the whole period."""
    table = TouchedCadre._meta.db_table
    touched: dict[int, set[datetime.date]] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE period = %s RETURNING cadre_id, week", [code])
        for cadre_id, week in cursor.fetchall():
            if not isinstance(week, datetime.date):  # SQLite returns the text
                week = datetime.date.fromisoformat(str(week)[:10])
            touched.setdefault(cadre_id, set()).add(week)
    return None if WHOLE_PERIOD in touched else touched


def schedule(codes: list[str], *, countdown: int | None = None) -> list[str]:
    """Mark the periods pending and enqueue one delayed run for each that was not pending yet.
    Returns the periods for which a run was enqueued."""
    countdown = debounce_seconds() if countdown is None else countdown
    now = timezone.now()
    # The common case at load: every period already pending. One SELECT and one UPDATE then,
    # whatever the rate. Safe: our write committed before this read, and a run that clears
    # pending_since after the read starts after it, so its snapshot includes our write.
    marks = dict(
        RecomputeClaim.objects.filter(period__in=codes).values_list("period", "pending_since")
    )
    # No write at all for those: at 50 changes a second, a counter UPDATE per change would cost
    # a WAL flush each (measured: +20 ms per logged contact on this machine).
    already = {c for c, since in marks.items() if since is not None and since >= now - STALE_AFTER}
    enqueued = []
    for code in codes:
        if code not in already and _flip_pending(code, now) and _enqueue(code, countdown):
            enqueued.append(code)
    return enqueued


def _flip_pending(code: str, now: datetime.datetime) -> bool:
    """True for the one change that turns the period pending."""
    # The conditional flip is the coalescing: exactly one change wins it per pending run. A
    # pending mark older than STALE_AFTER belongs to a lost task and is taken over.
    claims = RecomputeClaim.objects.filter(period=code)
    won = claims.filter(
        Q(pending_since__isnull=True) | Q(pending_since__lt=now - STALE_AFTER)
    ).update(pending_since=now, n_changes=F("n_changes") + 1)
    if won:
        return True
    if claims.exists():
        return False
    # The period's first change ever: create its row (concurrently: one creates, all retry).
    RecomputeClaim.objects.get_or_create(period=code)
    return _flip_pending(code, now)


def _enqueue(code: str, countdown: int) -> bool:
    from .tasks import refresh_period

    try:
        refresh_period.apply_async((code,), countdown=countdown)
    except Exception:  # broker down: the write has committed; the outbox sends the run later
        from cadres.outbox import outbox_keep

        logger.exception("could not enqueue the recomputation of %s; kept in the outbox", code)
        outbox_keep(task_name=refresh_period.name, args=[code], kwargs={})
        return False
    return True


def _kept_in_outbox(code: str) -> bool:
    from cadres.outbox import outbox_holds

    return outbox_holds(task_name="assessment.refresh_period", args=[code])


def run_pending(*, period: str, today: datetime.date | None = None) -> dict:
    """The task's body: run the pending recomputation of a period, one at a time.

    1. nothing pending (a duplicate delivery, or a run already took the changes): done;
    2. claim the period (running_since NULL or stale → now) and clear pending_since in the same
       UPDATE; if another run holds it, re-enqueue after the debounce and stop;
    3. drain the touched cadres (`drain`); a run taking over a killed one's claim does the whole
       period, since the killed run's drained markers are gone;
    4. compute (services.scores_compute, one transaction: nothing half-written) only those
       cadres when possible, then the weekly statistics of their organisations here (an
       incremental run's are small), or of the whole period in their own task;
    5. release the claim, recording duration or error; a failed run puts its markers back.
    """
    from . import chunked, services
    from .tasks import enqueue_contact_stats

    today = today or timezone.localdate()
    parse_period(period, today=today)  # malformed or future: ValidationError, nothing claimed
    now = timezone.now()
    free = Q(running_since__isnull=True) | Q(running_since__lt=now - STALE_AFTER)
    seen = RecomputeClaim.objects.filter(period=period).values_list(
        "running_since", "pending_since"
    )
    held_since, pending_since = seen.first() or (None, None)
    taken_over = held_since is not None and held_since < now - STALE_AFTER
    claimed = (
        RecomputeClaim.objects.filter(period=period, pending_since__isnull=False)
        .filter(free)
        .update(running_since=now, pending_since=None)
    )
    if not claimed:
        busy = RecomputeClaim.objects.filter(
            period=period, pending_since__isnull=False, running_since__isnull=False
        ).exists()
        if busy:  # another run holds it: the pending changes go in the next run
            _enqueue(period, min(BUSY_RETRY_SECONDS, debounce_seconds()))
            return {"period": period, "status": "busy"}
        return {"period": period, "status": "nothing pending"}
    t0 = time.monotonic()
    started = time.time()
    touched = drain(period)
    if taken_over:
        touched = None
    cadre_ids = None if touched is None else set(touched)
    try:
        p = parse_period(period, today=today)
        if services.incremental_ids(period=p, today=today, cadre_ids=cadre_ids) is None:
            bounds = chunked.chunk_bounds()
            if chunked.is_chunked(bounds):
                # More cadres than one step: the bounded steps hold the claim and release it
                # at their end (assessment/chunked.py).
                out = chunked.start(
                    period=p,
                    today=today,
                    claim_since=now,
                    started=started,
                    bounds=bounds,
                    pending=_epoch(pending_since),
                )
                return out or {"period": period, "status": "chained", "steps": len(bounds) + 1}
        run = services.scores_compute(period=period, today=today, cadre_ids=cadre_ids)
        if run.refreshed_organisations is not None and touched is not None:
            _stats_of_touched(run, today, touched)
    except BaseException as exc:
        touch_back(period, touched)
        RecomputeClaim.objects.filter(period=period, running_since=now).update(
            running_since=None, last_error=str(exc)[:500]
        )
        raise
    duration = time.monotonic() - t0
    RecomputeClaim.objects.filter(period=period, running_since=now).update(
        running_since=None,
        last_finished_at=timezone.now(),
        last_duration=duration,
        last_error="",
        n_runs=F("n_runs") + 1,
    )
    if run.refreshed_organisations is None:
        enqueue_contact_stats(run.pk, today, period=period)
    return {
        "period": period,
        "status": "done",
        "run": run.pk,
        "cadres": None if cadre_ids is None else len(cadre_ids),
        "incremental": run.refreshed_organisations is not None,
        "seconds": round(duration, 3),
        # Where the run's time went (services.scores_compute's and the statistics' steps).
        "steps": {name: round(sec, 3) for name, sec in (run.timings or {}).items()},
        # Wall-clock ends of the run, for benchmark_freshness --celery (change → stored).
        "started": round(started, 3),
        "finished": round(time.time(), 3),
        # When the first change of this run marked the period pending (its debounce began).
        "pending": _epoch(pending_since),
    }


def _stats_of_touched(
    run: ScoreRun, today: datetime.date, touched: dict[int, set[datetime.date]]
) -> None:
    """An incremental run's weekly statistics: the organisations of a cadre who changed
    organisation (or had no row at the last run) over the whole period, since all their
    contacts moved; the other touched organisations only in the weeks of the changes, since a
    contact counts in its own week alone (the year's run had read a year of contacts for each
    touched organisation, where one week was new)."""
    from . import services

    moved = run.moved_organisations or set()
    rest = (run.refreshed_organisations or set()) - moved
    if moved:
        services.contact_stats_compute(run=run, today=today, organisation_ids=moved)
    if rest:
        weeks = set().union(*touched.values())
        services.contact_stats_compute(run=run, today=today, organisation_ids=rest, weeks=weeks)


def _epoch(moment: datetime.datetime | None) -> float | None:
    return round(moment.timestamp(), 3) if moment else None


def request_recompute(*, period: str, today: datetime.date | None = None) -> str:
    """Staff's "重新计算": queue a run of the period now. Returns a Chinese message for the page.

    Malformed or future period, or a run already under way: ValidationError with a Chinese
    message; nothing is queued twice and no second concurrent run starts."""
    today = today or timezone.localdate()
    p = parse_period(period, today=today)
    RecomputeClaim.objects.get_or_create(period=p.code)
    claim = RecomputeClaim.objects.get(period=p.code)
    if claim.running_since and claim.running_since >= timezone.now() - STALE_AFTER:
        # Changes made meanwhile are already pending and will be included by the next run.
        raise ValidationError(
            _("%(p)s 正在计算中（%(t)s 开始），请稍候，完成后本页会显示新的统计时间。")
            % {"p": p.label, "t": timezone.localtime(claim.running_since).strftime("%H:%M")}
        )
    touch([p.code], None)  # the button recomputes the whole period
    if schedule([p.code], countdown=0):
        return _("已安排重新计算 %(p)s，通常一分钟内完成。") % {"p": p.label}
    if _kept_in_outbox(p.code):
        return _("任务服务暂时不可用：%(p)s 的重新计算已登记，服务恢复后会自动进行。") % {
            "p": p.label
        }
    return _("%(p)s 已在计算队列中，稍后会自动更新。") % {"p": p.label}


@dataclass(frozen=True)
class Freshness:
    """What a page says about its numbers: when they were computed, and whether newer changes
    are waiting for (or in) a run."""

    period: str
    computed_at: datetime.datetime | None
    pending: bool
    running: bool

    @property
    def changing(self) -> bool:
        return self.pending or self.running

    def as_json(self) -> dict:
        at = timezone.localtime(self.computed_at) if self.computed_at else None
        return {
            "period": self.period,
            "computed_at": at.isoformat() if at else None,
            "computed_hm": at.strftime("%H:%M") if at else None,
            "pending": self.pending,
            "running": self.running,
        }


def freshness_for(*, period: str, run: ScoreRun | None = None) -> Freshness:
    """One query (the claim row); `run` is the run the page shows (its finish time is the
    统计时间)."""
    claim = RecomputeClaim.objects.filter(period=period).first()
    stale = timezone.now() - STALE_AFTER
    running = bool(claim and claim.running_since and claim.running_since >= stale)
    pending = bool(claim and claim.pending_since and claim.pending_since >= stale)
    return Freshness(
        period=period,
        computed_at=run.finished_at if run else None,
        pending=pending,
        running=running,
    )
