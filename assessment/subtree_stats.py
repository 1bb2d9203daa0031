"""Subtree rollups of a run (assessment/models_subtree.py): weekly contact statistics and the
dashboard's score figures, for every organisation over its whole subtree.

ChannelWeekStat holds each organisation's own contacts per week and channel; a dashboard of a
subtree summed all of its rows on every view (~250,000 for a province quarter). This module
writes, in the statistics run, for every organisation the sums of its subtree, so that a page
reads one organisation's ~100 rows. Set-based: one aggregate over the run's rows joined to each
organisation's ancestors (a recursive walk up `parent`, the same tree the paths encode), then
only the rows whose sum changed are written (as metrics.store_channel_weeks does).

The score figures (SubtreeScoreStat) are written with the scores (services.scores_compute):
one grouped aggregate per tree level over the run's scores, by the path prefix of that level,
with the same aggregates the dashboard used to run live (score_aggregates, the one definition).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Avg, Count, F, Q, Sum
from django.db.models.functions import Substr

from cadres.models import PATH_SEGMENT_WIDTH, PATH_SEPARATOR, Organisation, User
from cadres.quota import quota_met_q
from cadres.selectors import scope_queryset

from .metrics import date_param, id_filter, id_param
from .models import CadreScore, ScoreRun
from .models_subtree import SubtreeScoreStat, SubtreeWeekStat

SCORE_BUCKETS = [(0, 40), (40, 60), (60, 80), (80, 101)]
QUOTA_BUCKETS = [(0, 25), (25, 50), (50, 75), (75, 100), (100, None)]

TABLE = "assessment_subtreeweekstat"

# (organisation_id, ancestor_id) for every organisation and each of its ancestors, itself
# included: ~12,000 pairs for a province's 2,513 organisations. With `org_ids`, only the
# ancestors of those organisations are kept as `ancestor_id` (the incremental run).
_ANCESTORS = """
WITH RECURSIVE anc (organisation_id, ancestor_id) AS (
    SELECT id, id FROM cadres_organisation
    UNION ALL
    SELECT anc.organisation_id, o.parent_id
    FROM anc JOIN cadres_organisation o ON o.id = anc.ancestor_id
    WHERE o.parent_id IS NOT NULL
), touched (id) AS (
    SELECT id FROM cadres_organisation WHERE {touched}
    UNION
    SELECT o.parent_id FROM touched JOIN cadres_organisation o ON o.id = touched.id
    WHERE o.parent_id IS NOT NULL
)
"""


def _fresh_sql(*, some: bool, some_weeks: bool = False) -> str:
    only = "AND anc.ancestor_id IN (SELECT id FROM touched)" if some else ""
    if some_weeks:
        only += f" AND {id_filter('s.week', 'weeks')}"
    touched = id_filter("id", "org_ids") if some else "FALSE"
    return (
        _ANCESTORS.format(touched=touched)
        + f"""
