"""Padding detection (issue 13): signs that a cadre's contact logs were typed rather than lived.

Supervisors only: the findings never reach the cadre's own pages, peers or rankings.

Two set-based SQL statements over all cadres at once (no query per cadre): one over the period's
hand-typed contacts, one over its contact-youth rows and confirmations. Each signal is one
branch (SELECT) of one of them, written in SQL common to PostgreSQL and SQLite except a few
expressions (assessment/integrity_sql.py). A branch returns only the rows that cross the
policy's thresholds, with the ids of the contacts or youths concerned; Python caps the evidence
and assembles one finding per cadre. `findings_store` runs them with the scores
(services.scores_compute) and stores the findings, so pages read rows.

The thresholds are part of the versioned policy (ScoringPolicy.integrity); what each signal
catches and what it cannot is in docs/assessment.md ("真实性核查").
"""

from __future__ import annotations

import datetime
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from django.db import connection, transaction

from cadres.quota import sql_params as quota_sql_params

from . import integrity_sql as sql
from .integrity_text import LABELS, describe  # noqa: F401 (the page reads them here)
from .integrity_thresholds import (  # noqa: F401 (callers read them here)
    DEFAULT_THRESHOLDS,
    thresholds_of,
    thresholds_of_values,
)
from .periods import Period

if TYPE_CHECKING:  # only for annotations
    from .models import ScoreRun, ScoringPolicy

# Codes in display order; detect_padding prints them in this order, ";"-separated.
SIGNALS = (
    "burst",
    "same_text",
    "end_dump",
    "backdated",
    "ghost_youths",
    "batch_log",
    "quota_jump",
    "denials",
    "same_device",
)


@dataclass
class Signal:
    code: str
    value: float  # the number that crossed the threshold (entries, share, youths, …)
    detail: dict = field(default_factory=dict)
    contacts: list[int] = field(default_factory=list)
    youths: list[int] = field(default_factory=list)

    def as_json(self) -> dict:
        return asdict(self)  # code, value, detail, contacts, youths


def _ids(text: str | None, cap: int) -> list[int]:
    if not text:
        return []
    return sorted({int(x) for x in str(text).split(",") if x})[:cap]


# --- The statements ------------------------------------------------------------------------------
#
# Two statements read the period: `_entries` the hand-typed contacts (burst, end_dump, backdated,
# same_text), `_reached` the contact-youth rows and the youths' confirmations (ghost_youths,
# quota_jump, batch_log, denials, same_device). Each signal keeps its own SELECT (a branch of
# the statement) and its own reading of the rows in Python (`_<signal>_rows`), so a rule still
# lives in one place; the branches only share the statement's round trip and its CTEs.

_LIVE = "ct.is_deleted = %(false)s AND ct.date >= %(start)s AND ct.date <= %(as_of)s"
_TYPED = f"{_LIVE} AND ct.activity_id IS NULL"  # contacts derived from check-ins are excluded


