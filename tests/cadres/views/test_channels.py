"""/cadres/<id>/channels/: the cadre (and staff for their subtree) record, edit and end the
cadre's liaison channels (issue 14 item 2)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cadres.models import LiaisonChannel
from cadres.selectors import cadre_progress
from tests.factories import CadreFactory, LiaisonChannelFactory

pytestmark = pytest.mark.django_db


def _url(cadre, suffix=""):
    return f"/cadres/{cadre.pk}/channels/{suffix}"


def _new(**extra):
    data = {
        "kind": "grassroots_point",
        "name": "天山镇8+4联系点",
        "established_on": timezone.localdate().isoformat(),
    }
    data.update(extra)
    return data


def test_cadre_records_a_channel_and_progress_counts_it(client, tree):
    client.force_login(tree.cadre_user)
    page = client.get(_url(tree.cadre) + "?kind=grassroots_point")
    assert page.status_code == 200
    assert 'value="grassroots_point" selected' in page.content.decode()
    response = client.post(_url(tree.cadre), _new())
    assert response.status_code == 302
    channel = LiaisonChannel.objects.get()
    assert channel.cadre == tree.cadre and channel.history.first().history_user == tree.cadre_user
    assert cadre_progress(cadre_id=tree.cadre.pk).cadre.n_channels == 1


def test_youth_home_keeps_whether_identity_is_shown_other_kinds_do_not(client, tree):
    client.force_login(tree.cadre_user)
    client.post(_url(tree.cadre), _new(kind="youth_home", name="青年之家", shows_identity="on"))
    client.post(_url(tree.cadre), _new(kind="enterprise", name="物流园", shows_identity="on"))
    shown = dict(LiaisonChannel.objects.values_list("kind", "shows_identity"))
    assert shown == {"youth_home": True, "enterprise": False}
    assert "已亮明身份" in client.get(_url(tree.cadre)).content.decode()


def test_edit_and_end_a_channel(client, tree):
    channel = LiaisonChannelFactory(cadre=tree.cadre, kind="youth_home", name="旧名字")
    client.force_login(tree.cadre_user)
    assert client.get(f"/cadres/channels/{channel.pk}/").status_code == 200
    response = client.post(
        f"/cadres/channels/{channel.pk}/",
        _new(kind="youth_home", name="新名字", shows_identity="on"),
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "新名字" and channel.shows_identity
    response = client.post(f"/cadres/channels/{channel.pk}/end/")
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.ended_on == timezone.localdate()
    assert cadre_progress(cadre_id=tree.cadre.pk).cadre.n_channels == 0
    page = client.get(_url(tree.cadre)).content.decode()
    assert "已结束的渠道" in page and "新名字" in page
    # Ended: no more edits; the same channel may be established again.
    assert client.get(f"/cadres/channels/{channel.pk}/").status_code == 404
    client.post(_url(tree.cadre), _new(kind="youth_home", name="新名字"))
    assert LiaisonChannel.objects.filter(name="新名字").count() == 2


def test_staff_manage_channels_of_their_subtree(client, tree):
    client.force_login(tree.owner)
    response = client.post(_url(tree.cadre), _new())
    assert response.status_code == 302
    assert LiaisonChannel.objects.get().history.first().history_user == tree.owner


def test_outsider_and_other_cadres_get_404(client, tree):
    channel = LiaisonChannelFactory(cadre=tree.cadre)
    other_cadre = CadreFactory(organisation=tree.town_a)
    for user in (tree.outsider,):
        client.force_login(user)
        assert client.get(_url(tree.cadre)).status_code == 404
        assert client.post(_url(tree.cadre), _new()).status_code == 404
        assert client.post(f"/cadres/channels/{channel.pk}/end/").status_code == 404
    client.force_login(tree.cadre_user)
    assert client.get(_url(other_cadre)).status_code == 404
    # Another cadre's channel: 404 as well.
    foreign = LiaisonChannelFactory(cadre=other_cadre)
    assert client.post(f"/cadres/channels/{foreign.pk}/end/").status_code == 404
    assert LiaisonChannel.objects.filter(ended_on__isnull=False).count() == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "nonsense"},
        {"kind": ""},
        {"name": ""},
        {"name": "名" * 300},
        {"established_on": "2026-13-45"},
        {"established_on": (timezone.localdate() + datetime.timedelta(days=3)).isoformat()},
    ],
)
def test_bad_input_is_a_message_and_keeps_what_was_typed(client, tree, bad):
    client.force_login(tree.cadre_user)
    response = client.post(_url(tree.cadre), _new(notes="留着的备注", **bad))
    assert response.status_code == 200
    assert "留着的备注" in response.content.decode()
    assert not LiaisonChannel.objects.exists()


def test_the_same_channel_twice_is_refused(client, tree):
    client.force_login(tree.cadre_user)
    client.post(_url(tree.cadre), _new())
    response = client.post(_url(tree.cadre), _new())
    assert "已有同类型、同名称的联系渠道" in response.content.decode()
    assert LiaisonChannel.objects.count() == 1


def test_home_next_step_and_checklist_link_to_the_channels_page(client, tree):
    client.force_login(tree.cadre_user)
    home = client.get("/").content.decode()
    assert f"/cadres/{tree.cadre.pk}/channels/?kind=" in home
    detail = client.get(f"/cadres/{tree.cadre.pk}/").content.decode()
    assert f"/cadres/{tree.cadre.pk}/channels/?kind=grassroots_point#new" in detail


def test_channels_page_query_count(client, tree, django_assert_max_num_queries):
    for i in range(8):
        LiaisonChannelFactory(cadre=tree.cadre, kind=LiaisonChannel.Kind.values[i], name=f"渠道{i}")
    client.force_login(tree.cadre_user)
    with django_assert_max_num_queries(14):
        assert client.get(_url(tree.cadre)).status_code == 200
