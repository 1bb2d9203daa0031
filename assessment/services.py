"""Writes of the assessment app: policy versions, score computation, flags and reminders.
Keyword-only, `by=` the acting user. Supervision cases, the committee's review notes and the
verification of integrity findings are in assessment/supervision.py."""

from __future__ import annotations

import contextlib
import datetime
import time
from collections.abc import Callable, Collection, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cadres.rollups import organisation_rollup_refresh

from . import integrity as integrity_signals
from . import metrics, scoring, sources
from .flags import flags_refresh
from .freshness import numbers_changed
from .models import (
    COMPONENTS,
    CadreScore,
    ChannelWeekStat,
    ScoreRun,
    ScoringPolicy,
)
from .periods import Period, parse_period
from .subtree_stats import subtree_score_stats_store, subtree_week_stats_store

if TYPE_CHECKING:  # only for annotations
    from cadres.models import User

POLICY_FIELDS = [f"w_{code}" for code in COMPONENTS] + [
    "flag_score_below",
    "quota_grace_days",
    "no_contact_days",
    "overdue_needs_max",
]
# Scores are written in batches: bounded memory and statement size whatever the province.
UPSERT_BATCH = 5000
# An incremental run (only the touched cadres) is given up for the whole period above this share
# of the run's cadres: the cadre-filtered statement then reads as much as the full one.
INCREMENTAL_MAX_SHARE = 0.5


# --- Policy -------------------------------------------------------------------------------------


def policy_current() -> ScoringPolicy:
    """The newest policy version; the default policy (version 1) if none was ever saved."""
    policy = ScoringPolicy.objects.order_by("-version").first()
    if policy is None:
        try:
            with transaction.atomic():
                policy = ScoringPolicy.objects.create(version=1, note=_("默认规则"))
        except IntegrityError:  # created concurrently
            policy = ScoringPolicy.objects.get(version=1)
    return policy


def policy_validate(values: dict) -> None:
    """Weights non-negative integers summing to 100; thresholds non-negative (Chinese errors)."""
    errors: dict[str, str] = {}
    for name in POLICY_FIELDS:
        value = values.get(name)
        if value is None or not isinstance(value, int) or value < 0:
            errors[name] = _("必须是不小于 0 的整数。")
    if not errors:
        total = sum(values[f"w_{code}"] for code in COMPONENTS)
        if total != 100:
            errors["__all__"] = _("各项权重之和必须等于 100，现在是 %(total)s。") % {"total": total}
        if values["flag_score_below"] > 100:
            errors["flag_score_below"] = _("预警分数线不能超过 100。")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def policy_create(*, values: dict, note: str = "", by: User | None = None) -> ScoringPolicy:
    """Save a changed policy as a new version (old versions and their scores stay as they are)."""
    policy_validate(values)
    last = ScoringPolicy.objects.select_for_update().order_by("-version").first()
    numbers_changed()  # the current periods get runs under the new version
    # The padding thresholds carry over from the last version unless the change sets them.
    thresholds = values.get("integrity") or (
        last.integrity if last else integrity_signals.DEFAULT_THRESHOLDS
    )
    return ScoringPolicy.objects.create(
        version=(last.version if last else 0) + 1,
        note=note[:200],
        created_by=by,
        integrity=integrity_signals.thresholds_of_values(thresholds),
        **{name: values[name] for name in POLICY_FIELDS},
    )


# --- Computation --------------------------------------------------------------------------------