def _entries_sql(p: dict) -> str:
    lag = "LAG({col}, %({span})s) OVER (PARTITION BY ct.cadre_id ORDER BY ct.created_at, ct.id)"
    slow = {"span": "burst_span"}
    fast = {"span": "burst_fast_span"}
    day = sql.local_day("e.created_at")
    late = sql.days(day, "e.date")
    # The local day is a time zone conversion per contact (0.4 s of CPU in a province quarter);
    # the connection's day (UTC), nearly free and at most 2 days off, rules most contacts out.
    rough = sql.days(sql.connection_day("e.created_at"), "e.date")
    # Entry times compared as timestamps, not as seconds (PostgreSQL's EXTRACT(EPOCH) is a
    # numeric: two per contact of a province quarter, 1.2 M contacts).
    slow_in, fast_in, b_slow, b_fast = (
        sql.within_seconds(f"{t}.created_at", f"{t}.{start}", window)
        for t in ("e", "b")
        for start, window in (("slow_start", "burst_window"), ("fast_start", "burst_fast_window"))
    )
    first_of_window = f"CASE WHEN {b_slow} THEN b.first_id WHEN {b_fast} THEN b.fast_first_id END"
    ctes = [
        # burst, end_dump and backdated: one pass over the period's hand-typed contacts in
        # entry order per cadre (the window), aggregated per cadre. The order is that of
        # contacts.Contact's `contact_integrity_entries_idx`, read index-only: no sort, no
        # heap, and the aggregate streams cadre by cadre (e and c are read once, so inlined).
        f"""e AS (
    SELECT ct.id, ct.cadre_id, ct.date, ct.created_at,
           {lag.format(col="ct.created_at", **slow)} AS slow_start,
           {lag.format(col="ct.created_at", **fast)} AS fast_start
    FROM contacts_contact ct WHERE {_TYPED}{sql.in_range("ct.cadre_id", p)}
)""",
        f"""c AS (
    SELECT e.id, e.cadre_id,
           CASE WHEN {slow_in} THEN 1 ELSE 0 END AS slow_end,
           CASE WHEN {fast_in} THEN 1 ELSE 0 END AS fast_end,
           CASE WHEN {rough} >= %(dump_lag_days)s - 2 AND {day} >= %(dump_from)s
                     AND {late} >= %(dump_lag_days)s THEN 1 ELSE 0 END AS dumped,
           CASE WHEN {rough} >= %(backdate_days)s - 2 AND {late} >= %(backdate_days)s
                THEN 1 ELSE 0 END AS backdated
    FROM e
)""",
        f"""g AS (
    SELECT cadre_id, COUNT(*) AS n, SUM(dumped) AS n_dumped, SUM(backdated) AS n_backdated,
           SUM(slow_end) AS n_slow, SUM(fast_end) AS n_fast,
           {sql.ids("CASE WHEN dumped = 1 THEN id END")} AS dumped_ids,
           {sql.ids("CASE WHEN backdated = 1 THEN id END")} AS backdated_ids,
           {sql.ids("CASE WHEN slow_end = 1 OR fast_end = 1 THEN id END")} AS end_ids
    FROM c GROUP BY cadre_id
    HAVING SUM(slow_end) + SUM(fast_end) > 0
        OR (SUM(dumped) >= %(dump_min_contacts)s AND SUM(dumped) >= %(dump_min_share)s * COUNT(*))
        OR SUM(dumped) >= %(dump_any_share_contacts)s
        OR (SUM(backdated) >= %(backdate_min_contacts)s
            AND SUM(backdated) >= %(backdate_min_share)s * COUNT(*))
)""",
        # A burst's evidence names each window's first entry too: the same window again, the
        # ids looked back, over the few burst cadres' contacts only (two LAGs fewer over the
        # quarter's 1.2 M contacts: about a fifth of the statement's backend CPU).
        f"""b AS (
    SELECT ct.cadre_id, ct.created_at, {lag.format(col="ct.created_at", **slow)} AS slow_start,
           {lag.format(col="ct.id", **slow)} AS first_id,
           {lag.format(col="ct.created_at", **fast)} AS fast_start,
           {lag.format(col="ct.id", **fast)} AS fast_first_id
    FROM contacts_contact ct
    WHERE {_TYPED} AND ct.cadre_id IN (SELECT cadre_id FROM g WHERE n_slow + n_fast > 0)
)""",
        f"""bf AS (
    SELECT b.cadre_id, {sql.ids(first_of_window)} AS first_ids FROM b GROUP BY b.cadre_id
)""",
        # same_text: the contacts with a note per cadre and stored note key
        # (contacts/notes_key.py: normalised, the youths' names out), counted without their
        # ids (an id list per group cost ~1.8 kB of memory each, hundreds of thousands of
        # groups at province scale: the aggregate spilled to disk); the ids are read back
        # below only for the few groups shared by many contacts.
        f"""nk AS (
    SELECT ct.cadre_id, ct.notes_key, COUNT(*) AS noted,
           SUM(CASE WHEN ct.notes_chars >= %(text_min_chars)s THEN 1 ELSE 0 END) AS n
    FROM contacts_contact ct
    WHERE {_TYPED} AND ct.notes_key IS NOT NULL{sql.in_range("ct.cadre_id", p)}
    GROUP BY ct.cadre_id, ct.notes_key
)""",
        """hot AS (
    SELECT cadre_id, notes_key, n, with_text
    FROM (SELECT cadre_id, notes_key, n, SUM(noted) OVER (PARTITION BY cadre_id) AS with_text
          FROM nk) t
    WHERE n >= %(text_min_contacts)s AND n >= %(text_min_share)s * with_text
)""",
    ]
    entries = "FROM g LEFT JOIN bf ON bf.cadre_id = g.cadre_id"
    same = f"""FROM hot JOIN contacts_contact ct
  ON ct.cadre_id = hot.cadre_id AND ct.notes_key = hot.notes_key
WHERE {_TYPED} AND ct.notes_chars >= %(text_min_chars)s
GROUP BY hot.cadre_id, hot.notes_key, hot.n, hot.with_text"""
    return sql.union(
        ctes,
        [
            (
                "entries",
                ["g.cadre_id", "g.n", "g.n_dumped", "g.n_backdated", "g.n_slow", "g.n_fast"],
                ["g.dumped_ids", "g.backdated_ids", "g.end_ids", "bf.first_ids"],
                entries,
            ),
            ("same_text", ["hot.cadre_id", "hot.n", "hot.with_text"], [sql.ids("ct.id")], same),
        ],
    )


