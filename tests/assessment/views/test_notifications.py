"""The notifications centre (/notifications/), its settings page and the bell in the header."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from assessment import reminders
from assessment.models import Notification, NotificationPreference
from tests.assessment.reminders_world import build_world

CENTRE = "/notifications/"


@pytest.fixture
def world(tree):
    world = build_world(tree)
    reminders.reminders_refresh(today=world.today)
    return world


def _bell(html: str) -> str | None:
    match = re.search(r'class="lq-bell-count[^"]*"[^>]*>([^<]+)<', html)
    return match.group(1) if match else None


def test_the_stable_address():
    assert reverse("notifications:centre") == CENTRE


def test_anonymous_is_sent_to_login(client):
    response = client.get(CENTRE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_cadre_sees_own_reminders_with_links(client, tree, world):
    client.force_login(tree.cadre_user)
    response = client.get(CENTRE)
    html = response.content.decode()
    assert response.status_code == 200
    assert "想了解创业担保贷款怎么申请" in html
    assert reverse("contacts:need_detail", args=[world.need_overdue.pk]) in html
    assert reverse("activities:detail", args=[world.activity.pk]) in html
    assert "沉默青年0" in html
    # Not another user's: township A's staff needs, supervision, township B.
    assert "村里青年想办篮球赛" not in html and "乙镇的就业咨询" not in html
    assert "督导回访" not in html
    assert _bell(html) == str(Notification.objects.filter(user=tree.cadre_user).count())


def test_a_township_user_never_sees_another_townships_needs(client, tree, world):
    client.force_login(tree.outsider)
    html = client.get(CENTRE).content.decode()
    assert "乙镇的就业咨询" in html
    for question in ("想了解创业担保贷款怎么申请", "希望组织一次技能培训", "村里青年想办篮球赛"):
        assert question not in html
    client.force_login(tree.owner)
    html = client.get(CENTRE).content.decode()
    assert "村里青年想办篮球赛" in html and "乙镇的就业咨询" not in html


def test_marking_read_clears_the_bell(client, tree, world):
    client.force_login(tree.cadre_user)
    mine = Notification.objects.filter(user=tree.cadre_user)
    first = mine.first()
    response = client.post(reverse("notifications:read", args=[first.pk]))
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.read_at is not None
    assert _bell(client.get(CENTRE).content.decode()) == str(mine.count() - 1)
    client.post(reverse("notifications:read_all"))
    assert not mine.filter(read_at__isnull=True).exists()
    assert _bell(client.get("/").content.decode()) is None


def test_outsider_gets_404_on_someone_elses_reminder(client, tree, world):
    theirs = Notification.objects.filter(user=tree.cadre_user).first()
    client.force_login(tree.outsider)
    assert client.post(reverse("notifications:read", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:read", args=[10**30])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    client.post(reverse("notifications:read_all"))  # marks only the outsider's own
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_is_post_only(client, tree, world):
    client.force_login(tree.cadre_user)
    mine = Notification.objects.filter(user=tree.cadre_user).first()
    assert client.get(reverse("notifications:read", args=[mine.pk])).status_code == 405


def test_settings_switch_a_kind_off_and_ask_for_the_digest(client, tree, world):
    client.force_login(tree.cadre_user)
    url = reverse("notifications:settings")
    assert client.get(url).status_code == 200
    data = {"need_due": "on", "follow_up": "on", "dormant": "on", "activity": "on"}
    response = client.post(url, {**data, "weekly_digest": "on"})
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=tree.cadre_user)
    assert pref.weekly_digest and not pref.channels and pref.dormant
    html = client.get(CENTRE).content.decode()
    assert "尚未建立的联系渠道" not in html
    assert "沉默青年0" in html


def test_settings_page_says_when_there_is_no_address(client, tree, world):
    client.force_login(tree.cadre_user)
    html = client.get(reverse("notifications:settings")).content.decode()
    assert "还没有邮箱" in html


def test_bad_page_number_is_not_a_500(client, tree, world):
    client.force_login(tree.cadre_user)
    for page in ("abc", "-1", "99999999999999999999", "\x00"):
        assert client.get(CENTRE, {"page": page}).status_code == 200


def test_centre_queries_do_not_grow_with_reminders(
    client, tree, world, django_assert_max_num_queries
):
    client.force_login(tree.cadre_user)
    with django_assert_max_num_queries(8):
        client.get(CENTRE)
    Notification.objects.bulk_create(
        Notification(
            user=tree.cadre_user,
            kind=Notification.Kind.NEED_DUE,
            key=f"need:{i}:x",
            object_id=world.need_overdue.pk,
            due_on=world.today,
            data={"q": f"问题{i}"},
        )
        for i in range(60)
    )
    with django_assert_max_num_queries(8):
        response = client.get(CENTRE, {"page": 2})
    assert response.status_code == 200


def test_the_bell_is_one_query_on_any_page(client, tree, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(tree.cadre_user)
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("notifications:settings"))
    bell = [q for q in ctx.captured_queries if 'FROM "assessment_notification" ' in q["sql"]]
    assert len(bell) == 1 and "COUNT" in bell[0]["sql"]


def test_settings_offer_only_the_kinds_that_concern_the_user(client, tree, world):
    url = reverse("notifications:settings")
    client.force_login(tree.owner)  # staff without a cadre record
    html = client.get(url).content.decode()
    assert "督导回访日期" in html and "需求临近期限或逾期" in html
    assert "久未联系的青年" not in html and "尚未建立的联系渠道" not in html
    client.force_login(tree.cadre_user)
    html = client.get(url).content.decode()
    assert "督导回访日期" not in html and "久未联系的青年" in html
    # Saving the form a staff member sees leaves the kinds they were not shown alone.
    client.force_login(tree.owner)
    assert client.post(url, {"need_due": "on"}).status_code == 302
    pref = NotificationPreference.objects.get(user=tree.owner)
    assert pref.need_due and not pref.follow_up and pref.dormant
