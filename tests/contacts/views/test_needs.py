"""The needs desk: lists, detail, answer, assign, groups — scoped."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from contacts import need_services
from contacts.models import Need
from tests.factories import CadreFactory, NeedFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def needs(tree):
    past = timezone.localdate() - datetime.timedelta(days=3)
    mine = NeedFactory(
        organisation=tree.town_a, owner_cadre=tree.cadre, question="甲镇的逾期需求", due_date=past
    )
    venue = NeedFactory(organisation=tree.town_a, question="甲镇青年之家的需求")
    theirs = NeedFactory(organisation=tree.town_b, question="乙镇的需求")
    return mine, venue, theirs


def test_staff_see_their_subtree_and_overdue_is_highlighted(client, tree, needs):
    client.force_login(tree.owner)
    body = client.get("/contacts/needs/").content.decode()
    assert "甲镇的逾期需求" in body and "甲镇青年之家的需求" in body
    assert "乙镇的需求" not in body
    assert "table-danger" in body and "已逾期" in body
    body = client.get("/contacts/needs/", {"overdue": "on"}).content.decode()
    assert "甲镇的逾期需求" in body and "甲镇青年之家的需求" not in body


def test_cadre_sees_only_needs_they_own(client, tree, needs):
    client.force_login(tree.cadre_user)
    body = client.get("/contacts/needs/").content.decode()
    assert "甲镇的逾期需求" in body
    assert "甲镇青年之家的需求" not in body and "乙镇的需求" not in body


def test_outsider_gets_404_and_export_without_other_subtree(client, tree, needs):
    mine, venue, theirs = needs
    client.force_login(tree.outsider)
    assert client.get(f"/contacts/needs/{mine.pk}/").status_code == 404
    text = client.get("/contacts/needs/", {"_export": "csv"}).content.decode("utf-8-sig")
    assert "乙镇的需求" in text and "甲镇" not in text


def test_cadre_answers_own_need(client, tree, needs):
    mine, venue, _ = needs
    client.force_login(tree.cadre_user)
    response = client.post(f"/contacts/needs/{mine.pk}/answer/", {"answer": "已联系就业局。"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.status == Need.Status.ANSWERED and mine.answer == "已联系就业局。"
    assert client.get(f"/contacts/needs/{venue.pk}/").status_code == 404


def test_empty_answer_keeps_form_with_error(client, tree, needs):
    mine, _, _ = needs
    client.force_login(tree.cadre_user)
    response = client.post(f"/contacts/needs/{mine.pk}/answer/", {"answer": " "})
    assert response.status_code == 200 and "请填写此项" in response.content.decode()


def test_staff_assign_to_a_cadre_in_scope_only(client, tree, needs):
    _, venue, _ = needs
    b_cadre = CadreFactory(organisation=tree.town_b)
    client.force_login(tree.owner)
    response = client.post(f"/contacts/needs/{venue.pk}/assign/", {"owner_cadre__pk": b_cadre.pk})
    assert response.status_code == 200  # not a valid choice for this need
    venue.refresh_from_db()
    assert venue.owner_cadre is None
    response = client.post(
        f"/contacts/needs/{venue.pk}/assign/", {"owner_cadre__pk": tree.cadre.pk}
    )
    assert response.status_code == 302
    venue.refresh_from_db()
    assert venue.owner_cadre == tree.cadre and venue.status == Need.Status.IN_PROGRESS


def test_venue_staff_register_a_need(client, tree):
    client.force_login(tree.owner)
    response = client.post(
        "/contacts/needs/new/", {"category": "legal", "question": "<b>咨询</b>劳动合同"}
    )
    need = Need.objects.get()
    assert response.status_code == 302 and need.organisation == tree.town_a
    assert need.source == Need.Source.VENUE and need.owner_user == tree.owner
    body = client.get(f"/contacts/needs/{need.pk}/").content.decode()
    assert "&lt;b&gt;咨询" in body


def test_groups_link_to_the_activity_form_with_the_need_ids(client, tree):
    ids = [NeedFactory(organisation=tree.town_a, category="skills").pk for _ in range(3)]
    NeedFactory(organisation=tree.town_b, category="skills")
    client.force_login(tree.owner)
    body = client.get("/contacts/needs/groups/").content.decode()
    expected = "/activities/new/from-needs/?needs=" + ",".join(str(i) for i in sorted(ids)[::-1])
    assert expected in body


def test_need_list_queries_are_constant(client, tree, django_assert_max_num_queries):
    for _ in range(20):
        NeedFactory(organisation=tree.town_a, owner_cadre=tree.cadre)
    need_services.need_submit_public(category="other", question="问", organisation=tree.town_a)
    client.force_login(tree.owner)
    with django_assert_max_num_queries(8):
        assert client.get("/contacts/needs/").status_code == 200
    # +3 over the page: the minors permission check (2) and the ExportLog INSERT (1).
    with django_assert_max_num_queries(11):
        assert client.get("/contacts/needs/", {"_export": "xlsx"}).status_code == 200


def test_detail_page_shows_each_action_posting_to_its_own_url(client, tree, needs):
    _, venue, _ = needs
    client.force_login(tree.owner)
    body = client.get(f"/contacts/needs/{venue.pk}/").content.decode()
    for action in ("answer", "assign", "close"):
        assert f'action="/contacts/needs/{venue.pk}/{action}/"' in body
    # The page itself is read-only: the actions have their own URLs.
    assert client.post(f"/contacts/needs/{venue.pk}/", {"answer": "答"}).status_code == 405
    venue.refresh_from_db()
    assert venue.answer == ""


def test_close_closes_and_says_so(client, tree, needs):
    mine, _, _ = needs
    client.force_login(tree.cadre_user)
    response = client.post(f"/contacts/needs/{mine.pk}/close/", follow=True)
    assert "需求已关闭。" in response.content.decode()
    mine.refresh_from_db()
    assert mine.status == Need.Status.CLOSED


def test_assign_shows_the_service_error_on_the_form(client, tree, needs):
    _, venue, _ = needs
    client.force_login(tree.owner)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client.post(
        f"/contacts/needs/{venue.pk}/assign/",
        {"owner_cadre__pk": tree.cadre.pk, "due_date": yesterday.isoformat()},
    )
    assert response.status_code == 200 and "办理期限不能早于今天。" in response.content.decode()
    venue.refresh_from_db()
    assert venue.owner_cadre is None


def test_cadre_may_not_assign(client, tree, needs):
    mine, _, _ = needs
    client.force_login(tree.cadre_user)
    other = CadreFactory(organisation=tree.town_a)
    response = client.post(f"/contacts/needs/{mine.pk}/assign/", {"owner_cadre__pk": other.pk})
    assert response.status_code == 404
    mine.refresh_from_db()
    assert mine.owner_cadre == tree.cadre


@pytest.mark.parametrize("action", ["answer", "assign", "close"])
def test_outsider_gets_404_on_every_action(client, tree, needs, action):
    mine, _, _ = needs
    client.force_login(tree.outsider)
    response = client.post(f"/contacts/needs/{mine.pk}/{action}/", {"answer": "答"})
    assert response.status_code == 404
    mine.refresh_from_db()
    assert mine.status != Need.Status.CLOSED and mine.answer == ""