_ENTRIES = {"entries": (6, 4), "same_text": (3, 1)}


def _entries(p: dict) -> list[Signal]:
    rows = sql.split(_rows(_entries_sql(p), p), _ENTRIES)
    return [*_burst_rows(rows["entries"], p), *_late_rows(rows["entries"], p)] + _same_text_rows(
        rows["same_text"], p
    )


def _burst_rows(rows: list[tuple], p: dict) -> list[Signal]:
    """Bursts, judged by pace: min_entries consecutive entries (by created_at) typed within
    (min_entries - 1) × gap_seconds (under a minute each on average), or a shorter sitting of
    fast_min_entries at under fast_gap_seconds each. Each entry is compared with the entry
    min_entries - 1 (fast_min_entries - 1) before it; a single slower entry does not hide a
    sitting the way "every gap under a minute" would."""
    out = []
    for cadre_id, _n, _dumped, _back, slow, fast, _d, _b, end_ids, first_ids in rows:
        if not (slow or fast):
            continue
        # Overlapping windows: `ends` windows of min_entries entries cover at least this many.
        entries = max(
            int(slow) + p["burst_span"] if slow else 0,
            int(fast) + p["burst_fast_span"] if fast else 0,
        )
        ids = _ids(f"{first_ids},{end_ids}", p["cap"])
        out.append(_tag(cadre_id, Signal("burst", entries, {"entries": entries}, contacts=ids)))
    return out


def _late_rows(rows: list[tuple], p: dict) -> list[Signal]:
    """end_dump: many contacts entered in the period's last days (or after it) although dated
    well before — a large share of the cadre's, or many whatever the share (a dump diluted by
    other logs is still a dump); backdated: many entered long after their date."""
    out = []
    for cadre_id, n, dumped, backdated, _slow, _fast, dump_ids, back_ids, _e, _f in rows:
        n, dumped, backdated = int(n), int(dumped or 0), int(backdated or 0)
        share = dumped >= p["dump_min_contacts"] and dumped >= p["dump_min_share"] * n
        if share or dumped >= p["dump_any_share_contacts"]:
            detail = {"late": dumped, "total": n, "last_days": p["dump_last_days"]}
            sig = Signal(
                "end_dump", round(dumped / n, 2), detail, contacts=_ids(dump_ids, p["cap"])
            )
            out.append(_tag(cadre_id, sig))
        if backdated >= p["backdate_min_contacts"] and backdated >= p["backdate_min_share"] * n:
            detail = {"late": backdated, "total": n, "days": p["backdate_days"]}
            sig = Signal(
                "backdated", round(backdated / n, 2), detail, contacts=_ids(back_ids, p["cap"])
            )
            out.append(_tag(cadre_id, sig))
    return out


