"""The cadre handover (cadres/handover.py, issue 15 item 2): a leaving cadre's youths and open
needs move to a successor in one step, the office ends, history keeps every change; refused
whole, writing nothing, when a youth cannot move; scoped (404 for an outsider)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cadres.handover import cadre_handover
from cadres.models import Cadre, CadreYouth
from contacts.models import Need
from tests.factories import CadreFactory, CadreYouthFactory, NeedFactory, QuotaRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def leaving(tree):
    QuotaRuleFactory(cadre_type="full_time", quota=10, min_sectors=1)
    old = CadreFactory(name="离任干部", organisation=tree.town_a)
    links = CadreYouthFactory.create_batch(4, cadre=old)
    open_need = NeedFactory(organisation=tree.town_a, owner_cadre=old, status="new")
    answered = NeedFactory(organisation=tree.town_a, owner_cadre=old, status="answered")
    return {
        "old": old,
        "youths": [link.youth for link in links],
        "open": open_need,
        "done": answered,
    }


def test_youths_and_open_needs_move_and_the_office_ends(tree, leaving):
    old = leaving["old"]
    CadreYouth.objects.create(cadre=tree.cadre, youth=leaving["youths"][0])  # already shared
    done = cadre_handover(cadre=old, successor=tree.cadre, by=tree.owner)
    assert (done.youths_moved, done.youths_already_linked, done.needs_moved) == (3, 1, 1)
    assert set(CadreYouth.objects.filter(cadre=tree.cadre).values_list("youth", flat=True)) == {
        y.pk for y in leaving["youths"]
    }
    assert not CadreYouth.objects.filter(cadre=old).exists()
    assert Need.objects.get(pk=leaving["open"].pk).owner_cadre_id == tree.cadre.pk
    assert Need.objects.get(pk=leaving["done"].pk).owner_cadre_id == old.pk  # history stays
    old.refresh_from_db()
    assert old.active_until == timezone.localdate() - datetime.timedelta(days=1)
    assert not old.is_active


def test_every_change_is_in_history_with_who(tree, leaving):
    old = leaving["old"]
    cadre_handover(cadre=old, successor=tree.cadre, by=tree.owner)
    ended = CadreYouth.history.filter(cadre_id=old.pk, history_type="-")
    assert ended.count() == 4 and set(ended.values_list("history_user", flat=True)) == {
        tree.owner.pk
    }
    assert Need.history.filter(
        id=leaving["open"].pk, owner_cadre_id=tree.cadre.pk, history_user=tree.owner
    ).exists()
    assert Cadre.history.filter(id=old.pk, history_user=tree.owner).exists()


def test_a_successor_who_cannot_hold_the_youths_refuses_everything(tree, leaving):
    """A successor in township B: A's youths are outside B's subtree (the linking rule)."""
    old = leaving["old"]
    other = CadreFactory(name="乙镇干部", organisation=tree.town_b)
    with pytest.raises(ValidationError) as error:
        cadre_handover(cadre=old, successor=other, by=tree.county)
    assert "有 4 名青年无法交给乙镇干部" in str(error.value)
    assert CadreYouth.objects.filter(cadre=old).count() == 4
    assert not CadreYouth.objects.filter(cadre=other).exists()
    assert Need.objects.get(pk=leaving["open"].pk).owner_cadre_id == old.pk
    old.refresh_from_db()
    assert old.is_active


def test_a_successor_past_the_ceiling_refuses_everything(tree, leaving, settings):
    settings.LIANQING_LINK_CEILING_FACTOR = 1  # quota 10: room for 2 more, 4 to move
    for _ in range(8):
        CadreYouthFactory(cadre=tree.cadre)
    with pytest.raises(ValidationError, match="已达上限"):
        cadre_handover(cadre=leaving["old"], successor=tree.cadre, by=tree.owner)
    assert CadreYouth.objects.filter(cadre=leaving["old"]).count() == 4
    assert CadreYouth.objects.filter(cadre=tree.cadre).count() == 8


@pytest.mark.parametrize(
    "bad",
    ["self", "outside", "ended", "future"],
)
def test_bad_handovers_are_refused_in_chinese(tree, leaving, bad):
    old = leaving["old"]
    successor, on, by = tree.cadre, None, tree.owner
    if bad == "self":
        successor = old
    elif bad == "outside":
        successor = CadreFactory(organisation=tree.town_b)  # not in the owner's scope
    elif bad == "ended":
        Cadre.objects.filter(pk=tree.cadre.pk).update(
            active_until=timezone.localdate() - datetime.timedelta(days=3)
        )
        successor = Cadre.objects.get(pk=tree.cadre.pk)
    else:
        on = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        cadre_handover(cadre=old, successor=successor, on=on, by=by)
    text = str(error.value)
    assert any(phrase in text for phrase in ("本人", "管辖范围内仍在任", "不能晚于今天")), text
    assert CadreYouth.objects.filter(cadre=old).count() == 4


def test_the_page_moves_everything_and_says_so(client, tree, leaving):
    client.force_login(tree.owner)
    url = reverse("cadres:handover", args=[leaving["old"].pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "联系的青年 4 名" in html and "未办结的需求 1 件" in html
    # The successor is picked by name; the suggestions tell namesakes apart (config/pickers.py).
    labels = [r["label"] for r in client.get("/pickers/cadre/", {"q": "甲镇"}).json()["results"]]
    assert any(label.endswith(f" · {tree.town_a.name}") for label in labels)
    response = client.post(
        url, {"successor__pk": tree.cadre.pk, "on": timezone.localdate().isoformat()}, follow=True
    )
    assert "交接完成：4 名青年、1 件未办结需求已交给甲镇干部" in response.content.decode()
    assert CadreYouth.objects.filter(cadre=tree.cadre).count() == 4


def test_a_refused_handover_keeps_the_form_and_explains(client, tree, leaving):
    other = CadreFactory(name="乙镇干部", organisation=tree.town_b)
    client.force_login(tree.county)
    url = reverse("cadres:handover", args=[leaving["old"].pk])
    response = client.post(url, {"successor__pk": other.pk, "on": timezone.localdate().isoformat()})
    assert response.status_code == 400
    html = response.content.decode()
    assert "有 4 名青年无法交给乙镇干部" in html
    assert f'name="successor__pk" value="{other.pk}"' in html  # the choice is kept


def test_outsider_gets_404_and_cannot_pick_a_successor_outside_scope(client, tree, leaving):
    client.force_login(tree.outsider)
    url = reverse("cadres:handover", args=[leaving["old"].pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"successor__pk": tree.cadre.pk}).status_code == 404
    client.force_login(tree.owner)
    outside = CadreFactory(organisation=tree.town_b)
    response = client.get(url)
    assert f'value="{outside.pk}"' not in response.content.decode()  # not even offered
    response = client.post(url, {"successor__pk": outside.pk, "on": timezone.localdate()})
    assert response.status_code == 400
    assert CadreYouth.objects.filter(cadre=leaving["old"]).count() == 4


def test_a_cadre_cannot_hand_over(client, tree, leaving):
    client.force_login(tree.cadre_user)
    assert client.get(reverse("cadres:handover", args=[tree.cadre.pk])).status_code == 404


def test_the_handover_costs_the_same_queries_for_4_or_40_youths(
    tree, leaving, django_assert_max_num_queries, settings
):
    settings.LIANQING_LINK_CEILING_FACTOR = 10
    import django.db

    def run(old):
        with django_assert_max_num_queries(60) as ctx:
            cadre_handover(cadre=old, successor=tree.cadre, by=tree.owner)
        return len(ctx.captured_queries)

    small = run(leaving["old"])
    big = CadreFactory(organisation=tree.town_a)
    for _ in range(40):
        CadreYouthFactory(cadre=big)
    for _ in range(10):
        NeedFactory(organisation=tree.town_a, owner_cadre=big, status="in_progress")
    django.db.reset_queries()
    assert run(big) <= small + 4
