"""SQL dialect pieces of the padding detection (assessment/integrity.py): the few expressions
that differ between PostgreSQL (production) and SQLite (development and tests), and the
assembly of one statement out of several signals' SELECTs."""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.db import connection


def pg() -> bool:
    return connection.vendor == "postgresql"


def local_day(column: str) -> str:
    """The local calendar day of a UTC timestamp column."""
    if pg():
        return f"({column} AT TIME ZONE '{settings.TIME_ZONE}')::date"
    offset = zoneinfo.ZoneInfo(settings.TIME_ZONE).utcoffset(datetime.datetime(2026, 1, 1))
    hours = int(offset.total_seconds() // 3600) if offset else 0
    return f"date({column}, '{hours:+d} hours')"


def connection_day(column: str) -> str:
    """The calendar day of a timestamp column in the connection's time zone (UTC: Django sets
    it so on PostgreSQL, and SQLite stores UTC), without a named zone's conversion. Any two
    zones' days differ by at most 2 (offsets lie within -12 h and +14 h)."""
    return f"CAST({column} AS date)" if pg() else f"date({column})"


def days(later: str, earlier: str) -> str:
    """Whole days between two dates."""
    if pg():
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def seconds(later: str, earlier: str) -> str:
    if pg():
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def within_seconds(later: str, earlier: str, param: str) -> str:
    """`later` is at most %(param)s seconds after `earlier` (two timestamps; NULL if either is).
    On PostgreSQL an interval comparison: the bound is folded to one interval when planned."""
    if pg():
        return f"({later} - {earlier} <= %({param})s * interval '1 second')"
    return f"({seconds(later, earlier)} <= %({param})s)"


def in_range(column: str, p: dict) -> str:
    """Only the cadres lo <= id < hi (`cadre_range` of integrity.detect: the bounded steps of
    assessment/chunked.py). Every signal is a cadre's own: their contacts, youths and
    confirmations; the youths' evidence (`ev`) is read whole in every step."""
    return f" AND {column} >= %(lo)s AND {column} < %(hi)s" if "lo" in p else ""


def ids(expr: str) -> str:
    """The ids of a group as "1,2,3" (NULLs skipped); capped in Python."""
    if pg():
        return f"string_agg(CAST({expr} AS text), ',')"
    return f"group_concat({expr})"


def valid_phone(column: str) -> str:
    if pg():
        return f"({column} ~ '^1[3-9][0-9]{{9}}$')"
    return f"({column} GLOB '1[3-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]')"


def phone_number(column: str) -> str:
    return f"CAST({column} AS BIGINT)" if pg() else f"CAST({column} AS INTEGER)"


def union(ctes: list[str], branches: list[tuple[str, list[str], list[str], str]]) -> str:
    """One statement out of several signals' SELECTs over shared CTEs, so that the database
    reads the period's rows in one round trip. Each branch is (kind, numbers, id lists, FROM …):
    its rows come back as (kind, cadre_id-first numbers…, id lists…), padded with NULLs to the
    widest branch, numbers before id lists so that each column has one type in every branch.
    The padding is typed: PostgreSQL resolves a column NULL in the first branches as text."""
    width_n = max(len(b[1]) for b in branches)
    width_i = max(len(b[2]) for b in branches)
    selects = []
    for kind, numbers, id_lists, rest in branches:
        cols = [f"'{kind}'"]
        cols += numbers + ["CAST(NULL AS BIGINT)"] * (width_n - len(numbers))
        cols += id_lists + ["CAST(NULL AS TEXT)"] * (width_i - len(id_lists))
        selects.append(f"SELECT {', '.join(cols)}\n{rest}")
    return "WITH " + ",\n".join(ctes) + "\n" + "\nUNION ALL\n".join(selects)


def split(rows: list[tuple], widths: dict[str, tuple[int, int]]) -> dict[str, list[tuple]]:
    """The rows of a union() statement by kind, each cut to its branch's own columns."""
    width_n = max(n for n, _i in widths.values())
    out: dict[str, list[tuple]] = {kind: [] for kind in widths}
    for row in rows:
        n, i = widths[row[0]]
        out[row[0]].append(row[1 : 1 + n] + row[1 + width_n : 1 + width_n + i])
    return out
