"""The raw numbers behind every cadre's score for a period, in ONE set-based SQL statement.

One statement for all cadres (10,000 at province scale) instead of a query per cadre. It reads the
ContactYouth fact table by ranges of its (cadre, date, youth) index, the cadre ↔ youth links and the
needs. Written in SQL common to PostgreSQL and SQLite except two date expressions and the
per-cadre reading of the pairs (`_pair_sql`: LATERAL, PostgreSQL's).
"""

from __future__ import annotations

import datetime
import json
import zoneinfo
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from cadres.quota import sql_params as quota_sql_params

from .periods import Period

# Contacts older than the year are still looked at (for "no contact in N days" in early
# January) up to this many days back.
LAST_CONTACT_LOOKBACK_DAYS = 90

# The numbers counted for one cadre, in the statement's order: stored on CadreScore
# (services._score_row, under SCORE_FIELDS) and checked one by one against the benchmark's
# independent reference statement (benchmark_scores).
COUNTED_COLUMNS = (
    "linked",
    "sectors",
    "reached",
    "met_offline_year",
    "online_youths",
    "converted_youths",
    "last_contact",
    "needs_due",
    "needs_on_time",
    "needs_overdue",
    "needs_backlog",
    "confirmed",
)
# Their CadreScore fields: the same names, but for the one the score's component is named after.
SCORE_FIELDS = tuple({"confirmed": "confirmed_youths"}.get(c, c) for c in COUNTED_COLUMNS)
# One row of metrics_sql(): who the cadre is, their quota rule, then the counted numbers.
METRIC_COLUMNS = (
    "cadre_id",
    "organisation_id",
    "is_secretary",
    "active_from",
    "quota",
    "min_sectors",
    *COUNTED_COLUMNS,
)


@dataclass(frozen=True)
class Window:
    start: datetime.date  # first day of the period
    as_of: datetime.date  # last day counted (period end, or today while it runs)
    year_start: datetime.date  # depth counts offline meetings since 1 January
    scan_start: datetime.date  # first contact date read at all

    @classmethod
    def for_period(cls, period: Period, today: datetime.date) -> Window:
        as_of = period.as_of(today)
        year_start = datetime.date(as_of.year, 1, 1)
        scan_start = min(
            period.start, year_start, as_of - datetime.timedelta(days=LAST_CONTACT_LOOKBACK_DAYS)
        )
        return cls(period.start, as_of, year_start, scan_start)

    def params(self) -> dict:
        # The quota defaults are parameters from cadres/quota.py, never literals in the SQL.
        return {
            **quota_sql_params(),
            **evidence_sql(self)[1],
            "start": self.start,
            "as_of": self.as_of,
            "year_start": self.year_start,
            "scan_start": self.scan_start,
        }


def evidence_sql(window: Window) -> tuple[str, dict]:
    """The SQL of contacts.selectors.youth_side_evidence for the window (the one definition of
    youth-side evidence), its positional parameters renamed %(ev_N)s to join metrics_sql."""
    from contacts.selectors import youth_side_evidence

    sql, params = youth_side_evidence(start=window.start, end=window.as_of).query.sql_with_params()
    parts = sql.split("%s")
    if len(parts) != len(params) + 1:  # pragma: no cover - a literal %s in the ORM's SQL
        raise ValueError("unexpected placeholders in the evidence query")
    named = parts[0] + "".join(f"%(ev_{i})s" + part for i, part in enumerate(parts[1:]))
    return named, {f"ev_{i}": value for i, value in enumerate(params)}