def _same_text_rows(rows: list[tuple], p: dict) -> list[Signal]:
    """The same notes over many contacts, normalised (a pasted note varied by a number or a
    full stop is still one note). Notes only: a topic is a label ("就业咨询") that honest
    cadres reuse all the time — the browser even offers the last one — so a repeated topic
    is no sign of invention (the first benchmark run flagged such habits)."""
    best: dict[int, tuple[int, int, str]] = {}
    for cadre_id, n, total, ids in rows:
        if cadre_id not in best or n > best[cadre_id][0]:
            best[cadre_id] = (int(n), int(total), ids)
    return [
        _tag(
            cadre_id,
            Signal(
                "same_text",
                round(n / total, 2),
                {"same": n, "with_text": total},
                contacts=_ids(ids, p["cap"]),
            ),
        )
        for cadre_id, (n, total, ids) in best.items()
    ]


def _reached_sql(p: dict) -> str:
    valid = sql.valid_phone("y.phone")
    why = "SUM(CASE WHEN w.why = '{}' THEN 1 ELSE 0 END)"
    ctes = [
        # The period's contact-youth rows, read once for the two readings below (each cadre's
        # distinct youths; each face-to-face contact's youths): two scans of the 1.7 M rows of
        # a province quarter cost two passes over the table's 7 M.
        f"""cyp AS MATERIALIZED (
    SELECT cadre_id, youth_id, contact_id, date, is_offline FROM contacts_contactyouth
    WHERE date >= %(start)s AND date <= %(as_of)s{sql.in_range("cadre_id", p)}
)""",
        """pair AS (
    SELECT cadre_id, youth_id, MIN(date) AS first_date FROM cyp GROUP BY cadre_id, youth_id
)""",
        # "Silent": no youth-side evidence ever (a check-in, a need they raised, a confirmation
        # from their own phone; any time, for any cadre — "never" must mean never). The youths
        # with evidence are one set, hash-joined: probing three tables per youth was written
        # into every aggregate of the statement by the planner.
        """ev AS (
    SELECT youth_id FROM activities_registration WHERE checked_in_at IS NOT NULL
    UNION SELECT youth_id FROM contacts_need WHERE youth_id IS NOT NULL
    UNION SELECT youth_id FROM contacts_confirmation
          WHERE outcome = 'confirmed' AND same_device = %(false)s AND youth_id IS NOT NULL
)""",
        # Each cadre's distinct youths and those first reached in the last days (quota_jump):
        # from the pairs alone, only the silent youths need a phone (`pair`, read twice, is
        # kept by PostgreSQL: 600,000 rows).
        f"""reach AS (
    SELECT cadre_id, COUNT(*) AS reached,
           SUM(CASE WHEN first_date >= %(jump_from)s THEN 1 ELSE 0 END) AS late,
           {sql.ids("CASE WHEN first_date >= %(jump_from)s THEN youth_id END")} AS late_ids
    FROM pair GROUP BY cadre_id
)""",
        # The silent pairs and their phones: the youths with evidence set aside first (an
        # anti-join on the small set), the join to the 1 M youths, the phone pattern and the
        # window's sort see only the pairs that can be ghosts (86 % in the province seed).
        f"""sp AS (
    SELECT pair.cadre_id, pair.youth_id, y.phone,
           CASE WHEN {valid} THEN {sql.phone_number("y.phone")} END AS num
    FROM pair JOIN cadres_youth y ON y.id = pair.youth_id
    WHERE NOT EXISTS (SELECT 1 FROM ev WHERE ev.youth_id = pair.youth_id)
)""",
        # One window over the cadre's silent youths sorted by number: a neighbour within a few
        # numbers, or the same number (the peers of the row) held by several of them. An
        # invalid or missing number is NULL, so it is never anyone's neighbour. The frame is
        # the window's, not the COUNT's alone: LAG and LEAD ignore it, and one definition is
        # one WindowAgg pass over the sorted rows (two were two).
        """w AS (
    SELECT cadre_id, youth_id,
           CASE WHEN phone = '' THEN 'missing'
                WHEN num IS NULL THEN 'invalid'
                WHEN COUNT(*) OVER sw >= %(ghost_shared_phone_youths)s THEN 'shared'
                WHEN num - LAG(num) OVER sw <= %(ghost_sequential_gap)s
                  OR LEAD(num) OVER sw - num <= %(ghost_sequential_gap)s THEN 'sequential'
           END AS why
    FROM sp
    WINDOW sw AS (PARTITION BY cadre_id ORDER BY num RANGE BETWEEN CURRENT ROW AND CURRENT ROW)
)""",
        f"""bad AS (
    SELECT w.cadre_id,
           SUM(CASE WHEN w.why IS NOT NULL THEN 1 ELSE 0 END) AS bad,
           {why.format("missing")} AS missing, {why.format("invalid")} AS invalid,
           {why.format("shared")} AS shared, {why.format("sequential")} AS sequential,
           SUM(CASE WHEN w.why IS NOT NULL AND w.why <> 'missing' THEN 1 ELSE 0 END)
               AS not_missing,
           {sql.ids("CASE WHEN w.why IS NOT NULL THEN w.youth_id END")} AS bad_ids
    FROM w GROUP BY w.cadre_id
)""",
        # Per cadre first, then the quota rule: 10,000 rows joined, not 600,000. A cadre
        # without silent youths has no `bad` row: zeros.
        """agg AS (
    SELECT reach.cadre_id, reach.reached, reach.late, COALESCE(bad.bad, 0) AS bad,
           COALESCE(bad.missing, 0) AS missing, COALESCE(bad.invalid, 0) AS invalid,
           COALESCE(bad.shared, 0) AS shared, COALESCE(bad.sequential, 0) AS sequential,
           COALESCE(bad.not_missing, 0) AS not_missing, bad.bad_ids, reach.late_ids
    FROM reach LEFT JOIN bad ON bad.cadre_id = reach.cadre_id
)""",
        """big AS (
    SELECT contact_id, COUNT(*) AS youths FROM cyp WHERE is_offline = %(true)s
    GROUP BY contact_id HAVING COUNT(*) > %(batch_talk_max_youths)s
)""",
    ]
    quota = "COALESCE(q.quota, %(default_quota)s)"
    reached = f"""FROM agg JOIN cadres_cadre cd ON cd.id = agg.cadre_id
LEFT JOIN cadres_quotarule q ON q.cadre_type = cd.cadre_type
WHERE (agg.bad >= %(ghost_min_youths)s
       AND (agg.not_missing >= %(ghost_min_youths)s
            AND agg.not_missing >= %(ghost_min_share)s * agg.reached
            OR agg.bad >= %(ghost_missing_min_share)s * agg.reached))
   OR ({quota} > 0 AND agg.reached >= {quota} AND agg.reached <= {quota} + %(quota_jump_slack)s
       AND agg.late >= %(quota_jump_min_share)s * {quota})"""
    batch = f"""FROM big JOIN contacts_contact ct ON ct.id = big.contact_id
WHERE ct.activity_id IS NULL AND ct.is_deleted = %(false)s
  AND ct.date >= %(start)s AND ct.date <= %(as_of)s{sql.in_range("ct.cadre_id", p)}
  AND (ct.channel IN ('talk', 'visit') OR big.youths > %(batch_offline_max_youths)s)"""
    denied = "CASE WHEN cf.outcome = 'denied' THEN {} END"
    same = "CASE WHEN cf.same_device = %(true)s THEN {} END"
    confirmations = f"""FROM contacts_confirmation cf
WHERE cf.day >= %(start)s AND cf.day <= %(as_of)s{sql.in_range("cf.cadre_id", p)}
GROUP BY cf.cadre_id
HAVING SUM({denied.format(1)}) >= %(denials_min)s OR SUM({same.format(1)}) >= %(same_device_min)s"""
    return sql.union(
        ctes,
        [
            (
                "reached",
                [
                    *(f"agg.{c}" for c in ("cadre_id", "reached", "late")),
                    quota,
                    *(f"agg.{c}" for c in ("bad", "missing", "invalid", "shared", "sequential")),
                    "agg.not_missing",
                ],
                ["agg.bad_ids", "agg.late_ids"],
                reached,
            ),
            ("batch_log", ["ct.cadre_id", "ct.id", "big.youths"], [], batch),
            (
                "confirmations",
                ["cf.cadre_id", f"SUM({denied.format(1)})", f"SUM({same.format(1)})"],
                [sql.ids(denied.format("cf.contact_id")), sql.ids(same.format("cf.contact_id"))],
                confirmations,
            ),
        ],
    )


