"""Subtree sums of a run's weekly contact statistics (assessment.models_subtree.SubtreeWeekStat).

ChannelWeekStat holds each organisation's own contacts per week and channel; a dashboard of a
subtree summed all of its rows on every view (~250,000 for a province quarter). This module
writes, in the statistics run, for every organisation the sums of its subtree, so that a page
reads one organisation's ~100 rows. Set-based: one aggregate over the run's rows joined to each
organisation's ancestors (a recursive walk up `parent`, the same tree the paths encode), then
only the rows whose sum changed are written (as metrics.store_channel_weeks does).
"""

from __future__ import annotations

import datetime
from collections.abc import Collection

from django.db import connection

from cadres.models import Organisation, User
from cadres.selectors import scope_queryset

from .metrics import id_filter, id_param
from .models import ScoreRun
from .models_subtree import SubtreeWeekStat

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


def _fresh_sql(*, some: bool) -> str:
    only = "AND anc.ancestor_id IN (SELECT id FROM touched)" if some else ""
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
    *, run_id: int, organisation_ids: Collection[int] | None = None
) -> int:
    """Bring the run's subtree sums up to its ChannelWeekStat rows; returns the rows written.

    1. the fresh sums into a temporary table: for every organisation, or with
       `organisation_ids` (the incremental run: the organisations whose own statistics were
       rewritten) for those and their ancestors only, the sums that can have changed;
    2. delete the run's rows (of those organisations) whose sum changed or vanished;
    3. insert the fresh rows the run does not have.
    Run it after metrics.store_channel_weeks, in the same transaction (the run row lock)."""
    some = organisation_ids is not None
    params: dict[str, object] = {"run_id": run_id}
    if organisation_ids is not None:
        if not organisation_ids:
            return 0
        params["org_ids"] = id_param(organisation_ids)
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            # The planner overestimates the ancestor walk (250,000 pairs for 11,000), which
            # switched on JIT compilation: 2.1 s of a 6.3 s statement at province scale, and the
            # ~190,000 groups spilled to disk at the default work_mem (3.2 s without both).
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("DROP TABLE IF EXISTS subtree_week_fresh")
        cursor.execute("CREATE TEMP TABLE subtree_week_fresh AS " + _fresh_sql(some=some), params)
        only = ""
        if some:
            only = f"AND {TABLE}.organisation_id IN (SELECT id FROM touched)"
            prefix = _ANCESTORS.format(touched=id_filter("id", "org_ids"))
        else:
            prefix = ""
        cursor.execute(
            f"{prefix} DELETE FROM {TABLE} WHERE run_id = %(run_id)s {only} AND NOT EXISTS ("
            "SELECT 1 FROM subtree_week_fresh f WHERE f.organisation_id = "
            f"{TABLE}.organisation_id AND f.week = {TABLE}.week AND f.channel = {TABLE}.channel "
            f"AND f.contacts = {TABLE}.contacts)",
            params,
        )
        deleted = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {TABLE} (run_id, organisation_id, week, channel, contacts) "
            "SELECT %(run_id)s, f.organisation_id, f.week, f.channel, f.contacts "
            "FROM subtree_week_fresh f WHERE NOT EXISTS (SELECT 1 FROM "
            f"{TABLE} s WHERE s.run_id = %(run_id)s AND s.organisation_id = f.organisation_id "
            "AND s.week = f.week AND s.channel = f.channel)",
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
