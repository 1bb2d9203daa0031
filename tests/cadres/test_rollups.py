"""Per-organisation rollups: each organisation's own youths, summed per subtree on staff pages."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cadres.models import OrganisationRollup
from cadres.rollups import organisation_rollup_refresh, subtree_rollup
from tests.factories import OrganisationFactory, YouthFactory

pytestmark = pytest.mark.django_db


def test_refresh_counts_each_organisations_youths_and_subtrees_sum_them(tree):
    YouthFactory.create_batch(3, organisation=tree.town_a)
    YouthFactory.create_batch(2, organisation=tree.branch_a)
    YouthFactory(organisation=tree.town_b)
    organisation_rollup_refresh()
    own = dict(OrganisationRollup.objects.values_list("organisation_id", "youths"))
    assert own[tree.town_a.pk] == 3 and own[tree.branch_a.pk] == 2 and own[tree.banner.pk] == 0
    assert subtree_rollup(user=tree.county).youths == 6
    assert subtree_rollup(user=tree.owner).youths == 5  # township A with its branch
    # Township B's staff see their own subtree only, whatever they ask for.
    assert subtree_rollup(user=tree.outsider).youths == 1
    assert subtree_rollup(user=tree.outsider, organisation=tree.town_a).youths == 0
    assert subtree_rollup(user=tree.cadre_user).youths == 0  # not a supervisor's figure


def test_refresh_writes_only_changed_counts_and_covers_new_organisations(tree):
    YouthFactory(organisation=tree.town_a)
    organisation_rollup_refresh()
    assert organisation_rollup_refresh() == 0  # nothing changed: no row rewritten
    new_town = OrganisationFactory(name="丁镇团委", kind="township", parent=tree.banner)
    YouthFactory.create_batch(2, organisation=new_town)
    YouthFactory(organisation=tree.town_a)
    assert organisation_rollup_refresh() == 2
    assert OrganisationRollup.objects.get(organisation=new_town).youths == 2
    assert OrganisationRollup.objects.get(organisation=tree.town_a).youths == 2


def test_staff_home_shows_the_rollup_and_when_it_was_computed(client, tree):
    YouthFactory.create_batch(4, organisation=tree.town_a)
    organisation_rollup_refresh()
    YouthFactory(organisation=tree.town_a)  # not yet in the rollup: shown by the next run
    client.force_login(tree.county)
    html = client.get("/").content.decode()
    assert '<div class="lq-stat">4</div><div class="lq-stat-label">联系青年</div>' in html
    assert "统计于" in html


def test_the_scoring_chain_refreshes_the_rollups(tree):
    from assessment import services
    from assessment.periods import period_containing

    YouthFactory.create_batch(2, organisation=tree.town_b)
    today = timezone.localdate()
    services.scores_compute(period=period_containing(today), today=today)
    assert subtree_rollup(user=tree.outsider).youths == 2


def test_refresh_of_some_organisations_recounts_and_stamps_only_those(tree):
    YouthFactory(organisation=tree.town_a)
    first = timezone.now() - datetime.timedelta(hours=1)
    organisation_rollup_refresh(now=first)
    YouthFactory.create_batch(2, organisation=tree.town_a)
    YouthFactory(organisation=tree.town_b)  # changed too, but not named: left for a full run
    new_town = OrganisationFactory(name="丁镇团委", kind="township", parent=tree.banner)
    YouthFactory(organisation=new_town)
    later = timezone.now()
    assert (
        organisation_rollup_refresh(now=later, organisation_ids=[tree.town_a.pk, new_town.pk]) == 2
    )
    rows = {r.organisation_id: r for r in OrganisationRollup.objects.all()}
    assert (rows[tree.town_a.pk].youths, rows[tree.town_a.pk].computed_at) == (3, later)
    assert (rows[new_town.pk].youths, rows[new_town.pk].computed_at) == (1, later)
    assert (rows[tree.town_b.pk].youths, rows[tree.town_b.pk].computed_at) == (0, first)
    assert organisation_rollup_refresh(now=later) == 1  # the full run catches township B


def _live_cadre_figures(user) -> tuple[int, int]:
    from django.db.models import Count, Q

    from cadres.selectors import cadre_progress_list

    row = (
        cadre_progress_list(user=user)
        .order_by()
        .aggregate(cadres=Count("id"), met=Count("id", filter=Q(quota_met=True)))
    )
    return row["cadres"], row["met"]


def _stored_cadre_figures(user) -> tuple[int, int]:
    rollup = subtree_rollup(user=user)
    return rollup.cadres, rollup.cadres_quota_met


def test_cadre_figures_equal_the_live_counts_after_each_kind_of_change(tree):
    from cadres import rules, services
    from cadres.models import CadreType
    from tests.factories import CadreFactory, CadreYouthFactory, SectorFactory

    users = [tree.county, tree.owner, tree.outsider]
    rules.quota_rule_set(
        cadre_type=CadreType.FULL_TIME, quota=2, min_sectors=1, min_channels=0, by=tree.county
    )
    CadreFactory(organisation=tree.branch_a)
    outside = CadreFactory(organisation=tree.town_b)
    organisation_rollup_refresh()
    assert _stored_cadre_figures(tree.county) == (3, 0)
    for user in users:
        assert _stored_cadre_figures(user) == _live_cadre_figures(user)

    sector = SectorFactory(code="x")
    CadreYouthFactory.create_batch(2, cadre=tree.cadre, youth__sector=sector)  # links: met
    CadreYouthFactory.create_batch(2, cadre=outside, youth__sector=sector)
    organisation_rollup_refresh()
    assert _stored_cadre_figures(tree.owner) == (2, 1)
    assert _stored_cadre_figures(tree.outsider) == (1, 1)  # township B's own, nothing of A
    for user in users:
        assert _stored_cadre_figures(user) == _live_cadre_figures(user)

    rules.quota_rule_set(  # a stricter rule: nobody meets it
        cadre_type=CadreType.FULL_TIME, quota=3, min_sectors=1, min_channels=0, by=tree.county
    )
    organisation_rollup_refresh()
    assert _stored_cadre_figures(tree.county) == (3, 0)
    for user in users:
        assert _stored_cadre_figures(user) == _live_cadre_figures(user)

    services.cadre_progress_refresh()  # nothing moved: the nightly recount changes nothing
    assert organisation_rollup_refresh() == 0


def test_staff_home_shows_the_cadre_figures_of_the_rollup(client, tree):
    from tests.factories import CadreFactory

    CadreFactory(organisation=tree.town_a)
    organisation_rollup_refresh()
    CadreFactory(organisation=tree.town_a)  # not yet in the rollup: shown by the next run
    client.force_login(tree.owner)
    html = client.get("/").content.decode()
    assert '<div class="lq-stat">2</div><div class="lq-stat-label">团干部</div>' in html
    assert '<div class="lq-stat text-danger">2</div><div class="lq-stat-label">未达标团干部' in html


def test_a_cadre_deleted_in_admin_leaves_the_stored_figures(
    client, tree, django_capture_on_commit_callbacks
):
    """Admin bypasses the services: deleting a cadre (one without contacts; contacts protect a
    cadre) still moves the stored figures that counted them, as the services' changes do."""
    from assessment import services
    from assessment.periods import period_containing
    from cadres.models import Cadre, User
    from tests.factories import CadreFactory, UserFactory

    mistaken, twice = CadreFactory.create_batch(2, organisation=tree.town_b)
    today = timezone.localdate()
    services.scores_compute(period=period_containing(today), today=today)
    assert _stored_cadre_figures(tree.outsider) == _live_cadre_figures(tree.outsider)
    before = _stored_cadre_figures(tree.outsider)[0]
    admin_user = UserFactory(organisation=tree.city, role=User.Role.ADMIN, is_superuser=True)
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/cadres/cadre/{mistaken.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Cadre.objects.filter(pk=mistaken.pk).exists()
    assert _stored_cadre_figures(tree.outsider) == _live_cadre_figures(tree.outsider)
    assert _stored_cadre_figures(tree.outsider)[0] == before - 1
    with django_capture_on_commit_callbacks(execute=True):  # the list's "delete selected"
        response = client.post(
            "/admin/cadres/cadre/",
            {"action": "delete_selected", "_selected_action": [twice.pk], "post": "yes"},
        )
    assert response.status_code == 302 and not Cadre.objects.filter(pk=twice.pk).exists()
    assert _stored_cadre_figures(tree.outsider) == _live_cadre_figures(tree.outsider)
    assert _stored_cadre_figures(tree.outsider)[0] == before - 2