_REACHED = {"reached": (10, 2), "batch_log": (3, 0), "confirmations": (3, 2)}


def _reached(p: dict) -> list[Signal]:
    rows = sql.split(_rows(_reached_sql(p), p), _REACHED)
    return [
        *_ghost_rows(rows["reached"], p),
        *_quota_jump_rows(rows["reached"], p),
        *_batch_log_rows(rows["batch_log"], p),
        *_confirmation_rows(rows["confirmations"], p),
    ]


def _ghost_rows(rows: list[tuple], p: dict) -> list[Signal]:
    """Youths reached in the period who never gave any youth-side evidence and whose phone is
    missing, invalid, held by several of the cadre's silent youths or within a few numbers of
    another's. A missing phone alone is weak (many real youths give none): those count only
    when, with the others, they are a large share of the youths reached."""
    out = []
    for cadre_id, total, *_r, bad, missing, invalid, shared, seq, not_missing, ids, _l in rows:
        bad, total, not_missing = int(bad or 0), int(total), int(not_missing or 0)
        strong = (
            not_missing >= p["ghost_min_youths"] and not_missing >= p["ghost_min_share"] * total
        )
        weak = bad >= p["ghost_missing_min_share"] * total
        if bad < p["ghost_min_youths"] or not (strong or weak):
            continue
        detail = {
            "youths": bad,
            "reached": total,
            "missing": int(missing or 0),
            "invalid": int(invalid or 0),
            "shared": int(shared or 0),
            "sequential": int(seq or 0),
        }
        sig = Signal("ghost_youths", bad, detail, youths=_ids(ids, p["cap"]))
        out.append(_tag(cadre_id, sig))
    return out


