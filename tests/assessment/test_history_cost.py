"""A quarter's computation reads the quarter's rows, not every year's (issue 16 item 4).

Three years of contact logs; the statements that read the contact fact tables for a period
(the scoring statement, padding detection's contact-youth rows, the weekly statistics) are
EXPLAINed on PostgreSQL with sequential scans priced out (at this size the planner would read
the few pages whole, as it does not at province scale) and every scan of a fact table must read
the window only: a range of an index that leads with the date, or per cadre with the date next. Read through the (cadre, …) indexes, as before
contacts/0010, every year's rows were scanned for a quarter (docs/scaling.md)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection

from assessment import integrity, metrics
from assessment.periods import parse_period
from contacts.models import Contact, ContactYouth
from tests.assessment.conftest import TODAY, link_youths

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="plans are PostgreSQL's"),
]

PERIOD = parse_period("2026Q3", today=TODAY)
WINDOW = metrics.Window.for_period(PERIOD, TODAY)


def _log_days(cadre, youths, days: list[datetime.date]) -> None:
    contacts = Contact.objects.bulk_create(
        Contact(cadre=cadre, date=day, channel="talk" if i % 3 else "wechat")
        for i, day in enumerate(days)
    )
    ContactYouth.objects.bulk_create(
        ContactYouth(contact=c, youth=y, cadre=cadre, date=c.date, is_offline=c.channel == "talk")
        for i, c in enumerate(contacts)
        for y in (youths[i % len(youths)], youths[(i + 1) % len(youths)])
    )


def _year_before(end: datetime.date) -> list[datetime.date]:
    return [end - datetime.timedelta(days=d) for d in range(365)]


@pytest.fixture
def three_years(tree, quota10):
    youths = link_youths(tree.cadre, 6, sectors=2)
    _log_days(tree.cadre, youths, _year_before(TODAY))
    before = metrics.cadre_metrics(WINDOW)
    for k in (1, 2):
        _log_days(tree.cadre, youths, _year_before(TODAY - datetime.timedelta(days=365 * k)))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact, contacts_contactyouth")
    return before


def _columns(index: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE c.relname = %s ORDER BY k.n",
            [index],
        )
        return [row[0] for row in cursor.fetchall()]


def _scans(sql: str, params: dict, table: str) -> list[dict]:
    """The plan's scans of `table` (EXPLAIN ANALYZE, sequential scans priced out), each with
    the index it reads (a bitmap scan's from its child)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0][0]["Plan"]
        cursor.execute("SET LOCAL enable_seqscan = on")
    found = []

    def walk(node: dict) -> None:
        if node.get("Relation Name") == table:
            index = node.get("Index Name") or next(
                (k.get("Index Name") for k in node.get("Plans", []) if k.get("Index Name")), None
            )
            cond = node.get("Index Cond") or node.get("Recheck Cond") or ""
            found.append({"type": node["Node Type"], "index": index, "cond": cond, **node})
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    return found


def _window_rows(model, start: datetime.date) -> int:
    return model.objects.filter(date__gte=start, date__lte=WINDOW.as_of).count()


def _assert_date_ranges(scans: list[dict], model) -> None:
    """Every scan of the table reads window rows only: an index (no sequential scan), no more
    rows read (kept or filtered) than the window has, and the date range in the index
    condition, of an index leading with the date or with the probed column and then the date
    (one cadre's window). A probe by another key (the evidence's check-in contacts, by
    contact id) reads only the probed rows."""
    assert scans
    in_scan = _window_rows(model, WINDOW.scan_start)
    assert in_scan * 2 < model.objects.count()  # most rows lie in other years
    for scan in scans:
        assert scan["index"], scan["type"]  # not a sequential scan
        read = scan["Actual Rows"] + scan.get("Rows Removed by Filter", 0)
        assert read * scan["Actual Loops"] <= in_scan, scan["index"]
        cond, columns = scan["cond"], _columns(scan["index"])
        if "date >=" not in cond:
            assert " = " in cond, (scan["index"], cond)  # a probe by key
            continue
        assert "date <=" in cond, cond
        leading = columns[: columns.index("date")]
        assert all(f"{column} = " in cond for column in leading), (scan["index"], cond)


def test_the_scoring_statement_reads_only_the_windows_contact_youth_rows(three_years):
    scans = _scans(metrics.metrics_sql(WINDOW), WINDOW.params(), "contacts_contactyouth")
    _assert_date_ranges(scans, ContactYouth)
    # The pairs: each cadre's window from its first day of the scan (1 January), a range.
    assert any(str(WINDOW.scan_start) in s["cond"] for s in scans)


def test_the_incremental_scoring_statement_reads_only_the_cadres_window(three_years, tree):
    params = {**WINDOW.params(), "cadre_ids": metrics.id_param([tree.cadre.pk])}
    sql = metrics.metrics_sql(WINDOW, some_cadres=True)
    _assert_date_ranges(_scans(sql, params, "contacts_contactyouth"), ContactYouth)


def test_older_years_leave_the_quarters_numbers_as_they_were(three_years):
    assert metrics.cadre_metrics(WINDOW) == three_years


def test_padding_detection_reads_only_the_periods_contact_youth_rows(three_years):
    params = integrity.params_for(period=PERIOD, as_of=WINDOW.as_of, thresholds={})
    scans = _scans(integrity._reached_sql(params), params, "contacts_contactyouth")
    _assert_date_ranges(scans, ContactYouth)


def test_the_weekly_statistics_read_only_the_periods_contacts(three_years):
    params = {"false": False, "start": WINDOW.start, "as_of": WINDOW.as_of}
    scans = _scans(metrics.channel_week_sql(), params, "contacts_contact")
    _assert_date_ranges(scans, Contact)
    assert {s["index"] for s in scans} == {"contact_week_stats_idx"}


def test_padding_detection_reads_only_the_periods_typed_contacts(three_years):
    params = integrity.params_for(period=PERIOD, as_of=WINDOW.as_of, thresholds={})
    scans = _scans(integrity._entries_sql(params), params, "contacts_contact")
    # Which date-leading index serves it is the planner's choice at this size (both
    # contact_integrity_period_idx and contact_week_stats_idx read only the window here); at
    # province scale it is contact_integrity_period_idx (docs/scaling.md, with the plans).
    _assert_date_ranges(scans, Contact)