def scores_compute(
    *,
    period: str | Period,
    today: datetime.date | None = None,
    policy: ScoringPolicy | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    flags: bool | None = None,
    integrity: bool = True,
    cadre_ids: Collection[int] | None = None,
    by: User | None = None,
) -> ScoreRun:
    """Compute and store every cadre's score for a period under a policy version.

    With `cadre_ids` (assessment/freshness.py: the cadres touched since the last run) only those
    cadres' scores and flags are recomputed, when that gives the rows a full run would: the run
    exists, was completed today (same as-of day: nothing moved by the calendar) and the period
    is still open; otherwise, or past INCREMENTAL_MAX_SHARE, the whole period. The run's
    `refreshed_organisations` then says whose statistics to bring up to date (None: all).

    Idempotent: twice, concurrently or after a crash it leaves the same rows.
    1. claim the run row (period × version) and lock it: a concurrent run waits here;
    2. a final (frozen) run is left as it is;
    3. the raw numbers of all cadres: one SQL statement (assessment/metrics.py);
    4. ballot outcomes of secretaries through the adapter (if the ballots app is there);
    5. scores in memory, upserted (unique cadre × period × version), stale rows gone;
    6. flags (for the latest quarter; `flags=True` forces them, as benchmark_scores does for a
       past quarter), and cases of recovered cadres closed;
    7. padding detection (assessment/integrity.py): the run's findings replaced, a handful of
       set-based statements (`integrity=False` skips it: benchmark_integrity times both apart);
    all in one transaction: a worker killed half-way leaves nothing half-written.
    The dashboard's contact statistics are a second step, `contact_stats_compute`.
    """
    today = today or timezone.localdate()
    if isinstance(period, str):
        period = parse_period(period, today=today)
    elif period.start > today:
        raise ValidationError(_("%(label)s 尚未开始，不能计算。") % {"label": period.label})
    policy = policy or policy_current()
    window = metrics.Window.for_period(period, today)
    total_steps = 6

    def step(n: int, text: str) -> None:
        if progress:
            progress(n, total_steps, text)

    with transaction.atomic():
        step(1, _("锁定计算批次"))
        run, _created = ScoreRun.objects.get_or_create(
            period=period.code, policy=policy, defaults={"as_of": window.as_of}
        )
        run = ScoreRun.objects.select_for_update().get(pk=run.pk)
        if run.is_final:
            step(total_steps, _("该时段已定稿，未重新计算"))
            return run
        some = _incremental_ids(run, cadre_ids, period=period, window=window, today=today)
        now = timezone.now()
        run.started_at = now
        run.timings = {}
        if flags is None:
            flags = flags_wanted(period)
        # Read before the upsert overwrites them: the organisations at the last run.
        before = None if some is None else _organisations_at_last_run(run, some)
        rows, ballot_status = cadres_compute(
            run=run,
            period=period,
            window=window,
            policy=policy,
            some=some,
            now=now,
            flags=flags,
            step=step,
        )
        if some is not None and before is not None:
            _organisations_to_refresh(run, some, before)
        # The dashboards' subtree figures follow the scores (only the changed subtrees').
        with timed(run, "subtree_scores"):
            subtree_score_stats_store(run=run, organisation_ids=run.refreshed_organisations)
        if flags:
            # Once per chain, with the latest quarter: the staff pages' per-organisation counts.
            with timed(run, "rollups"):
                organisation_rollup_refresh(now=now)

        # Padding detection compares a cadre's logs across the whole period (and with the
        # youths' other cadres): left to the full runs (the first of each day, the nightly one).
        if integrity and some is None:
            step(6, _("真实性核查"))
            with timed(run, "integrity"):
                integrity_signals.findings_store(
                    run=run, period=period, as_of=window.as_of, policy=policy, now=now
                )

        run.as_of = window.as_of
        run.n_cadres = len(rows) if some is None else CadreScore.objects.filter(run=run).count()
        run.sources = {"ballots": ballot_status}
        run.finished_at = timezone.now()
        run.runs += 1
        run.is_final = period.is_closed(today)
        run.save()
    return run


def flags_wanted(period: Period) -> bool:
    """Flags follow the latest quarter only (a past quarter's run leaves them as they are)."""
    return period.kind == "quarter" and not _later_quarter_exists(period)


def cadres_compute(
    *,
    run: ScoreRun,
    period: Period,
    window: metrics.Window,
    policy: ScoringPolicy,
    some: Collection[int] | None,
    now: datetime.datetime,
    flags: bool,
    step: Callable[[int, str], None] | None = None,
) -> tuple[list[dict[str, Any]], str]:
    """Steps 3–5 of scores_compute for the cadres `some` (None: all), inside the caller's
    transaction and under its lock of `run`: metrics, ballots, scores upserted (the cadres'
    older rows of the run gone), flags. Shared by the single-transaction run and the bounded
    steps of assessment/chunked.py. Returns the metric rows and the ballots' source status."""
    step = step or (lambda n, text: None)
    step(2, _("统计全部团干部的联系、领域与需求"))
    with timed(run, "metrics"):
        rows = metrics.cadre_metrics(window, cadre_ids=some)

    step(3, _("读取满意度测评结果"))
    secretaries = [m["cadre_id"] for m in rows if m["is_secretary"]]
    ballots = sources.ballot_outcomes(year=window.as_of.year, cadre_ids=secretaries)

    step(4, _("计算并保存 %(n)s 名团干部的活跃度") % {"n": len(rows)})
    t0 = time.perf_counter()
    weights = policy.weights()
    scored = []
    for m in rows:
        ballot = ballots.data.get(m["cadre_id"], "") if m["is_secretary"] else ""
        comps = scoring.components(m, ballot)
        value = scoring.score(comps, weights)
        m["score"] = value
        scored.append(_score_row(m, comps, value, ballot, run, period, policy, now))
        if len(scored) >= UPSERT_BATCH:
            _upsert(scored)
            scored = []
    _upsert(scored)
    stale = CadreScore.objects.filter(run=run, computed_at__lt=now)
    if some is not None:
        stale = stale.filter(cadre_id__in=list(some))  # the others' rows are current
    stale.delete()
    _add_time(run, "scores", time.perf_counter() - t0)

    step(5, _("更新预警"))
    if flags:
        with timed(run, "flags"):
            flags_refresh(
                rows=rows, policy=policy, period=period, as_of=window.as_of, now=now, cadre_ids=some
            )
    return rows, ballots.status


