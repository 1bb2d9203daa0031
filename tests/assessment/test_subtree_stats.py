"""The dashboards' subtree sums of the weekly statistics (assessment/subtree_stats.py): for every
organisation the sum of its subtree's own rows, kept up by the full and the incremental
statistics run, read through the user's scope."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.db.models import Count

from assessment import services
from assessment.models import CadreScore, ChannelWeekStat, SubtreeScoreStat, SubtreeWeekStat
from assessment.subtree_stats import score_aggregates, subtree_scores, subtree_weeks
from cadres.models import Organisation
from cadres.selectors import in_subtree
from tests.assessment.conftest import TODAY, link_youths, log_contact
from tests.factories import CadreFactory

pytestmark = pytest.mark.django_db
D = datetime.date


def _own_sums(run, organisation) -> Counter:
    """What the dashboard summed before: every ChannelWeekStat row of the subtree."""
    rows = in_subtree(ChannelWeekStat.objects.filter(run=run), organisation=organisation)
    out: Counter = Counter()
    for week, channel, n in rows.values_list("week", "channel", "contacts"):
        out[(week, channel)] += n
    return out


def _stored(run, organisation) -> Counter:
    rows = SubtreeWeekStat.objects.filter(run=run, organisation=organisation)
    return Counter({(w, c): n for w, c, n in rows.values_list("week", "channel", "contacts")})


@pytest.fixture
def logged(tree):
    """Contacts in three organisations of the banner, in two weeks and channels of 2026Q3."""
    in_branch = CadreFactory(organisation=tree.branch_a)
    in_b = CadreFactory(organisation=tree.town_b)
    log_contact(tree.cadre, [], D(2026, 7, 1), "wechat")
    log_contact(tree.cadre, [], D(2026, 7, 8), "talk")
    log_contact(in_branch, [], D(2026, 7, 2), "wechat")
    log_contact(in_branch, [], D(2026, 7, 9), "wechat")
    log_contact(in_b, [], D(2026, 7, 9), "wechat")
    run = services.scores_compute(period="2026Q3", today=TODAY)
    services.contact_stats_compute(run=run, today=TODAY)
    return run


def test_every_organisation_holds_the_sums_of_its_subtree(tree, logged):
    for organisation in Organisation.objects.all():
        assert _stored(logged, organisation) == _own_sums(logged, organisation), organisation
    # Checked by hand: the banner has all five contacts, township A three of its own and two
    # of its branch, the week of 6 July counting 甲镇 talk, the branch's and 乙镇's wechat.
    assert _stored(logged, tree.banner) == {
        (D(2026, 6, 29), "wechat"): 2,
        (D(2026, 7, 6), "talk"): 1,
        (D(2026, 7, 6), "wechat"): 2,
    }
    assert sum(_stored(logged, tree.town_a).values()) == 4
    assert sum(_stored(logged, tree.city).values()) == 5


def test_incremental_run_updates_the_ancestors_and_leaves_the_rest(tree, logged):
    # A figure no computation gives: still there after the run if township B was left alone.
    SubtreeWeekStat.objects.filter(organisation=tree.town_b).update(contacts=99)
    in_branch = tree.branch_a.cadres.get()
    log_contact(in_branch, [], D(2026, 7, 10), "phone")
    services.contact_stats_compute(run=logged, today=TODAY, organisation_ids=[tree.branch_a.pk])
    for organisation in (tree.branch_a, tree.town_a, tree.banner, tree.city):
        assert _stored(logged, organisation) == _own_sums(logged, organisation), organisation
    assert _stored(logged, tree.city)[(D(2026, 7, 6), "phone")] == 1
    assert set(_stored(logged, tree.town_b).values()) == {99}
    # The next full run puts it right.
    services.contact_stats_compute(run=logged, today=TODAY)
    assert _stored(logged, tree.town_b) == _own_sums(logged, tree.town_b)


def test_a_full_rerun_removes_vanished_weeks(tree, logged):
    contact = tree.cadre.contacts.get(channel="talk")
    contact.is_deleted = True
    contact.save()
    services.contact_stats_compute(run=logged, today=TODAY)
    assert (D(2026, 7, 6), "talk") not in _stored(logged, tree.banner)
    assert _stored(logged, tree.banner) == _own_sums(logged, tree.banner)


def test_the_dashboard_read_is_scoped(tree, logged):
    rows = subtree_weeks(user=tree.county, organisation=tree.town_a, run=logged)
    assert rows == sorted(rows) and sum(n for _w, _c, n in rows) == 4
    # Township B's staff asking for township A get nothing, not A's figures.
    assert subtree_weeks(user=tree.outsider, organisation=tree.town_a, run=logged) == []


def test_dashboard_shows_the_subtree_weeks(client, tree, logged):
    client.force_login(tree.county)
    response = client.get("/assessment/", {"organisation": tree.town_a.pk, "period": "2026Q3"})
    assert response.status_code == 200
    ov = response.context["ov"]
    assert [week for week, _counts in ov.weeks] == ["2026-06-29", "2026-07-06"]
    assert sum(n for _label, n in ov.channel_totals) == 4


def _live_scores(run, organisation):
    scores = in_subtree(CadreScore.objects.filter(run=run), organisation=organisation)
    totals = scores.aggregate(**score_aggregates(run))
    totals["avg_score"] = float(totals["avg_score"]) if totals["avg_score"] is not None else None
    sectors = [list(r) for r in scores.values_list("sectors").annotate(n=Count("id"))]
    return totals, sorted(sectors)


def test_score_figures_of_every_subtree_equal_the_live_aggregate(tree, logged):
    for organisation in Organisation.objects.all():
        totals, sectors = _live_scores(logged, organisation)
        row = SubtreeScoreStat.objects.filter(run=logged, organisation=organisation).first()
        if totals["n"] == 0:
            assert row is None, organisation
        else:
            assert (row.totals, row.sectors) == (totals, sectors), organisation
    # Three cadres under the banner (甲镇, its branch, 乙镇), one in township B.
    assert SubtreeScoreStat.objects.get(run=logged, organisation=tree.banner).totals["n"] == 3
    assert SubtreeScoreStat.objects.get(run=logged, organisation=tree.town_b).totals["n"] == 1


def test_incremental_scores_refresh_only_the_changed_subtrees(tree, logged):
    SubtreeScoreStat.objects.filter(organisation=tree.town_b).update(totals={"n": 99})
    in_branch = tree.branch_a.cadres.get()
    link_youths(in_branch, 5, sectors=2)
    run = services.scores_compute(period="2026Q3", today=TODAY, cadre_ids=[in_branch.pk])
    assert run.refreshed_organisations == {tree.branch_a.pk}  # an incremental run
    for organisation in (tree.branch_a, tree.town_a, tree.banner, tree.city):
        row = SubtreeScoreStat.objects.get(run=run, organisation=organisation)
        assert (row.totals, row.sectors) == _live_scores(run, organisation), organisation
    assert SubtreeScoreStat.objects.get(run=run, organisation=tree.banner).totals["linked_sum"] >= 5
    assert SubtreeScoreStat.objects.get(run=run, organisation=tree.town_b).totals == {"n": 99}


def test_the_score_read_is_scoped(tree, logged):
    totals, _sectors = subtree_scores(user=tree.county, organisation=tree.town_a, run=logged)
    assert totals["n"] == 2
    assert subtree_scores(user=tree.outsider, organisation=tree.town_a, run=logged) is None


def _ranking(user, organisation, run):
    from assessment.selectors import organisation_ranking

    return organisation_ranking(user=user, organisation=organisation, run=run)


def test_ranking_from_the_subtree_rows_equals_the_live_grouping(tree, logged):
    # Cadres of the banner itself (本级) next to its two townships, with different quotas met.
    own = CadreFactory(organisation=tree.banner, name="旗本级干部")
    link_youths(own, 8, sectors=5)
    link_youths(tree.town_b.cadres.get(), 3, sectors=1)
    run = services.scores_compute(period="2026Q3", today=TODAY)
    stored = _ranking(tree.county, tree.banner, run)
    SubtreeScoreStat.objects.filter(run=run).delete()  # a run before the rollups: grouped live
    live = _ranking(tree.county, tree.banner, run)
    assert stored == live
    by_name = {r["name"]: r for r in stored}
    # Checked by hand: 甲镇 holds its cadre and its branch's, 乙镇 one, the banner one of its own.
    assert {name: r["n"] for name, r in by_name.items()} == {
        "甲镇团委": 2,
        "乙镇团委": 1,
        "测试旗团委（本级）": 1,
    }
    assert [r["rank"] for r in stored] == [1, 2, 3]
    assert [r["avg"] for r in stored] == sorted((r["avg"] for r in stored), reverse=True)
    scores = CadreScore.objects.filter(run=run)
    assert by_name["测试旗团委（本级）"]["avg"] == round(float(scores.get(cadre=own).score), 1)


def test_ranking_is_scoped(tree, logged):
    # Township B's staff asking for the banner see only their own township's row, as the live
    # grouping of the scores they may see gives.
    stored = _ranking(tree.outsider, tree.banner, logged)
    assert [r["name"] for r in stored] == ["乙镇团委"]
    SubtreeScoreStat.objects.filter(run=logged).delete()
    assert _ranking(tree.outsider, tree.banner, logged) == stored
