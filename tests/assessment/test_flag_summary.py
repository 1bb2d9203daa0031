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


def test_stored_counts_equal_the_live_count_of_the_flags(tree):
    """The rows flags_refresh writes (assessment/flag_stats.py) give the answer the flags give,
    for every organisation, before and after the flags change."""
    from assessment.flag_stats import flag_stats_store, open_flag_counts, reason_counts
    from assessment.models import OrganisationFlagStat
    from cadres.models import Organisation
    from cadres.selectors import in_subtree

    def live(org):
        counts = reason_counts(
            in_subtree(Flag.objects.filter(resolved_at__isnull=True), organisation=org)
        )
        return (
            sum(n for n, _ in counts.values()),
            {
                c: sum(r[c] for _, r in counts.values())
                for c in ("score", "quota", "no_contact", "needs")
            },
        )

    _flag(tree.cadre, "score", "needs", "score")
    in_branch = _flag(CadreFactory(organisation=tree.branch_a), "score")
    _flag(CadreFactory(organisation=tree.town_a), "quota", resolved=True)
    _flag(CadreFactory(organisation=tree.town_b), "no_contact")
    assert not OrganisationFlagStat.objects.exists()  # never stored: counted live
    before = open_flag_counts(user=tree.county, organisation=tree.banner)
    assert flag_stats_store() == Organisation.objects.count()  # a row for every organisation
    for org in Organisation.objects.all():
        assert open_flag_counts(user=tree.county, organisation=org) == live(org), org
    assert open_flag_counts(user=tree.county, organisation=tree.banner) == before
    # Checked by hand: 甲镇 two cadres (score twice, needs once), the banner also 乙镇's.
    assert open_flag_counts(user=tree.county, organisation=tree.town_a) == (
        2,
        {"score": 2, "quota": 0, "no_contact": 0, "needs": 1},
    )
    assert before[0] == 3
    in_branch.resolved_at = timezone.now()
    in_branch.save()
    assert flag_stats_store() == 1  # only the branch's row changed
    for org in Organisation.objects.all():
        assert open_flag_counts(user=tree.county, organisation=org) == live(org), org
    # Scoped: township B's staff asking for township A get nothing of it.
    assert open_flag_counts(user=tree.outsider, organisation=tree.town_a)[0] == 0


def test_a_computation_stores_the_counts_of_its_flags(tree):
    from assessment import services
    from assessment.flag_stats import open_flag_counts
    from assessment.models import OrganisationFlagStat
    from tests.assessment.conftest import TODAY

    for _ in range(3):  # enough cadres that one more is an incremental run (at most half)
        CadreFactory(organisation=tree.branch_a)
    services.scores_compute(period="2026Q3", today=TODAY)
    assert OrganisationFlagStat.objects.filter(organisation=tree.banner).exists()
    n_open = Flag.objects.filter(resolved_at__isnull=True).count()
    assert n_open >= 1  # the township cadre without youths
    assert open_flag_counts(user=tree.county, organisation=tree.banner)[0] == n_open
    # An incremental run flags a new cadre of township B: only its organisation is rewritten.
    newcomer = CadreFactory(organisation=tree.town_b)
    run = services.scores_compute(period="2026Q3", today=TODAY, cadre_ids=[newcomer.pk])
    assert run.refreshed_organisations == {tree.town_b.pk}  # an incremental run
    assert Flag.objects.filter(cadre=newcomer, resolved_at__isnull=True).exists()
    assert open_flag_counts(user=tree.county, organisation=tree.banner)[0] == n_open + 1
    assert open_flag_counts(user=tree.outsider, organisation=tree.town_b)[0] == (
        Flag.objects.filter(organisation=tree.town_b, resolved_at__isnull=True).count()
    )
