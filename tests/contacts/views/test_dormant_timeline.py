"""Dormant youths (cadre list, staff counts), youth timeline, and the home panels."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from activities.models import Activity
from contacts.services import activity_contacts_sync
from tests.factories import CadreFactory, CadreYouthFactory, NeedFactory, log_contact

pytestmark = pytest.mark.django_db


def _ago(n):
    return timezone.localdate() - datetime.timedelta(days=n)


def test_cadre_sees_dormant_youths(client, tree, own_youths):
    a, b, *_ = own_youths
    log_contact(tree.cadre, [a], date=_ago(1))
    log_contact(tree.cadre, [b], date=_ago(120))
    client.force_login(tree.cadre_user)
    body = client.get("/contacts/dormant/").content.decode()
    assert b.name in body.split('id="dormant-list"')[1].split("</ul>")[0]
    assert a.name not in body.split('id="dormant-list"')[1].split("</ul>")[0]


def test_staff_see_counts_per_cadre_of_their_subtree_only(client, tree, own_youths):
    b_cadre = CadreFactory(organisation=tree.town_b, name="乙镇干部")
    client.force_login(tree.owner)
    body = client.get("/contacts/dormant/").content.decode()
    assert tree.cadre.name in body and "乙镇干部" not in body
    client.force_login(tree.outsider)
    body = client.get("/contacts/dormant/").content.decode()
    assert tree.cadre.name not in body and b_cadre.name in body


def test_staff_dormant_page_queries_are_constant(
    client, tree, own_youths, django_assert_max_num_queries
):
    for _ in range(10):
        CadreYouthFactory(cadre=CadreFactory(organisation=tree.town_a))
    client.force_login(tree.county)
    with django_assert_max_num_queries(10):
        assert client.get("/contacts/dormant/").status_code == 200


def test_timeline_shows_contacts_activities_and_needs_newest_first(client, tree, own_youths):
    youth = own_youths[0]
    log_contact(tree.cadre, [youth], channel="wechat", date=_ago(30), topic="第一次")
    log_contact(tree.cadre, [youth], channel="talk", date=_ago(2), topic="第二次")
    start = timezone.now() - datetime.timedelta(days=10)
    activity = Activity.objects.create(
        title="植树活动",
        category="volunteer",
        organisation=tree.town_a,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
    )
    activity_contacts_sync(activity=activity, pairs={(tree.cadre.pk, youth.pk)})
    NeedFactory(organisation=tree.town_a, youth=youth, question="想学电焊")
    client.force_login(tree.cadre_user)
    body = client.get(f"/contacts/youths/{youth.pk}/").content.decode()
    positions = [body.index(s) for s in ("想学电焊", "第二次", "植树活动", "第一次")]
    assert positions == sorted(positions)


def test_timeline_is_404_outside_scope(client, tree, own_youths, b_youth):
    stranger = CadreYouthFactory(cadre=CadreFactory(organisation=tree.town_a)).youth
    client.force_login(tree.cadre_user)
    assert client.get(f"/contacts/youths/{own_youths[0].pk}/").status_code == 200
    assert client.get(f"/contacts/youths/{stranger.pk}/").status_code == 404
    client.force_login(tree.outsider)
    assert client.get(f"/contacts/youths/{own_youths[0].pk}/").status_code == 404
    client.force_login(tree.owner)
    assert client.get(f"/contacts/youths/{stranger.pk}/").status_code == 200


def test_cadre_home_panel_has_button_recent_dormant_and_needs(client, tree, own_youths):
    log_contact(tree.cadre, own_youths[:1], topic="最近一次")
    NeedFactory(
        organisation=tree.town_a, owner_cadre=tree.cadre, question="逾期的问题", due_date=_ago(1)
    )
    client.force_login(tree.cadre_user)
    body = client.get("/").content.decode()
    assert 'href="/contacts/new/"' in body and "记录联系" in body
    assert "最近一次" in body and "逾期的问题" in body
    assert 'data-testid="dormant-count">4<' in body


def test_cadre_home_queries_are_constant(client, tree, own_youths, django_assert_num_queries):
    client.force_login(tree.cadre_user)
    log_contact(tree.cadre, own_youths[:1])
    client.get("/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        client.get("/")
    for _ in range(10):
        log_contact(tree.cadre, own_youths[:3])
        NeedFactory(organisation=tree.town_a, owner_cadre=tree.cadre)
    with django_assert_num_queries(len(first)):
        client.get("/")


def test_staff_home_needs_panel_is_scoped(client, tree):
    NeedFactory(organisation=tree.town_b, due_date=_ago(2))
    client.force_login(tree.owner)
    body = client.get("/").content.decode()
    assert "有问必答 有求必应" in body
    assert '<div class="lq-stat">0</div><div class="lq-stat-label">已逾期' in body


def test_timeline_shows_a_cadre_only_their_own_contacts(client, tree, own_youths):
    """Two cadres hold the same youth: each one's notes stay their own work (the timeline listed
    every cadre's contacts, notes and help to whoever could see the youth)."""
    youth = own_youths[0]
    colleague = CadreFactory(organisation=tree.town_a, name="同事干部")
    CadreYouthFactory(cadre=colleague, youth=youth)
    log_contact(colleague, [youth], channel="talk", date=_ago(1), notes="同事的私密笔记")
    log_contact(tree.cadre, [youth], channel="wechat", date=_ago(2), notes="我的笔记")
    client.force_login(tree.cadre_user)
    body = client.get(f"/contacts/youths/{youth.pk}/").content.decode()
    assert "我的笔记" in body
    assert "同事的私密笔记" not in body
    client.force_login(tree.owner)  # staff of the subtree see both cadres' contacts
    body = client.get(f"/contacts/youths/{youth.pk}/").content.decode()
    assert "我的笔记" in body and "同事的私密笔记" in body
