"""The bulletin's sentences on hand-checked data, and eligibility decided as of 31 December."""

from __future__ import annotations

import datetime
from datetime import date as D

import pytest
from django.urls import reverse
from django.utils import timezone

from assessment import selectors, services
from assessment.models import CadreScore, SupervisionCase
from assessment.periods import parse_period
from tests.assessment.conftest import TODAY, add_need, link_youths

# 2026Q2 counts 1 April – 30 June; on 15 July it is over, so as of 30 June.
NEEDS = [
    # due,          answered        → in the hand count
    (D(2026, 4, 10), D(2026, 4, 9), None),  # due this period, on time
    (D(2026, 5, 1), D(2026, 5, 3), None),  # due this period, answered late (neither)
    (D(2026, 6, 10), None, None),  # due this period, overdue
    (D(2026, 6, 20), D(2026, 7, 2), None),  # due this period, unanswered on 30 June: overdue
    (D(2026, 3, 1), None, None),  # due in Q1, still open: backlog
    (D(2026, 2, 1), D(2026, 4, 5), None),  # due in Q1, answered in April: not backlog
    (D(2026, 3, 15), None, "closed"),  # due in Q1, closed: not backlog
]


@pytest.fixture
def needs(tree, quota10):
    link_youths(tree.cadre, 3, sectors=1)
    for due, answered, status in NEEDS:
        add_need(tree.cadre, due=due, answered=answered, status=status)
    services.scores_compute(period="2026Q2", today=TODAY)
    return tree.cadre


def test_stored_needs_split_by_period(needs):
    s = CadreScore.objects.get(cadre=needs, period="2026Q2")
    assert (s.needs_due, s.needs_on_time, s.needs_overdue, s.needs_backlog) == (4, 1, 2, 1)


def test_bulletin_sentences_name_period_and_as_of_and_never_mix_backlog(client, tree, needs):
    ov = selectors.overview(
        user=tree.county, organisation=tree.banner, period=parse_period("2026Q2", today=TODAY)
    )
    s = ov.sentences
    assert (
        s.scope
        == "以下数字均为2026年第2季度（2026年4月1日至2026年6月30日）的统计，统计截至2026年6月30日。"
    )
    assert s.needs_due == (
        "2026年第2季度到期的需求（到期日在2026年4月1日至2026年6月30日之间）4 件，"
        "其中按期答复 1 件（25.0%）。"
    )
    assert s.needs_overdue == "2026年第2季度到期、截至2026年6月30日逾期仍未答复的需求 2 件。"
    assert s.needs_backlog == (
        "此前各期遗留：2026年4月1日以前到期、截至2026年6月30日仍未答复的需求 1 件（不计入本期到期数）。"
    )
    assert s.quota.startswith("2026年第2季度，截至2026年6月30日：1 名团干部中 0 名完成")
    client.force_login(tree.county)
    html = client.get(
        reverse("assessment:bulletin"), {"organisation": tree.banner.pk, "period": "2026Q2"}
    ).content.decode()
    for sentence in s.as_list():
        assert sentence in html


def test_flag_counts_backlog_with_this_periods_overdue(needs):
    from assessment.models import Flag

    flag = Flag.objects.get(cadre=needs)
    assert {"code": "needs", "text": "3 件需求逾期未答复"} in flag.reasons  # 2 + 1 backlog


# --- Eligibility as of 31 December ------------------------------------------------------------


def _case(cadre, opened: datetime.datetime, closed: datetime.datetime | None):
    case = SupervisionCase.objects.create(cadre=cadre, organisation=cadre.organisation)
    SupervisionCase.objects.filter(pk=case.pk).update(
        opened_at=opened,
        closed_at=closed,
        status="decided" if closed else "open",
    )
    return case


def test_eligibility_for_a_past_year_uses_the_cases_open_on_31_december(client, tree, quota10):
    from tests.factories import CadreFactory

    tz = timezone.get_current_timezone()
    closed_since = tree.cadre  # a case open over new year 2025→2026, closed in February 2026
    opened_later = CadreFactory(name="次年立案", organisation=tree.town_a)  # case opened 2026
    closed_before = CadreFactory(name="年内结案", organisation=tree.town_a)
    for cadre in (closed_since, opened_later, closed_before):
        link_youths(cadre, 10, sectors=4, linked_on=D(2025, 1, 10))
    _case(
        closed_since,
        datetime.datetime(2025, 11, 1, 9, tzinfo=tz),
        datetime.datetime(2026, 2, 1, 9, tzinfo=tz),
    )
    _case(opened_later, datetime.datetime(2026, 1, 1, 0, 30, tzinfo=tz), None)  # still open today
    _case(
        closed_before,
        datetime.datetime(2025, 3, 1, 9, tzinfo=tz),
        datetime.datetime(2025, 12, 31, 23, 50, tzinfo=tz),
    )
    services.scores_compute(period="2025", today=TODAY)
    run, rows = selectors.eligibility_list(user=tree.county, year=2025, today=TODAY)
    verdict = {r.score.cadre.name: r.reasons for r in rows}
    assert verdict[closed_since.name] == ["2025-12-31 有未结案的督导（约谈/诫勉）案例"]
    assert verdict["次年立案"] == [] and verdict["年内结案"] == []
    client.force_login(tree.county)
    html = client.get(
        reverse("assessment:eligibility"), {"organisation": tree.banner.pk, "period": "2025"}
    ).content.decode()
    assert "按 2025年12月31日（2025 年底）的情况判定" in html
    assert "测评为 2025 年度测评" in html
