"""The circulated bulletin's flag counts (selectors.flag_summary): counted in the database on
PostgreSQL, the same answer as reading every flag's reasons."""

from __future__ import annotations

import pytest
from django.utils import timezone

from assessment.models import Flag
from assessment.selectors import flag_summary
from tests.factories import CadreFactory

pytestmark = pytest.mark.django_db


def _flag(cadre, *codes, resolved=False):
    return Flag.objects.create(
        cadre=cadre,
        organisation=cadre.organisation,
        first_period="2026Q3",
        last_period="2026Q3",
        reasons=[{"code": code, "text": "…"} for code in codes],
        resolved_at=timezone.now() if resolved else None,
    )


def test_counts_each_reason_once_per_flagged_cadre_in_scope(tree):
    _flag(tree.cadre, "score", "needs", "score")  # a reason twice still counts once
    _flag(CadreFactory(organisation=tree.branch_a), "score")
    _flag(CadreFactory(organisation=tree.town_a), "quota", resolved=True)  # resolved: not open
    _flag(CadreFactory(organisation=tree.town_b), "no_contact")  # outside township A
    summary = flag_summary(user=tree.county, organisation=tree.town_a)
    assert summary.n_flagged == 2
    assert summary.by_reason == [("活跃度低于预警线", 2), ("需求逾期未答复", 1)]
    assert summary.n_cases == 0
    banner = flag_summary(user=tree.county, organisation=tree.banner)
    assert (banner.n_flagged, dict(banner.by_reason)["长期没有联系青年"]) == (3, 1)
    # Township B's staff see nothing of township A.
    assert flag_summary(user=tree.outsider, organisation=tree.town_a).n_flagged == 0