def _quota_jump_rows(rows: list[tuple], p: dict) -> list[Signal]:
    """Distinct youths reached in the period land within slack above the quota, and at least
    min_share of the quota were first reached in the last days."""
    out = []
    for cadre_id, reached, late, quota, *_rest, late_ids in rows:
        reached, late, quota = int(reached), int(late or 0), int(quota)
        if not (
            quota > 0
            and quota <= reached <= quota + p["quota_jump_slack"]
            and late >= p["quota_jump_min_share"] * quota
        ):
            continue
        detail = {"reached": reached, "late": late, "quota": quota}
        detail["last_days"] = p["quota_jump_last_days"]
        sig = Signal("quota_jump", reached, detail, youths=_ids(late_ids, p["cap"]))
        out.append(_tag(cadre_id, sig))
    return out


def _batch_log_rows(rows: list[tuple], p: dict) -> list[Signal]:
    """One face-to-face contact typed by hand with more youths than anyone meets at once."""
    by_cadre: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for cadre_id, contact_id, youths in rows:
        by_cadre[cadre_id].append((int(youths), contact_id))
    out = []
    for cadre_id, logs in by_cadre.items():
        logs.sort(reverse=True)
        detail = {"logs": len(logs), "largest": logs[0][0]}
        sig = Signal(
            "batch_log", logs[0][0], detail, contacts=sorted(c for _n, c in logs)[: p["cap"]]
        )
        out.append(_tag(cadre_id, sig))
    return out


def _confirmation_rows(rows: list[tuple], p: dict) -> list[Signal]:
    """denials and same_device, from the youths' side (contacts.Confirmation), by the day of
    the contact concerned."""
    out = []
    for cadre_id, denied, same, denied_ids, same_ids in rows:
        denied, same = int(denied or 0), int(same or 0)
        if denied >= p["denials_min"]:
            sig = Signal("denials", denied, {"denials": denied}, _ids(denied_ids, p["cap"]))
            out.append(_tag(cadre_id, sig))
        if same >= p["same_device_min"]:
            sig = Signal("same_device", same, {"confirmations": same}, _ids(same_ids, p["cap"]))
            out.append(_tag(cadre_id, sig))
    return out


STATEMENTS = (_entries, _reached)
WORK_MEM = "64MB"  # per sort or hash of the detection's statements (PostgreSQL)


# --- Running -------------------------------------------------------------------------------------


