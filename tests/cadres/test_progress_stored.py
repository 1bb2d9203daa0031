"""The stored verdict of the quota rule (CadreProgress.progress / quota_met, which the cadre list
sorts and filters on) equals the live rule on live counts after every kind of change: links made
and ended, a quota rule set or deleted (service and admin), a youth's field changed, a cadre's
type changed (service and admin); and every new cadre has its row, which the list needs."""

from __future__ import annotations

from unittest import mock

import pytest

from cadres import quota, registry, rules, services
from cadres.models import Cadre, CadreProgress, CadreType, CadreYouth, QuotaRule, User
from cadres.selectors import cadre_progress_list
from tests.factories import (
    CadreFactory,
    SectorFactory,
    UserFactory,
    YouthFactory,
)

pytestmark = pytest.mark.django_db


def _live(cadre: Cadre) -> tuple[float, bool]:
    """The rule computed from scratch: this cadre's links, their fields, its type's rule."""
    links = CadreYouth.objects.filter(cadre=cadre)
    youths = links.count()
    fields = links.values("youth__sector").distinct().order_by().count()
    row = QuotaRule.objects.filter(cadre_type=cadre.cadre_type).first()
    rule = quota.Rule(row.quota, row.min_sectors) if row else quota.DEFAULT_RULE
    return quota.progress(youths, rule.quota), quota.quota_met(youths, fields, rule)


def assert_stored_equals_live() -> None:
    cadres = list(Cadre.objects.all())
    assert cadres
    stored = {p.cadre_id: (p.progress, p.quota_met) for p in CadreProgress.objects.all()}
    for cadre in cadres:
        live = _live(Cadre.objects.get(pk=cadre.pk))
        got = stored[cadre.pk]  # every cadre has its row (the list joins it)
        assert got[0] == pytest.approx(live[0]) and got[1] == live[1], cadre


@pytest.fixture
def fields():
    return [SectorFactory(code=f"f{i}") for i in range(3)]


def _link(cadre, sector, n):
    for _ in range(n):
        youth = YouthFactory(sector=sector, organisation=cadre.organisation)
        services.cadre_youth_link(cadre=cadre, youth=youth)


def test_links_made_and_ended_keep_the_stored_verdict_live(tree, fields):
    rules.quota_rule_set(
        cadre_type=CadreType.FULL_TIME, quota=4, min_sectors=2, min_channels=0, by=tree.county
    )
    _link(tree.cadre, fields[0], 3)
    assert_stored_equals_live()
    _link(tree.cadre, fields[1], 1)
    assert CadreProgress.objects.get(cadre=tree.cadre).quota_met is True
    assert_stored_equals_live()
    leaving = CadreYouth.objects.filter(cadre=tree.cadre).first().youth
    registry.youth_move_away(youth=leaving, by=tree.owner)  # ends the link
    assert CadreProgress.objects.get(cadre=tree.cadre).quota_met is False
    assert_stored_equals_live()


def test_a_rule_change_rerates_every_cadre_at_once(tree, fields):
    part_timer = CadreFactory(organisation=tree.town_a, cadre_type=CadreType.PART_TIME)
    _link(tree.cadre, fields[0], 2)
    _link(tree.cadre, fields[1], 1)
    _link(part_timer, fields[2], 2)
    assert_stored_equals_live()
    rules.quota_rule_set(
        cadre_type=CadreType.FULL_TIME, quota=3, min_sectors=2, min_channels=0, by=tree.county
    )
    assert CadreProgress.objects.get(cadre=tree.cadre).progress == 1.0
    assert_stored_equals_live()
    rules.quota_rule_set(
        cadre_type=CadreType.PART_TIME, quota=2, min_sectors=1, min_channels=0, by=tree.county
    )
    assert CadreProgress.objects.get(cadre=part_timer).quota_met is True
    assert_stored_equals_live()


def test_a_youths_field_change_rerates_their_cadres(tree, fields):
    rules.quota_rule_set(
        cadre_type=CadreType.FULL_TIME, quota=2, min_sectors=2, min_channels=0, by=tree.county
    )
    _link(tree.cadre, fields[0], 2)
    assert CadreProgress.objects.get(cadre=tree.cadre).quota_met is False
    youth = CadreYouth.objects.filter(cadre=tree.cadre).first().youth
    registry.youth_update(
        youth=youth, name=youth.name, birth_year=youth.birth_year, sector=fields[1], by=tree.owner
    )
    assert CadreProgress.objects.get(cadre=tree.cadre).quota_met is True
    assert_stored_equals_live()


def test_a_cadres_type_change_takes_the_other_rule(tree, fields):
    rules.quota_rule_set(
        cadre_type=CadreType.PART_TIME, quota=2, min_sectors=1, min_channels=0, by=tree.county
    )
    _link(tree.cadre, fields[0], 2)
    assert CadreProgress.objects.get(cadre=tree.cadre).progress == pytest.approx(0.02)
    cadre = tree.cadre
    registry.cadre_update(
        cadre=cadre,
        name=cadre.name,
        gender=cadre.gender,
        organisation=cadre.organisation,
        cadre_type=CadreType.PART_TIME,
        position=cadre.position,
        by=tree.owner,
    )
    assert CadreProgress.objects.get(cadre=tree.cadre).quota_met is True
    assert_stored_equals_live()