@contextlib.contextmanager
def timed(run: ScoreRun, name: str) -> Iterator[None]:
    """Add the block's seconds to `run.timings[name]` (the benchmark's "where the time went")."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        _add_time(run, name, time.perf_counter() - t0)


def _add_time(run: ScoreRun, name: str, seconds: float) -> None:
    if run.timings is None:
        run.timings = {}
    run.timings[name] = run.timings.get(name, 0.0) + seconds


def _organisations_at_last_run(run: ScoreRun, some: Collection[int]) -> dict[int, int]:
    """cadre → organisation of the recomputed cadres' rows at the run's last computation."""
    return dict(
        CadreScore.objects.filter(run=run, cadre_id__in=list(some)).values_list(
            "cadre_id", "organisation_id"
        )
    )


def _organisations_to_refresh(run: ScoreRun, some: Collection[int], before: dict[int, int]) -> None:
    """Set the incremental run's `refreshed_organisations`: those the recomputed cadres are in
    now (the weekly statistics count every contact under its cadre's current organisation,
    active or not) and were in at the last run; and `moved_organisations`, those of a cadre who
    changed organisation or had no row at the last run, whose statistics need every week (a
    moved cadre's whole history moves with them)."""
    from cadres.models import Cadre

    now_in = dict(Cadre.objects.filter(pk__in=list(some)).values_list("pk", "organisation_id"))
    moved: set[int] = set()
    for cadre_id in some:
        old, new = before.get(cadre_id), now_in.get(cadre_id)
        if old != new:
            moved |= {org for org in (old, new) if org is not None}
    run.refreshed_organisations = set(now_in.values()) | set(before.values())
    run.moved_organisations = moved


def incremental_ids(
    *, period: Period, today: datetime.date, cadre_ids: Collection[int] | None
) -> set[int] | None:
    """What scores_compute would recompute for these touched cadres: the set (incremental) or
    None (the whole period), read without the run lock. freshness.run_pending decides by it
    whether a whole period goes to the bounded steps (assessment/chunked.py)."""
    if cadre_ids is None:
        return None
    run = ScoreRun.objects.filter(period=period.code, policy=policy_current()).first()
    if run is None:
        return None
    window = metrics.Window.for_period(period, today)
    return _incremental_ids(run, cadre_ids, period=period, window=window, today=today)


def _incremental_ids(
    run: ScoreRun,
    cadre_ids: Collection[int] | None,
    *,
    period: Period,
    window: metrics.Window,
    today: datetime.date,
) -> set[int] | None:
    """The cadres an incremental run recomputes, or None for the whole period (see
    scores_compute)."""
    if cadre_ids is None or run.finished_at is None:
        return None
    if run.as_of != window.as_of or period.is_closed(today):
        return None  # a new day moves every cadre's "days since", due and overdue needs
    ids = set(cadre_ids)
    if len(ids) > INCREMENTAL_MAX_SHARE * max(run.n_cadres, 1):
        return None
    return ids


def contact_stats_compute(
    *,
    run: ScoreRun,
    today: datetime.date | None = None,
    organisation_ids: Collection[int] | None = None,
    weeks: Collection[datetime.date] | None = None,
) -> int:
    """Contacts per organisation × week × channel of a run's period, for dashboards and bulletins
    (one aggregate over the contacts; only changed rows are written, metrics.store_channel_weeks;
    with `organisation_ids`, only theirs, and with `weeks` (Mondays) only those weeks of theirs:
    the incremental run).
    Idempotent: updated under the run row lock; a final run's statistics are frozen with it once
    they exist. Returns the number of rows."""
    today = today or timezone.localdate()
    period = parse_period(run.period, today=today)
    window = metrics.Window.for_period(period, today)
    with transaction.atomic():
        locked = ScoreRun.objects.select_for_update().get(pk=run.pk)
        existing = ChannelWeekStat.objects.filter(run=locked)
        if locked.is_final and existing.exists():
            return existing.count()
        with timed(run, "week_stats"):
            written = metrics.store_channel_weeks(
                run_id=run.pk, window=window, organisation_ids=organisation_ids, weeks=weeks
            )
        # The dashboards' subtree sums follow the rows just written (assessment/subtree_stats.py).
        with timed(run, "subtree_weeks"):
            written += subtree_week_stats_store(
                run_id=run.pk, organisation_ids=organisation_ids, weeks=weeks
            )
        total = existing.count()
    if connection.vendor == "postgresql" and written * 10 > total:
        # A new run's rows are unknown to the planner until the table is analysed: it then
        # estimated 1 row for 171,274 and the dashboard chart took 514 ms instead of 85 ms.
        # Autovacuum waits for 10 % of the whole table to change, which one run may never reach.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE assessment_channelweekstat, assessment_subtreeweekstat")
    return total


def _later_quarter_exists(period: Period) -> bool:
    return ScoreRun.objects.filter(period__gt=period.code, period__contains="Q").exists()


def _score_row(
    m: dict[str, Any],
    comps: dict[str, float | None],
    value: Decimal,
    ballot: str,
    run: ScoreRun,
    period: Period,
    policy: ScoringPolicy,
    now: datetime.datetime,
) -> CadreScore:
    return CadreScore(
        run=run,
        cadre_id=m["cadre_id"],
        organisation_id=m["organisation_id"],
        period=period.code,
        policy=policy,
        is_secretary=m["is_secretary"],
        score=value,
        quota=m["quota"],
        min_sectors=m["min_sectors"],
        ballot=ballot or "",
        computed_at=now,
        **{
            field: m[column]
            for column, field in zip(metrics.COUNTED_COLUMNS, metrics.SCORE_FIELDS, strict=True)
        },
        **{f"c_{code}": comps[code] for code in COMPONENTS},
    )


_UPDATE_FIELDS = [
    f.name
    for f in CadreScore._meta.concrete_fields
    if f.name not in ("id", "cadre", "period", "policy")
]


def _upsert(rows: list[CadreScore]) -> None:
    if not rows:
        return
    if connection.vendor == "postgresql":
        _upsert_copy(rows)
        return
    if rows:
        CadreScore.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["cadre", "period", "policy"],
            update_fields=_UPDATE_FIELDS,
        )


