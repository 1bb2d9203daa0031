"""The check-in list's actions, one POST view each: check in, undo, hours, remove, confirm."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from activities.models import Registration
from cadres.models import Youth
from contacts.models import ContactYouth
from tests.factories import ActivityFactory, RegistrationFactory, SectorFactory

pytestmark = pytest.mark.django_db

ACTIONS = ["checkin", "undo", "hours", "remove", "confirm"]


@pytest.fixture
def activity(tree):
    activity = ActivityFactory(organisation=tree.branch_a, title="甲镇健步走")
    activity.responsible_cadres.add(tree.cadre)
    return activity


def _url(action: str, registration: Registration) -> str:
    return reverse(
        f"activities:registration_{action}", args=[registration.activity_id, registration.pk]
    )


def _row(registration: Registration) -> str:
    checkin_list = reverse("activities:checkin_list", args=[registration.activity_id])
    return f"{checkin_list}#r{registration.pk}"


def test_checkin_then_undo_adds_and_removes_the_contact(client, tree, activity):
    reg = RegistrationFactory(activity=activity)
    client.force_login(tree.cadre_user)
    response = client.post(_url("checkin", reg))
    assert response.status_code == 302 and response["Location"] == _row(reg)
    reg.refresh_from_db()
    assert reg.checked_in_at is not None
    assert ContactYouth.objects.filter(cadre=tree.cadre, youth=reg.youth).exists()
    response = client.post(_url("undo", reg), follow=True)
    assert "已撤销签到，相应的联系记录已同步移除。" in response.text
    reg.refresh_from_db()
    assert reg.checked_in_at is None
    assert not ContactYouth.objects.filter(cadre=tree.cadre, youth=reg.youth).exists()


def test_hours_are_recorded_and_a_service_error_is_a_message(client, tree, activity):
    reg = RegistrationFactory(activity=activity)
    client.force_login(tree.owner)
    refused = client.post(_url("hours", reg), {"hours": "1.5"}, follow=True)
    assert "尚未签到，不能签退或登记时长。" in refused.text
    client.post(_url("checkin", reg))
    response = client.post(_url("hours", reg), {"hours": "1.5"}, follow=True)
    assert "已登记时长。" in response.text
    reg.refresh_from_db()
    assert reg.hours == Decimal("1.5")


def test_remove_deletes_the_registration(client, tree, activity):
    reg = RegistrationFactory(activity=activity)
    client.force_login(tree.owner)
    row = _row(reg)
    response = client.post(_url("remove", reg))
    assert response.status_code == 302 and response["Location"] == row
    assert "已取消报名。" in client.get(row).text
    assert not Registration.objects.filter(pk=reg.pk).exists()


def test_staff_confirm_a_walk_in_into_the_registry(client, tree, activity):
    reg = RegistrationFactory(activity=activity, youth=None, name="王小青", phone="13700000009")
    sector = SectorFactory()
    client.force_login(tree.owner)
    invalid = client.post(_url("confirm", reg), {"birth_year": "abc"}, follow=True)
    assert [m.level_tag for m in invalid.context["messages"]] == ["error"]
    reg.refresh_from_db()
    assert reg.youth_id is None
    response = client.post(
        _url("confirm", reg), {"birth_year": "2001", "sector": sector.pk}, follow=True
    )
    assert "已确认并加入青年名册。" in response.text
    reg.refresh_from_db()
    youth = Youth.objects.get(pk=reg.youth_id)
    assert (youth.name, youth.organisation_id) == ("王小青", tree.branch_a.pk)


def test_responsible_cadre_may_not_confirm(client, tree, activity):
    reg = RegistrationFactory(activity=activity, youth=None, name="王小青", phone="13700000009")
    client.force_login(tree.cadre_user)
    response = client.post(_url("confirm", reg), {"birth_year": "2001"})
    assert response.status_code == 404
    reg.refresh_from_db()
    assert reg.youth_id is None


@pytest.mark.parametrize("action", ACTIONS)
def test_outsider_gets_404_and_nothing_changes(client, tree, activity, action):
    reg = RegistrationFactory(activity=activity)
    client.force_login(tree.outsider)
    assert client.post(_url(action, reg), {"hours": "1"}).status_code == 404
    reg.refresh_from_db()
    assert reg.checked_in_at is None


@pytest.mark.parametrize("action", ACTIONS)
def test_registration_of_another_activity_gets_404(client, tree, activity, action):
    other = RegistrationFactory(activity=ActivityFactory(organisation=tree.branch_a))
    client.force_login(tree.owner)
    url = reverse(f"activities:registration_{action}", args=[activity.pk, other.pk])
    assert client.post(url).status_code == 404


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_are_post_only(client, tree, activity, action):
    reg = RegistrationFactory(activity=activity)
    client.force_login(tree.owner)
    assert client.get(_url(action, reg)).status_code == 405


def test_the_sign_up_list_tells_namesakes_apart(client, tree, activity):
    """Issue 15 item 4: three "乌兰 · 返乡青年" used to look the same; the birth year and unit
    tell them apart."""
    from tests.factories import YouthFactory

    sector = SectorFactory(name="返乡青年", code="returnee")
    for year, unit in ((1996, "嘎查甲"), (1999, "嘎查乙"), (2001, "")):
        youth = YouthFactory(
            name="乌兰", sector=sector, birth_year=year, unit=unit, organisation=tree.branch_a
        )
        RegistrationFactory(activity=activity, youth=youth)
    client.force_login(tree.owner)
    page = client.get(reverse("activities:checkin_list", args=[activity.pk])).text
    for line in ("1996 · 返乡青年 · 嘎查甲", "1999 · 返乡青年 · 嘎查乙", "2001 · 返乡青年 · —"):
        assert line in page