def test_admin_rule_and_cadre_edits_rerate(client, tree, fields):
    _link(tree.cadre, fields[0], 2)
    _link(tree.cadre, fields[1], 1)
    admin_user = UserFactory(organisation=tree.city, role=User.Role.ADMIN, is_superuser=True)
    client.force_login(admin_user)
    # The stored scores are rescheduled as after `rules.quota_rule_set` (one rule, one effect).
    with mock.patch("assessment.freshness.numbers_changed") as changed:
        response = client.post(
            "/admin/cadres/quotarule/add/",
            {"cadre_type": "full_time", "quota": "3", "min_sectors": "2", "min_channels": "0"},
        )
    assert response.status_code == 302 and changed.called
    assert CadreProgress.objects.get(cadre=tree.cadre).quota_met is True
    assert_stored_equals_live()
    rule = QuotaRule.objects.get()
    with mock.patch("assessment.freshness.numbers_changed") as changed:
        response = client.post(f"/admin/cadres/quotarule/{rule.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not QuotaRule.objects.exists() and changed.called
    assert CadreProgress.objects.get(cadre=tree.cadre).quota_met is False  # 100 / 5 again
    assert_stored_equals_live()

    rules.quota_rule_set(
        cadre_type=CadreType.PART_TIME, quota=3, min_sectors=1, min_channels=0, by=tree.county
    )
    cadre = tree.cadre
    response = client.post(
        f"/admin/cadres/cadre/{cadre.pk}/change/",
        {
            "name": cadre.name,
            "gender": cadre.gender,
            "organisation": cadre.organisation_id,
            "cadre_type": CadreType.PART_TIME,
            "position": cadre.position,
            "phone": cadre.phone,
            "active_from": cadre.active_from.isoformat(),
            "user": cadre.user_id,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CadreProgress.objects.get(cadre=tree.cadre).quota_met is True
    assert_stored_equals_live()


def test_a_bulk_write_is_repaired_by_the_full_refresh(tree, fields):
    youths = [YouthFactory(sector=f, organisation=tree.town_a) for f in fields]
    CadreYouth.objects.bulk_create([CadreYouth(cadre=tree.cadre, youth=y) for y in youths])
    QuotaRule.objects.create(cadre_type=CadreType.FULL_TIME, quota=3, min_sectors=3)
    services.cadre_progress_refresh()
    assert CadreProgress.objects.get(cadre=tree.cadre).quota_met is True
    assert_stored_equals_live()


def test_the_list_filters_and_sorts_on_the_stored_verdict_within_scope(tree, fields):
    rules.quota_rule_set(
        cadre_type=CadreType.FULL_TIME, quota=2, min_sectors=1, min_channels=0, by=tree.county
    )
    done = CadreFactory(organisation=tree.town_a)
    _link(done, fields[0], 2)
    _link(tree.cadre, fields[0], 1)
    idle = CadreFactory(organisation=tree.town_a)
    outside = CadreFactory(organisation=tree.town_b)
    _link(outside, fields[0], 2)
    rows = list(cadre_progress_list(user=tree.owner).order_by("progress", "pk"))
    assert [c.pk for c in rows] == [idle.pk, tree.cadre.pk, done.pk]  # no outsider
    assert [c.quota_met for c in rows] == [False, False, True]
    met = cadre_progress_list(user=tree.owner).filter(quota_met=True)
    assert [c.pk for c in met] == [done.pk]
    assert not cadre_progress_list(user=tree.outsider).filter(pk__in=[done.pk, idle.pk]).exists()


def test_every_new_cadre_has_its_row_and_is_in_the_list(client, tree):
    import datetime

    branch = services.organisation_create(name="甲镇第二团支部", kind="branch", parent=tree.town_a)
    elected = registry.branch_secretary_change(
        branch=branch, on=datetime.date.today(), name="新书记", gender="F", by=tree.owner
    )
    made = registry.cadre_create(
        name="新干部",
        gender="M",
        organisation=tree.town_a,
        cadre_type=CadreType.FULL_TIME,
        by=tree.owner,
    )
    admin_user = UserFactory(organisation=tree.city, role=User.Role.ADMIN, is_superuser=True)
    client.force_login(admin_user)
    response = client.post(
        "/admin/cadres/cadre/add/",
        {
            "name": "后台干部",
            "gender": "F",
            "organisation": tree.town_a.pk,
            "cadre_type": CadreType.FULL_TIME,
            "position": "委员",
            "active_from": datetime.date.today().isoformat(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    added = Cadre.objects.get(name="后台干部")
    listed = {c.pk for c in cadre_progress_list(user=tree.owner)}
    assert {elected.pk, made.pk, added.pk} <= listed
    assert_stored_equals_live()
