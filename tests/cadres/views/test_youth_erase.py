"""/cadres/youths/<pk>/erase/: staff with the dedicated permission, in scope, after a
confirmation step (a reason and the name typed again)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from cadres.models import ErasureLog, Youth
from cadres.privacy import ERASED_NAME
from tests.factories import CadreYouthFactory, YouthFactory

pytestmark = pytest.mark.django_db


def _grant(user):
    user.user_permissions.add(Permission.objects.get(codename="erase_youth"))
    return user


@pytest.fixture
def youth(tree):
    youth = YouthFactory(name="乌兰", phone="13900001111", organisation=tree.town_a)
    CadreYouthFactory(cadre=tree.cadre, youth=youth)
    return youth


def url(youth) -> str:
    return f"/cadres/youths/{youth.pk}/erase/"


def test_the_confirmation_page_says_what_will_happen(
    client, tree, youth, django_assert_max_num_queries
):
    client.force_login(_grant(tree.owner))
    with django_assert_max_num_queries(12):
        response = client.get(url(youth))
    assert response.status_code == 200
    page = response.content.decode()
    assert "无法恢复" in page and "乌兰" in page
    assert "删除该青年的个人信息" in client.get(f"/cadres/youths/{youth.pk}/").content.decode()


def test_a_wrong_name_erases_nothing_and_keeps_the_reason(client, tree, youth):
    client.force_login(_grant(tree.owner))
    response = client.post(url(youth), {"reason": "本人申请", "confirm_name": "巴特尔"})
    assert response.status_code == 200
    assert "不一致" in response.content.decode() and 'value="本人申请"' in response.content.decode()
    assert Youth.objects.get(pk=youth.pk).name == "乌兰"


def test_confirmed_erasure_redirects_with_the_tag(client, tree, youth):
    client.force_login(_grant(tree.owner))
    response = client.post(url(youth), {"reason": "本人申请", "confirm_name": "乌兰"}, follow=True)
    assert response.redirect_chain[-1][0] == "/cadres/youths/"
    log = ErasureLog.objects.get()
    assert log.tag in response.content.decode()
    assert Youth.objects.get(pk=youth.pk).name == ERASED_NAME
    assert client.get(url(youth)).status_code == 404


def test_staff_without_the_permission_get_404(client, tree, youth):
    client.force_login(tree.owner)
    assert client.get(url(youth)).status_code == 404
    assert client.post(url(youth), {"reason": "x", "confirm_name": "乌兰"}).status_code == 404
    assert "删除该青年的个人信息" not in client.get(f"/cadres/youths/{youth.pk}/").content.decode()
    assert Youth.objects.get(pk=youth.pk).name == "乌兰"


def test_outsider_gets_404_even_with_the_permission(client, tree, youth):
    client.force_login(_grant(tree.outsider))
    assert client.get(url(youth)).status_code == 404
    assert client.post(url(youth), {"reason": "x", "confirm_name": "乌兰"}).status_code == 404
    assert Youth.objects.get(pk=youth.pk).name == "乌兰"


def test_a_cadre_gets_404_even_with_the_permission(client, tree, youth):
    client.force_login(_grant(tree.cadre_user))
    assert client.get(url(youth)).status_code == 404
    assert Youth.objects.get(pk=youth.pk).erased_at is None


def test_anonymous_is_sent_to_login(client, youth):
    assert client.get(url(youth)).status_code == 302