def _upsert_copy(rows: list[CadreScore]) -> None:
    """PostgreSQL: COPY the batch into a temporary table, then one INSERT … ON CONFLICT DO UPDATE
    (the unique cadre × period × version constraint). Same rows as bulk_create, a fraction of the
    time at 10,000 cadres."""
    from config.bulk import copy_rows

    fields = [f for f in CadreScore._meta.concrete_fields if f.name != "id"]
    columns = [f.column for f in fields]
    table = CadreScore._meta.db_table
    column_list = ", ".join(columns)
    updates = ", ".join(
        f"{c} = EXCLUDED.{c}" for c in columns if c not in ("cadre_id", "period", "policy_id")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS score_batch ON COMMIT DROP AS "
            f"SELECT {column_list} FROM {table} WITH NO DATA"
        )
        cursor.execute("TRUNCATE score_batch")
        copy_rows(
            cursor,
            table="score_batch",
            columns=columns,
            rows=([getattr(obj, f.attname) for f in fields] for obj in rows),
        )
        cursor.execute(
            f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM score_batch "
            f"ON CONFLICT (cadre_id, period, policy_id) DO UPDATE SET {updates}"
        )


# --- Reminders (what is reminded: assessment/reminders.py) ---------------------------------


def notification_mark_read(*, user: User, notification_id: int | None = None) -> int:
    """Mark one of the user's own reminders read (or all of them when no id is given); returns
    how many changed. Another user's id changes nothing (the view answers 404)."""
    from .models import Notification

    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())


@transaction.atomic
def notification_preference_save(*, user: User, values: dict[str, bool]) -> None:
    """Keep the user's choice of kinds and digest; a kind switched off takes its unread
    reminders with it at once (the bell and the next digest no longer count them)."""
    from .models import Notification, NotificationPreference
    from .reminders import KINDS

    fields = {k: bool(values[k]) for k in (*KINDS, "weekly_digest") if k in values}
    NotificationPreference.objects.update_or_create(user=user, defaults=fields)
    off = [k for k in KINDS if fields.get(k) is False]
    if off:
        Notification.objects.filter(user=user, read_at__isnull=True, kind__in=off).delete()