def _answered_day() -> str:
    """The local calendar day a need was answered on (answered_at is stored in UTC)."""
    if connection.vendor == "postgresql":
        return f"(n.answered_at AT TIME ZONE '{settings.TIME_ZONE}')::date"
    offset = zoneinfo.ZoneInfo(settings.TIME_ZONE).utcoffset(datetime.datetime(2026, 1, 1))
    hours = int(offset.total_seconds() // 3600)
    return f"date(n.answered_at, '{hours:+d} hours')"


def id_filter(column: str, param: str) -> str:
    """`column` is one of the ids passed as %(param)s (see `id_param`): an array on PostgreSQL
    (`= ANY`, an index condition), a JSON list on SQLite."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%({param})s)"
    return f"{column} IN (SELECT value FROM json_each(%({param})s))"


def id_param(ids: Collection[int]) -> list[int] | str:
    ordered = sorted(ids)
    return ordered if connection.vendor == "postgresql" else json.dumps(ordered)


def date_param(days: Collection[datetime.date]) -> list[datetime.date] | str:
    """Days for `id_filter`: a date array on PostgreSQL, a JSON list of ISO days on SQLite (as
    SQLite stores a DateField)."""
    ordered = sorted(days)
    if connection.vendor == "postgresql":
        return ordered
    return json.dumps([day.isoformat() for day in ordered])


def days_of_weeks(weeks: Collection[datetime.date], window: Window) -> list[datetime.date]:
    """The window's days in these weeks (Mondays): what a contact's date must be to count in
    one of them."""
    return sorted(
        day
        for week in set(weeks)
        for day in (week + datetime.timedelta(days=i) for i in range(7))
        if window.start <= day <= window.as_of
    )


_PAIR_COLUMNS = """youth_id,
           MAX(CASE WHEN date >= %(start)s THEN 1 ELSE 0 END) AS in_period,
           MAX(CASE WHEN is_offline AND date >= %(year_start)s THEN 1 ELSE 0 END) AS offline_year,
           MAX(CASE WHEN date >= %(start)s AND NOT is_offline THEN 1 ELSE 0 END) AS online_period,
           MAX(CASE WHEN date >= %(start)s AND is_offline THEN 1 ELSE 0 END) AS offline_period,
           MAX(date) AS last_date
    FROM contacts_contactyouth"""


def _pair_sql(only_cadres: str) -> str:
    """`pair`: each (cadre, youth) of the window's contact-youth rows, with what the score needs.

    On PostgreSQL per cadre of `cad` (LATERAL): each cadre's window is a range of the
    (cadre, date, youth) index, and the groups are that cadre's few hundred youths. One
    aggregate over the window (SQLite's form) was read on one year through the (cadre, youth)
    index whole, in group order, and on three years as a date range whose 800,000 groups spilled
    to disk: 3.8 s against 5.6 s for a province quarter; per cadre 3.7–4.1 s on both
    (docs/scaling.md, issue 16 item 4). The same pairs: `tch` is joined to `cad` anyway."""
    if connection.vendor == "postgresql":
        return f"""pair AS (
    SELECT cad.cadre_id, p.youth_id, p.in_period, p.offline_year, p.online_period,
           p.offline_period, p.last_date
    FROM cad CROSS JOIN LATERAL (
        SELECT {_PAIR_COLUMNS}
        WHERE cadre_id = cad.cadre_id AND date >= %(scan_start)s AND date <= %(as_of)s
        GROUP BY youth_id
    ) p
)"""
    return f"""pair AS (
    SELECT cadre_id, {_PAIR_COLUMNS}
    WHERE date >= %(scan_start)s AND date <= %(as_of)s {only_cadres}
    GROUP BY cadre_id, youth_id
)"""


def metrics_sql(window: Window, *, some_cadres: bool = False) -> str:
    """The statement; with `some_cadres`, only the cadres in %(cadre_ids)s (the incremental run
    of assessment/freshness.py): every part is filtered by cadre, so each reads those cadres'
    rows through its cadre index instead of the period's whole fact table. A cadre's numbers
    depend on their own rows only, so the rows are those of the full statement."""
    answered_day = _answered_day()
    evidence = evidence_sql(window)[0]

    def only(column: str) -> str:
        return f"AND {id_filter(column, 'cadre_ids')}" if some_cadres else ""

    return f"""
WITH cad AS (
    SELECT c.id AS cadre_id, c.organisation_id, c.is_branch_secretary AS is_secretary,
           c.active_from, COALESCE(q.quota, %(default_quota)s) AS quota,
           COALESCE(q.min_sectors, %(default_min_sectors)s) AS min_sectors
    FROM cadres_cadre c
    LEFT JOIN cadres_quotarule q ON q.cadre_type = c.cadre_type
    WHERE c.active_from <= %(as_of)s AND (c.active_until IS NULL OR c.active_until >= %(start)s)
          {only("c.id")}
),
lnk AS (
    SELECT cy.cadre_id, COUNT(*) AS linked, COUNT(DISTINCT y.sector_id) AS sectors
    FROM cadres_cadreyouth cy JOIN cadres_youth y ON y.id = cy.youth_id
    WHERE cy.linked_on <= %(as_of)s {only("cy.cadre_id")}
    GROUP BY cy.cadre_id
),
{_pair_sql(only("cadre_id"))},
ev AS (
    SELECT e.cadre_id, e.youth_id FROM ({evidence}) e WHERE 1 = 1 {only("e.cadre_id")}
),
tch AS (
    SELECT p.cadre_id,
           SUM(CASE WHEN cy.id IS NOT NULL THEN p.in_period ELSE 0 END) AS reached,
           SUM(CASE WHEN cy.id IS NOT NULL THEN p.offline_year ELSE 0 END) AS met_offline_year,
           SUM(p.online_period) AS online_youths,
           SUM(p.online_period * p.offline_period) AS converted_youths,
           MAX(p.last_date) AS last_contact,
           SUM(CASE WHEN cy.id IS NOT NULL AND ev.cadre_id IS NOT NULL THEN p.in_period ELSE 0 END)
               AS confirmed
    FROM pair p
    LEFT JOIN cadres_cadreyouth cy
           ON cy.cadre_id = p.cadre_id AND cy.youth_id = p.youth_id AND cy.linked_on <= %(as_of)s
              {only("cy.cadre_id")}
    LEFT JOIN ev ON ev.cadre_id = p.cadre_id AND ev.youth_id = p.youth_id
    GROUP BY p.cadre_id
),
nd AS (
    SELECT n.owner_cadre_id AS cadre_id,
           SUM(CASE WHEN n.due_date >= %(start)s THEN 1 ELSE 0 END) AS needs_due,
           SUM(CASE WHEN n.due_date >= %(start)s AND n.answered_at IS NOT NULL
                     AND {answered_day} <= n.due_date THEN 1 ELSE 0 END) AS needs_on_time,
           SUM(CASE WHEN n.due_date >= %(start)s AND n.due_date < %(as_of)s
                     AND n.status <> 'closed'
                     AND (n.answered_at IS NULL OR {answered_day} > %(as_of)s)
                    THEN 1 ELSE 0 END) AS needs_overdue,
           SUM(CASE WHEN n.due_date < %(start)s AND n.status <> 'closed'
                     AND (n.answered_at IS NULL OR {answered_day} > %(as_of)s)
                    THEN 1 ELSE 0 END) AS needs_backlog
    FROM contacts_need n
    WHERE n.owner_cadre_id IS NOT NULL AND n.due_date <= %(as_of)s {only("n.owner_cadre_id")}
    GROUP BY n.owner_cadre_id
)
SELECT cad.cadre_id, cad.organisation_id, cad.is_secretary, cad.active_from, cad.quota,
       cad.min_sectors, COALESCE(lnk.linked, 0), COALESCE(lnk.sectors, 0),
       COALESCE(tch.reached, 0), COALESCE(tch.met_offline_year, 0),
       COALESCE(tch.online_youths, 0), COALESCE(tch.converted_youths, 0), tch.last_contact,
       COALESCE(nd.needs_due, 0), COALESCE(nd.needs_on_time, 0), COALESCE(nd.needs_overdue, 0),
       COALESCE(nd.needs_backlog, 0), COALESCE(tch.confirmed, 0)
FROM cad
LEFT JOIN lnk ON lnk.cadre_id = cad.cadre_id
LEFT JOIN tch ON tch.cadre_id = cad.cadre_id
LEFT JOIN nd ON nd.cadre_id = cad.cadre_id
ORDER BY cad.cadre_id
"""


def _as_date(value) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def cadre_metrics(window: Window, *, cadre_ids: Collection[int] | None = None) -> list[dict]:
    """One dict per cadre active in the window (METRIC_COLUMNS); only `cadre_ids` if given."""
    params = window.params()
    if cadre_ids is not None:
        params["cadre_ids"] = id_param(cadre_ids)
    with connection.cursor() as cursor:
        cursor.execute(metrics_sql(window, some_cadres=cadre_ids is not None), params)
        rows = cursor.fetchall()
    out = []
    for row in rows:
        item = dict(zip(METRIC_COLUMNS, row, strict=True))
        item["is_secretary"] = bool(item["is_secretary"])
        item["active_from"] = _as_date(item["active_from"])
        item["last_contact"] = _as_date(item["last_contact"])
        for key in METRIC_COLUMNS[4:]:
            if key != "last_contact":
                item[key] = int(item[key] or 0)
        out.append(item)
    return out


def channel_week_sql(*, some_organisations: bool = False, some_days: bool = False) -> str:
    """Contacts per organisation, week (Monday) and channel of a window: one SELECT (only the
    organisations in %(org_ids)s with `some_organisations`; only the contacts dated one of
    %(days)s with `some_days`, whole weeks: see days_of_weeks)."""
    only = f"AND {id_filter('cd.organisation_id', 'org_ids')}" if some_organisations else ""
    if some_days:
        # An index condition on contact_week_stats_idx (date): the touched weeks' contacts only.
        only += f" AND {id_filter('ct.date', 'days')}"
    if connection.vendor == "postgresql":
        week = "date_trunc('week', ct.date)::date"
    else:
        week = "date(ct.date, '-' || ((CAST(strftime('%%w', ct.date) AS INTEGER) + 6) %% 7) || ' days')"
    return f"""
SELECT cd.organisation_id, {week} AS week, ct.channel, COUNT(*) AS contacts
FROM contacts_contact ct JOIN cadres_cadre cd ON cd.id = ct.cadre_id
WHERE ct.is_deleted = %(false)s AND ct.date >= %(start)s AND ct.date <= %(as_of)s {only}
GROUP BY cd.organisation_id, {week}, ct.channel
"""


def store_channel_weeks(
    *,
    run_id: int,
    window: Window,
    organisation_ids: Collection[int] | None = None,
    weeks: Collection[datetime.date] | None = None,
) -> int:
    """Bring a run's statistics up to its window's contacts, writing only the rows that changed.

    The nightly rerun of a quarter changes a few weeks' counts (mostly the current week's):
    deleting and re-inserting all ~250,000 rows of a province quarter cost more than the
    aggregate itself and left the table full of dead rows with stale planner statistics.
    1. the fresh counts into a temporary table (one aggregate over the window's contacts);
    2. delete the run's rows whose count changed or that no longer exist;
    3. insert the fresh rows the run does not have (new, or changed in step 2).
    With `organisation_ids` (the incremental run) only those organisations' rows are looked at,
    and with `weeks` (Mondays) only those weeks of theirs: a contact counts in its own week, so
    a run after contacts of this week reads this week's contacts, not the period's.
    Returns the number of rows written (deleted + inserted)."""
    table = "assessment_channelweekstat"
    some = organisation_ids is not None
    params: dict[str, object] = {
        "false": False,
        "start": window.start,
        "as_of": window.as_of,
        "run_id": run_id,
    }
    if organisation_ids is not None:
        params["org_ids"] = id_param(organisation_ids)
    only = f"AND {id_filter(f'{table}.organisation_id', 'org_ids')}" if some else ""
    some_days = some and weeks is not None
    if some_days:
        days = days_of_weeks(weeks or (), window)
        if not days:
            return 0  # the touched weeks lie outside the period: none of its counts moved
        params["days"] = date_param(days)
        params["weeks"] = date_param(set(weeks or ()))
        only += f" AND {id_filter(f'{table}.week', 'weeks')}"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS channel_week_fresh")
        cursor.execute(
            "CREATE TEMP TABLE channel_week_fresh AS "
            + channel_week_sql(some_organisations=some, some_days=some_days),
            params,
        )
        cursor.execute(
            f"DELETE FROM {table} WHERE run_id = %(run_id)s {only} AND NOT EXISTS ("
            "SELECT 1 FROM channel_week_fresh f WHERE f.organisation_id = "
            f"{table}.organisation_id AND f.week = {table}.week AND f.channel = {table}.channel "
            f"AND f.contacts = {table}.contacts)",
            params,
        )
        deleted = cursor.rowcount
        # The same restriction inside the anti-join: the planner then reads only those rows
        # (channelweek_run_org_week_idx) instead of hashing all of the run's.
        cursor.execute(
            f"INSERT INTO {table} (run_id, organisation_id, week, channel, contacts) "
            "SELECT %(run_id)s, f.organisation_id, f.week, f.channel, f.contacts "
            f"FROM channel_week_fresh f WHERE NOT EXISTS (SELECT 1 FROM {table} "
            f"WHERE {table}.run_id = %(run_id)s {only} AND "
            f"{table}.organisation_id = f.organisation_id AND {table}.week = f.week AND "
            f"{table}.channel = f.channel)",
            params,
        )
        inserted = cursor.rowcount
        cursor.execute("DROP TABLE channel_week_fresh")
    return deleted + inserted
