"""Padding detection (issue 13): signs that a cadre's contact logs were typed rather than lived.

Supervisors only: the findings never reach the cadre's own pages, peers or rankings.

Each signal is ONE set-based SQL statement over all cadres at once (no query per cadre), written
in SQL common to PostgreSQL and SQLite except a few expressions (`_sql_*` below). A statement
returns only the rows that cross the policy's thresholds, with the ids of the contacts or youths
concerned; Python caps the evidence and assembles one finding per cadre. `findings_store` runs
them with the scores (services.scores_compute) and stores the findings, so pages read rows.

The thresholds are part of the versioned policy (ScoringPolicy.integrity); what each signal
catches and what it cannot is in docs/assessment.md ("真实性核查").
"""

from __future__ import annotations

import datetime
import time
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection

from cadres.quota import sql_params as quota_sql_params

from .integrity_text import LABELS, describe  # noqa: F401 (the page reads them here)
from .periods import Period

if TYPE_CHECKING:  # only for annotations (models imports this module for its defaults)
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

DEFAULT_THRESHOLDS: dict[str, float] = {
    # burst: min_entries consecutive entries (by created_at) within (min_entries - 1) ×
    # gap_seconds. Logging a real contact on the phone takes a minute or more; a list typed
    # from memory or copied goes faster.
    "burst_gap_seconds": 60,
    "burst_min_entries": 12,
    # same_text: notes normalised (case, digits, spaces, punctuation removed); one text of at
    # least min_chars characters over min_contacts contacts and min_share of the cadre's
    # contacts with notes.
    "text_min_chars": 8,
    "text_min_contacts": 12,
    "text_min_share": 0.4,
    # end_dump: contacts entered in the period's last last_days days (or after it) that are
    # dated at least lag_days before their entry.
    "dump_last_days": 7,
    "dump_lag_days": 7,
    "dump_min_contacts": 15,
    "dump_min_share": 0.4,
    # backdated: contacts entered at least days after their date.
    "backdate_days": 30,
    "backdate_min_contacts": 15,
    "backdate_min_share": 0.5,
    # ghost_youths: youths reached in the period with no youth-side evidence ever (check-in,
    # a need they raised, a confirmation) AND a phone that is missing, invalid, shared by at
    # least shared_phone_youths youths, or within sequential_gap of another of the cadre's.
    "ghost_shared_phone_youths": 4,
    "ghost_sequential_gap": 3,
    "ghost_min_youths": 10,
    "ghost_min_share": 0.3,
    # A missing phone alone is weak (many real youths give none): youths counted with one make
    # the signal only when, with the others, they are this share of the youths reached.
    "ghost_missing_min_share": 0.6,
    # batch_log: one face-to-face contact typed by hand (not derived from an activity's
    # check-ins) with more youths than this (a talk or visit / any other offline contact).
    "batch_talk_max_youths": 20,
    "batch_offline_max_youths": 50,
    # quota_jump: distinct youths reached in the period land within slack above the quota,
    # and at least min_share of the quota were first reached in the last last_days days.
    "quota_jump_last_days": 10,
    "quota_jump_slack": 2,
    "quota_jump_min_share": 0.4,
    # denials: youths who answered "没有这回事"; same_device: confirmations from the device
    # the cadre is logged in on.
    "denials_min": 2,
    "same_device_min": 1,
    # Evidence kept per signal (ids); the counts are always complete.
    "evidence_cap": 20,
}


@dataclass
class Signal:
    code: str
    value: float  # the number that crossed the threshold (entries, share, youths, …)
    detail: dict = field(default_factory=dict)
    contacts: list[int] = field(default_factory=list)
    youths: list[int] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "value": self.value,
            "detail": self.detail,
            "contacts": self.contacts,
            "youths": self.youths,
        }


def thresholds_of(policy: ScoringPolicy | None) -> dict[str, float]:
    """The policy's thresholds over the defaults (a key added later has its default)."""
    return {**DEFAULT_THRESHOLDS, **(getattr(policy, "integrity", None) or {})}


def thresholds_of_values(values: dict) -> dict[str, float]:
    """Thresholds for a new policy version: known keys only, numbers not below 0."""
    out = dict(DEFAULT_THRESHOLDS)
    for key, value in (values or {}).items():
        if key in out and isinstance(value, int | float) and value >= 0:
            out[key] = value
    return out


