"""Work-plan completion in the bulletin (both editions, page and Excel) and the reviews: the same
figures as the plan pages (activities/plans.py:plan_completion through assessment/sources.py)."""

from __future__ import annotations

import datetime
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from activities import services
from activities.plans import plan_overview

pytestmark = pytest.mark.django_db

# Last year's plan, so that every quarter has ended and the figures do not depend on today.
YEAR = timezone.localdate().year - 1


@pytest.fixture
def plans(tree):
    plan = services.plan_create(organisation=tree.town_a, year=YEAR, by=tree.owner)
    for quarter, achieved in ((1, 3), (2, 1)):
        services.plan_item_save(
            plan=plan,
            by=tree.owner,
            goal=f"第{quarter}季度发展团员",
            category="org_building",
            quarter=quarter,
            measure="manual",
            target=3,
            achieved=achieved,
        )
    services.plan_submit(plan=plan, by=tree.owner)
    return plan


@pytest.fixture
def last_q4(tree, quota10):
    from assessment import services as scoring

    scoring.scores_compute(period=f"{YEAR}Q4")
    scoring.scores_compute(period=f"{YEAR}H1")
    return f"{YEAR}Q4"


def test_bulletin_shows_plan_completion_in_both_editions(client, tree, plans, last_q4):
    expected = plan_overview(
        user=tree.county, organisation=tree.banner, year=YEAR, as_of=datetime.date(YEAR, 12, 31)
    )
    assert expected.items_due == 2 and expected.rate == 50.0
    client.force_login(tree.county)
    query = {"organisation": tree.banner.pk, "period": last_q4}
    circulated = client.get(reverse("assessment:bulletin"), query).content.decode()
    assert "附：年度工作计划完成情况" in circulated
    assert "到期计划事项 2 项，完成 1 项，完成率 50.0%" in circulated
    assert "乙镇团委" in circulated  # without a plan: named, an organisation not a cadre
    assert '<th scope="col">到期事项</th>' not in circulated  # no per-organisation table
    supervisors = client.get(reverse("assessment:bulletin"), query | {"edition": "supervisors"})
    assert '<th scope="col">到期事项</th>' in supervisors.content.decode()


def test_excel_follows_the_edition(client, tree, plans, last_q4):
    client.force_login(tree.county)
    query = {"organisation": tree.banner.pk, "period": last_q4, "format": "xlsx"}
    for edition, per_org in (("circulated", False), ("supervisors", True)):
        response = client.get(reverse("assessment:bulletin"), query | {"edition": edition})
        ws = load_workbook(BytesIO(response.content))["年度工作计划"]
        cells = [c.value for row in ws.iter_rows() for c in row]
        assert "按时提交" in cells
        assert ("甲镇团委" in cells) is per_org


def test_mid_year_review_counts_items_due_by_june(client, tree, plans, last_q4):
    client.force_login(tree.county)
    query = {"organisation": tree.banner.pk, "period": f"{YEAR}H1"}
    html = client.get(reverse("assessment:review"), query).content.decode()
    assert f"截至 {YEAR}-06-30，到期计划事项 2 项，完成 1 项，完成率 50.0%" in html


def test_plans_are_in_the_overview_even_before_scores(tree, plans):
    from assessment.periods import parse_period
    from assessment.selectors import overview

    period = parse_period(f"{YEAR}H1")
    ov = overview(user=tree.county, organisation=tree.banner, period=period)
    assert ov.plans.available
    assert ov.plans.data.as_of == datetime.date(YEAR, 6, 30)
    assert ov.plans.data.items_due == 2 and ov.plans.data.due_done == 1
