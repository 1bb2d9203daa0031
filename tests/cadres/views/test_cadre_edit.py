"""/cadres/new/ and /cadres/<id>/edit/ (issue 15 item 2): staff create a cadre and change their
type or organisation, with history; the organisation is picked by name in the user's subtree;
a move that would leave held youths outside the cadre's subtree is refused; outsiders get 404."""

from __future__ import annotations

from unittest import mock

import pytest

from cadres.models import Cadre, CadreProgress
from tests.factories import CadreYouthFactory, QuotaRuleFactory

pytestmark = pytest.mark.django_db


def _data(**changes) -> dict:
    data = {
        "name": "其其格",
        "gender": "F",
        "organisation": "甲镇第一团支部",
        "cadre_type": "part_time",
        "position": "书记",
        "phone": "139 0000 1111",
        "wechat_id": "",
        "card_note": "",
        "active_from": "2026-01-05",
    }
    data.update(changes)
    return data


def test_staff_create_a_cadre_in_their_subtree(client, tree):
    client.force_login(tree.owner)
    assert client.get("/cadres/new/").status_code == 200
    response = client.post("/cadres/new/", _data())
    cadre = Cadre.objects.get(name="其其格")
    assert response.status_code == 302 and response["Location"] == f"/cadres/{cadre.pk}/"
    assert (cadre.organisation, cadre.phone) == (tree.branch_a, "13900001111")
    assert cadre.history.first().history_user == tree.owner
    assert CadreProgress.objects.filter(cadre=cadre).exists()


def test_an_organisation_outside_scope_is_never_accepted(client, tree):
    client.force_login(tree.owner)
    for data in (_data(organisation="乙镇团委"), _data(organisation__pk=tree.town_b.pk)):
        response = client.post("/cadres/new/", data)
        assert response.status_code == 400
        assert 'value="其其格"' in response.text  # what was typed is kept
    assert not Cadre.objects.filter(name="其其格").exists()


def test_a_new_type_recounts_against_its_quota(client, tree):
    QuotaRuleFactory(cadre_type="part_time", quota=1, min_sectors=1)
    CadreYouthFactory(cadre=tree.cadre)
    client.force_login(tree.owner)
    url = f"/cadres/{tree.cadre.pk}/edit/"
    assert client.get(url).status_code == 200
    with mock.patch("assessment.freshness.numbers_changed") as changed:
        response = client.post(url, _data(name=tree.cadre.name, organisation="甲镇团委"))
    assert response.status_code == 302 and changed.called
    tree.cadre.refresh_from_db()
    assert tree.cadre.cadre_type == "part_time"
    assert Cadre.history.filter(id=tree.cadre.pk, history_user=tree.owner).exists()


def test_a_move_that_strands_held_youths_is_refused(client, tree):
    CadreYouthFactory(cadre=tree.cadre, youth__organisation=tree.town_a)
    client.force_login(tree.county)
    url = f"/cadres/{tree.cadre.pk}/edit/"
    response = client.post(url, _data(name=tree.cadre.name, organisation="甲镇第一团支部"))
    assert response.status_code == 400
    assert "有 1 名不在甲镇第一团支部及其下级组织" in response.text
    tree.cadre.refresh_from_db()
    assert tree.cadre.organisation == tree.town_a


@pytest.mark.parametrize("who", ["outsider", "cadre_user"])
def test_outsider_and_cadre_get_404(client, tree, who):
    client.force_login(getattr(tree, who))
    url = f"/cadres/{tree.cadre.pk}/edit/"
    assert client.get(url).status_code == 404
    assert client.post(url, _data(name="改名")).status_code == 404
    tree.cadre.refresh_from_db()
    assert tree.cadre.name == "甲镇干部"


def test_cadre_users_cannot_create(client, tree):
    client.force_login(tree.cadre_user)
    assert client.get("/cadres/new/").status_code == 404


def test_pages_queries_are_bounded(client, tree, django_assert_max_num_queries):
    client.force_login(tree.owner)
    with django_assert_max_num_queries(10):
        assert client.get(f"/cadres/{tree.cadre.pk}/edit/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get("/cadres/new/").status_code == 200