SELECT anc.ancestor_id AS organisation_id, s.week, s.channel, SUM(s.contacts) AS contacts
FROM assessment_channelweekstat s JOIN anc ON anc.organisation_id = s.organisation_id
WHERE s.run_id = %(run_id)s {only}
GROUP BY anc.ancestor_id, s.week, s.channel
"""
    )


def subtree_week_stats_store(
    *,
    run_id: int,
    organisation_ids: Collection[int] | None = None,
    weeks: Collection[datetime.date] | None = None,
) -> int:
    """Bring the run's subtree sums up to its ChannelWeekStat rows; returns the rows written.

    1. the fresh sums into a temporary table: for every organisation, or with
       `organisation_ids` (the incremental run: the organisations whose own statistics were
       rewritten) for those and their ancestors only, the sums that can have changed, and
       with `weeks` (Mondays: the weeks rewritten) only in those weeks;
    2. delete the run's rows (of those organisations and weeks) whose sum changed or vanished;
    3. insert the fresh rows the run does not have.
    Run it after metrics.store_channel_weeks, in the same transaction (the run row lock), with
    the same organisations and weeks."""
    some = organisation_ids is not None
    some_weeks = some and weeks is not None
    params: dict[str, object] = {"run_id": run_id}
    if organisation_ids is not None:
        if not organisation_ids:
            return 0
        params["org_ids"] = id_param(organisation_ids)
    if some_weeks:
        if not weeks:
            return 0
        params["weeks"] = date_param(weeks or ())
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            # The planner overestimates the ancestor walk (250,000 pairs for 11,000), which
            # switched on JIT compilation: 2.1 s of a 6.3 s statement at province scale, and the
            # ~190,000 groups spilled to disk at the default work_mem (3.2 s without both).
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("DROP TABLE IF EXISTS subtree_week_fresh")
        cursor.execute(
            "CREATE TEMP TABLE subtree_week_fresh AS "
            + _fresh_sql(some=some, some_weeks=some_weeks),
            params,
        )
        only = ""
        if some:
            only = f"AND {TABLE}.organisation_id IN (SELECT id FROM touched)"
            prefix = _ANCESTORS.format(touched=id_filter("id", "org_ids"))
        else:
            prefix = ""
        if some_weeks:
            only += f" AND {id_filter(f'{TABLE}.week', 'weeks')}"
        cursor.execute(
            f"{prefix} DELETE FROM {TABLE} WHERE run_id = %(run_id)s {only} AND NOT EXISTS ("
            "SELECT 1 FROM subtree_week_fresh f WHERE f.organisation_id = "
            f"{TABLE}.organisation_id AND f.week = {TABLE}.week AND f.channel = {TABLE}.channel "
            f"AND f.contacts = {TABLE}.contacts)",
            params,
        )
        deleted = cursor.rowcount
        # The same restriction inside the anti-join: only those rows are read (the unique
        # index), not all of the run's hashed (~1M for a province year).
        cursor.execute(
            f"{prefix} INSERT INTO {TABLE} (run_id, organisation_id, week, channel, contacts) "
            "SELECT %(run_id)s, f.organisation_id, f.week, f.channel, f.contacts "
            f"FROM subtree_week_fresh f WHERE NOT EXISTS (SELECT 1 FROM {TABLE} "
            f"WHERE {TABLE}.run_id = %(run_id)s {only} AND "
            f"{TABLE}.organisation_id = f.organisation_id AND {TABLE}.week = f.week "
            f"AND {TABLE}.channel = f.channel)",
            params,
        )
        inserted = cursor.rowcount
        cursor.execute("DROP TABLE subtree_week_fresh")
        if postgres:
            cursor.execute("SET LOCAL jit TO DEFAULT")
            cursor.execute("SET LOCAL work_mem TO DEFAULT")
    return deleted + inserted


def subtree_weeks(
    *, user: User, organisation: Organisation, run: ScoreRun
) -> list[tuple[datetime.date, str, int]]:
    """(week, channel, contacts) of `organisation`'s subtree for a run, ordered by week and
    channel: one indexed read (subtreeweek_chart_uniq). Nothing for an organisation outside the
    user's scope (scope_queryset), the same answer as summing the subtree's ChannelWeekStat rows
    the user may see, since an organisation in scope has its whole subtree in scope."""
    rows = scope_queryset(
        SubtreeWeekStat.objects.filter(run=run, organisation=organisation), user=user
    )
    return list(rows.order_by("week", "channel").values_list("week", "channel", "contacts"))


def score_aggregates(run: ScoreRun) -> dict[str, Aggregate]:
    """The dashboard's figures over a set of a run's scores, as ORM aggregates: the one
    definition, used by the rollup and by the live read of a run without rollups."""
    aggregates: dict[str, Aggregate] = {
        "n": Count("id"),
        "avg_score": Avg("score"),
        # "Completed the quota": the one rule (cadres/quota.py), youths AND fields.
        "met_quota": Count("id", filter=quota_met_q()),
        "met_sectors": Count("id", filter=Q(sectors__gte=F("min_sectors"))),
        "linked_sum": Sum("linked"),
        "quota_sum": Sum("quota"),
        "reached_sum": Sum("reached"),
        "online": Sum("online_youths"),
        "converted": Sum("converted_youths"),
        "needs_due_sum": Sum("needs_due"),
        "needs_on_time_sum": Sum("needs_on_time"),
        "needs_overdue_sum": Sum("needs_overdue"),
        "needs_backlog_sum": Sum("needs_backlog"),
        "secretaries": Count("id", filter=Q(is_secretary=True)),
        "ballot_satisfied": Count("id", filter=Q(is_secretary=True, ballot="satisfied")),
        "ballot_not": Count("id", filter=Q(is_secretary=True, ballot="not_satisfied")),
        "ballot_invalid": Count("id", filter=Q(is_secretary=True, ballot="invalid")),
        "flag_below": Count("id", filter=Q(score__lt=run.policy.flag_score_below)),
    }
    for lo, hi in SCORE_BUCKETS:
        aggregates[f"s{lo}"] = Count("id", filter=Q(score__gte=lo, score__lt=hi))
    # Quota completion in percent: linked × 100 / quota, bucketed without a per-row query.
    for lo, top in QUOTA_BUCKETS:
        cond = Q(linked__gte=F("quota") * lo / 100.0)
        if top is not None:
            cond &= Q(linked__lt=F("quota") * top / 100.0)
        aggregates[f"q{lo}"] = Count("id", filter=cond)
    return aggregates


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()}


def subtree_score_stats_store(
    *, run: ScoreRun, organisation_ids: Collection[int] | None = None
) -> int:
    """Bring the run's subtree score figures up to its scores; returns the rows written.

    1. per tree level L (root = 1): the scores of organisations at depth >= L - 1 grouped by
       the first L path segments, which is the ancestor at that level: one aggregate and one
       field distribution per level (5 levels for a province: 10 statements over 10,000
       scores), whatever the number of organisations;
    2. compare with the stored rows and write only the changed, new and vanished ones.
    With `organisation_ids` (the incremental run: the organisations of the cadres it
    recomputed) only those organisations and their ancestors are recomputed and written."""
    aggregates = score_aggregates(run)
    by_path = dict(Organisation.objects.values_list("path", "id"))
    segment = PATH_SEGMENT_WIDTH + len(PATH_SEPARATOR)
    levels = max((len(path) // segment for path in by_path), default=0)
    only: set[str] | None = None
    if organisation_ids is not None:
        paths = Organisation.objects.filter(pk__in=organisation_ids).values_list("path", flat=True)
        # An organisation's ancestors are the prefixes of its path, one per level.
        only = {p[: segment * n] for p in paths for n in range(1, len(p) // segment + 1)}
    totals: dict[int, dict[str, Any]] = {}
    sectors: dict[int, list[list[int]]] = defaultdict(list)
    scores = CadreScore.objects.filter(run=run).order_by()
    for level in range(1, levels + 1):
        at_level = scores.filter(organisation__depth__gte=level - 1).annotate(
            branch=Substr("organisation__path", 1, segment * level)
        )
        if only is not None:
            at_level = at_level.filter(branch__in=[p for p in only if len(p) == segment * level])
        for row in at_level.values("branch").annotate(**aggregates):
            org_id = by_path[row.pop("branch")]
            totals[org_id] = _jsonable(row)
        rows = at_level.values_list("branch", "sectors").annotate(n=Count("id"))
        for branch, covered, n in rows.order_by("branch", "sectors"):
            sectors[by_path[branch]].append([covered, n])
    existing = SubtreeScoreStat.objects.filter(run=run)
    if only is not None:
        existing = existing.filter(organisation_id__in=[by_path[p] for p in only])
    stored = {r.organisation_id: r for r in existing}
    new, changed = [], []
    for org_id, figures in totals.items():
        row = stored.pop(org_id, None)
        if row is None:
            new.append(
                SubtreeScoreStat(
                    run=run, organisation_id=org_id, totals=figures, sectors=sectors[org_id]
                )
            )
        elif row.totals != figures or row.sectors != sectors[org_id]:
            row.totals, row.sectors = figures, sectors[org_id]
            changed.append(row)
    SubtreeScoreStat.objects.bulk_create(new, batch_size=2000)
    SubtreeScoreStat.objects.bulk_update(changed, ["totals", "sectors"], batch_size=2000)
    # Subtrees left without scores (every cadre moved away): no row, the figures of nothing.
    SubtreeScoreStat.objects.filter(pk__in=[r.pk for r in stored.values()]).delete()
    return len(new) + len(changed) + len(stored)


def subtree_scores(
    *, user: User, organisation: Organisation, run: ScoreRun
) -> tuple[dict[str, Any], list[tuple[int, int]]] | None:
    """The stored score figures of `organisation`'s subtree (score_aggregates' keys) and its
    field distribution, through the user's scope: one indexed read (subtreescore_read_uniq).
    None when the run has no row for it: no scores in the subtree, or a run computed before
    the rollups existed (the caller aggregates live, which is cheap for an empty subtree)."""
    row = (
        scope_queryset(
            SubtreeScoreStat.objects.filter(run=run, organisation=organisation), user=user
        )
        .values_list("totals", "sectors")
        .first()
    )
    if row is None:
        return None
    return dict(row[0]), [(covered, n) for covered, n in row[1]]