def _rows(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _tag(cadre_id: int, signal: Signal) -> Signal:
    signal.detail["cadre_id"] = cadre_id
    return signal


def params_for(*, period: Period, as_of: datetime.date, thresholds: dict) -> dict:
    t = {**DEFAULT_THRESHOLDS, **thresholds}
    return {
        **t,
        **quota_sql_params(),
        "cap": int(t["evidence_cap"]),
        "burst_span": int(t["burst_min_entries"]) - 1,
        "burst_window": (int(t["burst_min_entries"]) - 1) * float(t["burst_gap_seconds"]),
        "burst_fast_span": int(t["burst_fast_min_entries"]) - 1,
        "burst_fast_window": (int(t["burst_fast_min_entries"]) - 1)
        * float(t["burst_fast_gap_seconds"]),
        "start": period.start,
        "as_of": as_of,
        "dump_from": period.end - datetime.timedelta(days=int(t["dump_last_days"]) - 1),
        "jump_from": period.end - datetime.timedelta(days=int(t["quota_jump_last_days"]) - 1),
        "true": True,
        "false": False,
    }


def detect(
    *,
    period: Period,
    as_of: datetime.date,
    thresholds: dict,
    timings: dict[str, float] | None = None,
    cadre_range: tuple[int, int | None] | None = None,
) -> dict[int, list[Signal]]:
    """The signals of every cadre in the period up to as_of: {cadre_id: [Signal, …]} for the
    cadres with at least one. Two statements whatever the number of cadres.
    `timings`, if given, receives the seconds each statement took (benchmark_integrity).
    `cadre_range` (lo, hi): only the cadres lo <= id < hi (hi None: no bound), the same
    signals a whole detection gives them (assessment/chunked.py: the year's whole detection
    took 222 s at province scale under load, one task's limit is 240 s)."""
    params = params_for(period=period, as_of=as_of, thresholds=thresholds)
    if cadre_range is not None:
        params["lo"], params["hi"] = cadre_range[0], cadre_range[1] or 2**62
    found: dict[int, list[Signal]] = defaultdict(list)
    with transaction.atomic():
        if sql.pg():
            # A province quarter's sorts and hashes (1.2 M contacts, 1.7 M contact-youth rows)
            # spilled to disk in 8–17 batches at the default 4 MB; for this transaction only.
            # JIT off: the planner's row estimates through the CTEs run to hundreds of millions,
            # so it compiled the statements for 7–10 s of a ~75 s run on every call.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)",
                    [WORK_MEM],
                )
        for statement in STATEMENTS:
            started = time.perf_counter()
            for signal in statement(params):
                found[signal.detail.pop("cadre_id")].append(signal)
            if timings is not None:
                timings[statement.__name__.strip("_")] = time.perf_counter() - started
    order = {code: i for i, code in enumerate(SIGNALS)}
    return {cid: sorted(sigs, key=lambda s: order[s.code]) for cid, sigs in found.items()}


def findings_store(
    *,
    run: ScoreRun,
    period: Period,
    as_of: datetime.date,
    policy: ScoringPolicy,
    now: datetime.datetime,
    cadre_range: tuple[int, int | None] | None = None,
) -> int:
    """Replace a run's findings (of the cadres in `cadre_range` only, if given) with a fresh
    detection (inside the caller's transaction, under the run lock: idempotent). Returns the
    number of cadres flagged."""
    from cadres.models import Cadre

    from .models import IntegrityFinding

    found = detect(
        period=period, as_of=as_of, thresholds=thresholds_of(policy), cadre_range=cadre_range
    )
    orgs = dict(Cadre.objects.filter(pk__in=list(found)).values_list("pk", "organisation_id"))
    old = IntegrityFinding.objects.filter(run=run)
    if cadre_range is not None:
        old = old.filter(cadre_id__gte=cadre_range[0])
        if cadre_range[1] is not None:
            old = old.filter(cadre_id__lt=cadre_range[1])
    old.delete()
    IntegrityFinding.objects.bulk_create(
        [
            IntegrityFinding(
                run=run,
                cadre_id=cadre_id,
                organisation_id=orgs[cadre_id],
                period=period.code,
                codes=";".join(s.code for s in signals),
                signals=[s.as_json() for s in signals],
                computed_at=now,
            )
            for cadre_id, signals in found.items()
            if cadre_id in orgs
        ],
        batch_size=2000,
    )
    return len(found)