# --- Dialect ------------------------------------------------------------------------------------

_PUNCT = "，。、！？：；“”‘’（）【】《》—…·,.!?:;'\"()[]<>-_/\\ \t\r\n"


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _sql_local_day(column: str) -> str:
    """The local calendar day of a UTC timestamp column."""
    if _pg():
        return f"({column} AT TIME ZONE '{settings.TIME_ZONE}')::date"
    offset = zoneinfo.ZoneInfo(settings.TIME_ZONE).utcoffset(datetime.datetime(2026, 1, 1))
    hours = int(offset.total_seconds() // 3600) if offset else 0
    return f"date({column}, '{hours:+d} hours')"


def _sql_days(later: str, earlier: str) -> str:
    """Whole days between two dates."""
    if _pg():
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _sql_seconds(later: str, earlier: str) -> str:
    if _pg():
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def _sql_ids(expr: str) -> str:
    """The ids of a group as "1,2,3" (NULLs skipped); capped in Python."""
    if _pg():
        return f"string_agg(CAST({expr} AS text), ',')"
    return f"group_concat({expr})"


def _sql_normalised(expr: str) -> str:
    """Text with case, digits, whitespace and punctuation removed: "走访3组青年。" and
    "走访 5 组青年" are the same text. PostgreSQL: regexp_replace; SQLite (development and
    tests) has none, so the same rule as a Python function registered on the connection."""
    if _pg():
        # regexp_replace compiles the pattern once per statement; translate() with this many
        # characters measured 2.5× slower per row.
        chars = "".join("\\" + c if c in "[]\\^-" else c for c in _PUNCT).replace("'", "''")
        return f"regexp_replace(lower({expr}), '[[:space:][:punct:][:digit:]{chars}]', '', 'g')"
    connection.ensure_connection()
    connection.connection.create_function("lq_normalised", 1, _normalised, deterministic=True)
    return f"lq_normalised({expr})"


_DROP = {ord(c): None for c in "0123456789" + _PUNCT}


def _normalised(text: str | None) -> str:
    return (text or "").lower().translate(_DROP)


def _sql_valid_phone(column: str) -> str:
    if _pg():
        return f"({column} ~ '^1[3-9][0-9]{{9}}$')"
    return f"({column} GLOB '1[3-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]')"


def _ids(text: str | None, cap: int) -> list[int]:
    if not text:
        return []
    return sorted({int(x) for x in str(text).split(",") if x})[:cap]


# --- The signals ---------------------------------------------------------------------------------

_LIVE = "ct.is_deleted = %(false)s AND ct.date >= %(start)s AND ct.date <= %(as_of)s"


def _burst(p: dict) -> list[Signal]:
    """Bursts: min_entries consecutive entries (by created_at) typed within
    (min_entries - 1) × gap_seconds, i.e. under a minute each on average. One window pass: each
    entry is compared with the entry min_entries - 1 before it; a single slower entry does not
    hide a sitting the way "every gap under a minute" would."""
    lag = "LAG({col}, %(burst_span)s) OVER (PARTITION BY ct.cadre_id ORDER BY ct.created_at, ct.id)"
    sql = f"""
WITH c AS (
    SELECT ct.id, ct.cadre_id,
           {_sql_seconds("ct.created_at", lag.format(col="ct.created_at"))} AS span,
           {lag.format(col="ct.id")} AS first_id
    FROM contacts_contact ct
    WHERE {_LIVE} AND ct.activity_id IS NULL
)
SELECT cadre_id, COUNT(*), {_sql_ids("id")}, {_sql_ids("first_id")}
FROM c WHERE span <= %(burst_window)s
GROUP BY cadre_id
"""
    out = []
    for cadre_id, ends, end_ids, first_ids in _rows(sql, p):
        # Overlapping windows: `ends` windows of min_entries entries cover at least this many.
        entries = int(ends) + p["burst_span"]
        ids = _ids(f"{first_ids},{end_ids}", p["cap"])
        sig = Signal("burst", entries, {"entries": entries}, contacts=ids)
        out.append(_tag(cadre_id, sig))
    return out


def _same_text(p: dict) -> list[Signal]:
    """The same notes over many contacts, normalised (a pasted note varied by a number or a
    full stop is still one note). Notes only: a topic is a label ("就业咨询") that honest
    cadres reuse all the time — the browser even offers the last one — so a repeated topic
    is no sign of invention (the first benchmark run flagged such habits). Only notes long
    enough to be more than a label are normalised at all, and PostgreSQL groups them by an md5
    of the text: sorting Chinese text under the database's collation cost 20× the rest."""
    sql = f"""
WITH t AS (
    SELECT ct.id, ct.cadre_id, ct.notes FROM contacts_contact ct
    WHERE {_LIVE} AND ct.activity_id IS NULL AND ct.notes <> ''
),
tot AS (SELECT cadre_id, COUNT(*) AS n FROM t GROUP BY cadre_id),
x AS (
    SELECT id, cadre_id, {_sql_normalised("notes")} AS txt FROM t
    WHERE LENGTH(notes) >= %(text_min_chars)s
)
SELECT x.cadre_id, COUNT(*) AS n, tot.n, {_sql_ids("x.id")}
FROM x JOIN tot ON tot.cadre_id = x.cadre_id
WHERE LENGTH(x.txt) >= %(text_min_chars)s
GROUP BY x.cadre_id, {"md5(x.txt)" if _pg() else "x.txt"}, tot.n
HAVING COUNT(*) >= %(text_min_contacts)s AND COUNT(*) >= %(text_min_share)s * tot.n
"""
    best: dict[int, tuple[int, int, str]] = {}
    for cadre_id, n, total, ids in _rows(sql, p):
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


def _late(p: dict) -> list[Signal]:
    """end_dump and backdated: one pass over the period's contacts."""
    lag = _sql_days("e.created_day", "e.date")
    sql = f"""
WITH e AS (
    SELECT ct.id, ct.cadre_id, ct.date, {_sql_local_day("ct.created_at")} AS created_day
    FROM contacts_contact ct
    WHERE {_LIVE} AND ct.activity_id IS NULL
),
c AS (
    SELECT e.id, e.cadre_id,
           CASE WHEN e.created_day >= %(dump_from)s AND {lag} >= %(dump_lag_days)s
                THEN 1 ELSE 0 END AS dumped,
           CASE WHEN {lag} >= %(backdate_days)s THEN 1 ELSE 0 END AS backdated
    FROM e
)
SELECT cadre_id, COUNT(*) AS n, SUM(dumped), SUM(backdated),
       {_sql_ids("CASE WHEN dumped = 1 THEN id END")},
       {_sql_ids("CASE WHEN backdated = 1 THEN id END")}
FROM c GROUP BY cadre_id
HAVING (SUM(dumped) >= %(dump_min_contacts)s AND SUM(dumped) >= %(dump_min_share)s * COUNT(*))
    OR (SUM(backdated) >= %(backdate_min_contacts)s
        AND SUM(backdated) >= %(backdate_min_share)s * COUNT(*))
"""
    out = []
    for cadre_id, n, dumped, backdated, dump_ids, back_ids in _rows(sql, p):
        n, dumped, backdated = int(n), int(dumped or 0), int(backdated or 0)
        if dumped >= p["dump_min_contacts"] and dumped >= p["dump_min_share"] * n:
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


def _ghost_youths(p: dict) -> list[Signal]:
    """Youths reached in the period who never gave any youth-side evidence (checked in at an
    activity, raised a need themselves, confirmed a contact from their own phone: any time, for
    any cadre — "never" must mean never), and whose phone is missing, invalid, shared by many
    youths or within a few numbers of another such youth of the cadre. Evidence is probed per
    youth through indexes, and only the youths without any are looked at further."""
    valid = _sql_valid_phone("phone")
    number = "CAST(phone AS BIGINT)" if _pg() else "CAST(phone AS INTEGER)"
    sql = f"""
WITH yp AS (
    SELECT DISTINCT cadre_id, youth_id FROM contacts_contactyouth
    WHERE date >= %(start)s AND date <= %(as_of)s
),
tot AS (SELECT cadre_id, COUNT(*) AS n FROM yp GROUP BY cadre_id),
cand AS (
    SELECT yp.cadre_id, yp.youth_id, y.phone FROM yp JOIN cadres_youth y ON y.id = yp.youth_id
    WHERE NOT EXISTS (SELECT 1 FROM activities_registration r
                      WHERE r.youth_id = yp.youth_id AND r.checked_in_at IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM contacts_need n WHERE n.youth_id = yp.youth_id)
      AND NOT EXISTS (SELECT 1 FROM contacts_confirmation cf WHERE cf.youth_id = yp.youth_id
                      AND cf.outcome = 'confirmed' AND cf.same_device = %(false)s)
),
shared AS (  -- phones that many youths (anyone's) give
    SELECT phone FROM cadres_youth WHERE phone <> ''
    GROUP BY phone HAVING COUNT(*) >= %(ghost_shared_phone_youths)s
),
bad AS (
    -- One window over the candidates, the CTE read once (a CTE read twice is materialised
    -- without statistics: nested loops, 3.8 s at banner scale). An invalid or missing number
    -- is NULL, so it is never anyone's neighbour.
    SELECT c.cadre_id, c.youth_id,
           CASE WHEN c.phone = '' THEN 'missing'
                WHEN c.num IS NULL THEN 'invalid'
                WHEN c.phone IN (SELECT phone FROM shared) THEN 'shared'
                WHEN c.num - LAG(c.num) OVER w <= %(ghost_sequential_gap)s
                  OR LEAD(c.num) OVER w - c.num <= %(ghost_sequential_gap)s THEN 'sequential'
           END AS why
    FROM (SELECT cand.*, CASE WHEN {valid} THEN {number} END AS num FROM cand) c
    WINDOW w AS (PARTITION BY c.cadre_id ORDER BY c.num)
)
SELECT b.cadre_id, COUNT(*) AS n, tot.n,
       SUM(CASE WHEN why = 'missing' THEN 1 ELSE 0 END),
       SUM(CASE WHEN why = 'invalid' THEN 1 ELSE 0 END),
       SUM(CASE WHEN why = 'shared' THEN 1 ELSE 0 END),
       SUM(CASE WHEN why = 'sequential' THEN 1 ELSE 0 END),
       {_sql_ids("b.youth_id")}
FROM bad b JOIN tot ON tot.cadre_id = b.cadre_id
WHERE b.why IS NOT NULL
GROUP BY b.cadre_id, tot.n
HAVING COUNT(*) >= %(ghost_min_youths)s
   AND (SUM(CASE WHEN why <> 'missing' THEN 1 ELSE 0 END) >= %(ghost_min_youths)s
        AND SUM(CASE WHEN why <> 'missing' THEN 1 ELSE 0 END) >= %(ghost_min_share)s * tot.n
        OR COUNT(*) >= %(ghost_missing_min_share)s * tot.n)
"""
    out = []
    for cadre_id, n, total, missing, invalid, shared, sequential, ids in _rows(sql, p):
        detail = {
            "youths": int(n),
            "reached": int(total),
            "missing": int(missing or 0),
            "invalid": int(invalid or 0),
            "shared": int(shared or 0),
            "sequential": int(sequential or 0),
        }
        sig = Signal("ghost_youths", int(n), detail, youths=_ids(ids, p["cap"]))
        out.append(_tag(cadre_id, sig))
    return out


def _batch_log(p: dict) -> list[Signal]:
    sql = """
WITH n AS (
    SELECT contact_id, COUNT(*) AS youths FROM contacts_contactyouth
    WHERE is_offline = %(true)s AND date >= %(start)s AND date <= %(as_of)s
    GROUP BY contact_id HAVING COUNT(*) > %(batch_talk_max_youths)s
)
SELECT ct.cadre_id, ct.id, ct.channel, n.youths
FROM n JOIN contacts_contact ct ON ct.id = n.contact_id
WHERE ct.activity_id IS NULL AND ct.is_deleted = %(false)s
  AND (ct.channel IN ('talk', 'visit') OR n.youths > %(batch_offline_max_youths)s)
"""
    by_cadre: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for cadre_id, contact_id, _channel, youths in _rows(sql, p):
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


def _quota_jump(p: dict) -> list[Signal]:
    sql = f"""
WITH first AS (
    SELECT cadre_id, youth_id, MIN(date) AS first_date FROM contacts_contactyouth
    WHERE date >= %(start)s AND date <= %(as_of)s GROUP BY cadre_id, youth_id
),
r AS (
    SELECT cadre_id, COUNT(*) AS reached,
           SUM(CASE WHEN first_date >= %(jump_from)s THEN 1 ELSE 0 END) AS late,
           {_sql_ids("CASE WHEN first_date >= %(jump_from)s THEN youth_id END")} AS ids
    FROM first GROUP BY cadre_id
)
SELECT r.cadre_id, r.reached, r.late, COALESCE(q.quota, %(default_quota)s) AS quota, r.ids
FROM r JOIN cadres_cadre c ON c.id = r.cadre_id
LEFT JOIN cadres_quotarule q ON q.cadre_type = c.cadre_type
WHERE r.reached >= COALESCE(q.quota, %(default_quota)s)
  AND r.reached <= COALESCE(q.quota, %(default_quota)s) + %(quota_jump_slack)s
  AND r.late >= %(quota_jump_min_share)s * COALESCE(q.quota, %(default_quota)s)
  AND COALESCE(q.quota, %(default_quota)s) > 0
"""
    out = []
    for cadre_id, reached, late, quota, ids in _rows(sql, p):
        detail = {"reached": int(reached), "late": int(late), "quota": int(quota)}
        detail["last_days"] = p["quota_jump_last_days"]
        sig = Signal("quota_jump", int(reached), detail, youths=_ids(ids, p["cap"]))
        out.append(_tag(cadre_id, sig))
    return out


def _confirmations(p: dict) -> list[Signal]:
    """denials and same_device, from the youths' side (contacts.Confirmation), by the day of
    the contact concerned."""
    sql = f"""
SELECT cf.cadre_id,
       SUM(CASE WHEN cf.outcome = 'denied' THEN 1 ELSE 0 END),
       SUM(CASE WHEN cf.same_device = %(true)s THEN 1 ELSE 0 END),
       {_sql_ids("CASE WHEN cf.outcome = 'denied' THEN cf.contact_id END")},
       {_sql_ids("CASE WHEN cf.same_device = %(true)s THEN cf.contact_id END")}
FROM contacts_confirmation cf
WHERE cf.day >= %(start)s AND cf.day <= %(as_of)s
GROUP BY cf.cadre_id
HAVING SUM(CASE WHEN cf.outcome = 'denied' THEN 1 ELSE 0 END) >= %(denials_min)s
    OR SUM(CASE WHEN cf.same_device = %(true)s THEN 1 ELSE 0 END) >= %(same_device_min)s
"""
    out = []
    for cadre_id, denied, same, denied_ids, same_ids in _rows(sql, p):
        denied, same = int(denied or 0), int(same or 0)
        if denied >= p["denials_min"]:
            sig = Signal("denials", denied, {"denials": denied}, _ids(denied_ids, p["cap"]))
            out.append(_tag(cadre_id, sig))
        if same >= p["same_device_min"]:
            sig = Signal("same_device", same, {"confirmations": same}, _ids(same_ids, p["cap"]))
            out.append(_tag(cadre_id, sig))
    return out


DETECTORS = (_burst, _same_text, _late, _ghost_youths, _batch_log, _quota_jump, _confirmations)


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
) -> dict[int, list[Signal]]:
    """The signals of every cadre in the period up to as_of: {cadre_id: [Signal, …]} for the
    cadres with at least one. A handful of statements whatever the number of cadres.
    `timings`, if given, receives the seconds each statement took (benchmark_integrity)."""
    params = params_for(period=period, as_of=as_of, thresholds=thresholds)
    found: dict[int, list[Signal]] = defaultdict(list)
    for detector in DETECTORS:
        started = time.perf_counter()
        for signal in detector(params):
            found[signal.detail.pop("cadre_id")].append(signal)
        if timings is not None:
            timings[detector.__name__.strip("_")] = time.perf_counter() - started
    order = {code: i for i, code in enumerate(SIGNALS)}
    return {cid: sorted(sigs, key=lambda s: order[s.code]) for cid, sigs in found.items()}


def findings_store(
    *,
    run: ScoreRun,
    period: Period,
    as_of: datetime.date,
    policy: ScoringPolicy,
    now: datetime.datetime,
) -> int:
    """Replace a run's findings with a fresh detection (inside the caller's transaction, under
    the run lock: idempotent). Returns the number of cadres flagged."""
    from cadres.models import Cadre

    from .models import IntegrityFinding

    found = detect(period=period, as_of=as_of, thresholds=thresholds_of(policy))
    orgs = dict(Cadre.objects.filter(pk__in=list(found)).values_list("pk", "organisation_id"))
    IntegrityFinding.objects.filter(run=run).delete()
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
