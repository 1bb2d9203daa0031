"""Quota progress: one set-based selector for every cadre, with the committee's rules."""

from __future__ import annotations

import pytest

from cadres.models import CadreType, LiaisonChannel
from cadres.selectors import cadre_progress, cadre_progress_list, progress_shortfalls
from tests.factories import (
    CadreFactory,
    CadreYouthFactory,
    LiaisonChannelFactory,
    QuotaRuleFactory,
    SectorFactory,
    YouthFactory,
)

pytestmark = pytest.mark.django_db


def _link(cadre, sector, n=1):
    for _ in range(n):
        CadreYouthFactory(cadre=cadre, youth__sector=sector)


def test_counts_distinct_youths_sectors_and_channel_kinds(tree):
    s1, s2 = SectorFactory(code="a"), SectorFactory(code="b")
    _link(tree.cadre, s1, 3)
    _link(tree.cadre, s2, 1)
    shared = YouthFactory(sector=s2, organisation=tree.town_a)
    other = CadreFactory(organisation=tree.town_a)
    CadreYouthFactory(cadre=tree.cadre, youth=shared)
    CadreYouthFactory(cadre=other, youth=shared)  # shared: counts once for each cadre
    LiaisonChannelFactory(cadre=tree.cadre, kind=LiaisonChannel.Kind.YOUTH_HOME, name="甲")
    LiaisonChannelFactory(cadre=tree.cadre, kind=LiaisonChannel.Kind.YOUTH_HOME, name="乙")
    LiaisonChannelFactory(cadre=tree.cadre, kind=LiaisonChannel.Kind.ENTERPRISE, name="丙")

    rows = {c.pk: c for c in cadre_progress_list(user=tree.owner)}
    mine = rows[tree.cadre.pk]
    assert (mine.n_youths, mine.n_sectors, mine.n_channels) == (5, 2, 2)
    assert (mine.quota, mine.min_sectors, mine.min_channels) == (100, 5, 9)  # no rule: defaults
    assert mine.quota_met is False
    assert progress_shortfalls(mine) == {"youths": 95, "sectors": 3, "channels": 7}
    assert (rows[other.pk].n_youths, rows[other.pk].n_channels) == (1, 0)


def test_quota_rule_per_cadre_type_decides_quota_met(tree):
    QuotaRuleFactory(cadre_type=CadreType.PART_TIME, quota=3, min_sectors=2, min_channels=1)
    part_timer = CadreFactory(organisation=tree.town_a, cadre_type=CadreType.PART_TIME)
    _link(part_timer, SectorFactory(code="a"), 2)
    _link(part_timer, SectorFactory(code="b"), 1)
    row = cadre_progress_list(user=tree.owner).get(pk=part_timer.pk)
    assert (row.n_youths, row.quota, row.quota_met, row.progress) == (3, 3, True, 1.0)
    assert cadre_progress_list(user=tree.owner).get(pk=tree.cadre.pk).quota == 100


def test_sectors_short_keeps_quota_unmet(tree):
    QuotaRuleFactory(cadre_type=CadreType.FULL_TIME, quota=2, min_sectors=2)
    _link(tree.cadre, SectorFactory(code="a"), 2)
    row = cadre_progress_list(user=tree.owner).get(pk=tree.cadre.pk)
    assert row.n_youths >= row.quota and row.quota_met is False


def test_progress_list_is_scoped(tree):
    outsider_cadre = CadreFactory(organisation=tree.town_b)
    assert outsider_cadre.pk not in {c.pk for c in cadre_progress_list(user=tree.owner)}
    assert [c.pk for c in cadre_progress_list(user=tree.cadre_user)] == [tree.cadre.pk]


def test_query_count_is_constant_in_the_number_of_cadres(tree, django_assert_num_queries):
    sector = SectorFactory(code="a")
    for _ in range(15):
        cadre = CadreFactory(organisation=tree.town_a)
        _link(cadre, sector, 2)
        LiaisonChannelFactory(cadre=cadre)
    with django_assert_num_queries(2):  # the quota rules, then the list
        rows = list(cadre_progress_list(user=tree.owner).order_by("-progress"))
    assert len(rows) == 16 and rows[0].n_youths == 2


def test_single_cadre_progress_names_missing_fields_and_channels(tree):
    s1 = SectorFactory(code="a", name="企业青年")
    SectorFactory(code="b", name="返乡青年")
    _link(tree.cadre, s1, 1)
    LiaisonChannelFactory(cadre=tree.cadre, kind=LiaisonChannel.Kind.YOUTH_HOME)
    progress = cadre_progress(cadre_id=tree.cadre.pk)
    assert [s.name for s in progress.missing_sectors] == ["返乡青年"]
    kinds = [k for k, _ in progress.missing_channel_kinds]
    assert "youth_home" not in kinds and len(kinds) == 8
    assert progress.percent == 1


def test_link_service_keeps_stored_counts_exact(tree):
    from cadres import services

    sector = SectorFactory(code="a")
    youth = YouthFactory(sector=sector, organisation=tree.town_a)
    services.cadre_youth_link(cadre=tree.cadre, youth=youth, by=tree.owner)
    services.cadre_youth_link(cadre=tree.cadre, youth=youth, by=tree.owner)  # idempotent
    row = cadre_progress_list(user=tree.owner).get(pk=tree.cadre.pk)
    assert (row.n_youths, row.n_sectors) == (1, 1)


def test_refresh_repairs_counts_after_a_bulk_write_and_a_stale_save_cannot_undo_it(tree):
    from cadres import services
    from cadres.models import Cadre, CadreYouth

    stale = Cadre.objects.get(pk=tree.cadre.pk)
    sector = SectorFactory(code="a")
    youths = [YouthFactory(sector=sector, organisation=tree.town_a) for _ in range(3)]
    CadreYouth.objects.bulk_create([CadreYouth(cadre=tree.cadre, youth=y) for y in youths])
    assert cadre_progress_list(user=tree.owner).get(pk=tree.cadre.pk).n_youths == 0
    assert services.cadre_progress_refresh() >= 1
    stale.position = "书记"
    stale.save()  # an old copy of the cadre: the counts live elsewhere and survive
    assert cadre_progress_list(user=tree.owner).get(pk=tree.cadre.pk).n_youths == 3


def test_refresh_command_recounts_everyone(tree):
    import io

    from django.core.management import call_command

    from cadres.models import CadreYouth

    CadreYouth.objects.create(cadre=tree.cadre, youth=YouthFactory(organisation=tree.town_a))
    out = io.StringIO()
    call_command("refresh_quota_progress", stdout=out)
    assert "已重新统计" in out.getvalue()
    assert cadre_progress_list(user=tree.owner).get(pk=tree.cadre.pk).n_youths == 1


def test_admin_deleting_a_link_recounts(client, tree):
    from cadres.models import CadreYouth, User
    from tests.factories import UserFactory

    link = CadreYouthFactory(cadre=tree.cadre)
    admin_user = UserFactory(organisation=tree.banner, role=User.Role.ADMIN, is_superuser=True)
    client.force_login(admin_user)
    response = client.post(
        f"/admin/cadres/cadreyouth/{link.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert response.status_code == 200 and not CadreYouth.objects.exists()
    assert cadre_progress_list(user=tree.owner).get(pk=tree.cadre.pk).n_youths == 0
