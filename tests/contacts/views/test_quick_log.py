"""/contacts/new/: the one-screen quick log of a cadre."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cadres.models import CadreYouth
from contacts.models import Contact, ContactYouth
from tests.factories import YouthFactory

pytestmark = pytest.mark.django_db
URL = "/contacts/new/"


def _post(client, **data):
    payload = {"channel": "wechat", "date": timezone.localdate().isoformat()}
    payload.update(data)
    return client.post(URL, payload)


def test_youth_and_channel_are_enough_and_saving_returns_home(client, tree, own_youths):
    client.force_login(tree.cadre_user)
    page = client.get(URL)
    assert page.status_code == 200
    assert own_youths[0].name in page.content.decode()
    response = _post(client, youth=own_youths[0].pk, channel="talk")
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert f"已记录与 {own_youths[0].name} 的联系" in home.content.decode()
    contact = Contact.objects.get()
    assert contact.cadre == tree.cadre and contact.created_by == tree.cadre_user
    assert ContactYouth.objects.get().youth == own_youths[0]


def test_last_channel_is_remembered(client, tree, own_youths):
    client.force_login(tree.cadre_user)
    _post(client, youth=own_youths[0].pk, channel="weibang")
    page = client.get(URL).content.decode()
    assert 'value="weibang" checked' in page


def test_only_own_youths_are_offered(client, tree, own_youths, b_youth):
    stranger = YouthFactory(organisation=tree.town_a)
    client.force_login(tree.cadre_user)
    page = client.get(URL).content.decode()
    assert stranger.name not in page and b_youth.name not in page


def test_forged_youth_is_refused_and_typed_text_kept(client, tree, own_youths, b_youth):
    client.force_login(tree.cadre_user)
    response = _post(client, youth=b_youth.pk, notes="这段话不能丢", topic="就业")
    assert response.status_code == 200
    body = response.content.decode()
    assert "不在您的联系名单中" in body and "这段话不能丢" in body
    assert not Contact.objects.exists()
    # Even asking to link does not reach another subtree.
    response = _post(client, youth=b_youth.pk, link="on")
    assert "不在团干部所在组织（含下级组织）的范围内" in response.content.decode()
    assert not CadreYouth.objects.filter(youth=b_youth).exists()


def test_unlinked_youth_of_own_organisation_can_be_linked_in_the_same_step(
    client, tree, own_youths
):
    newcomer = YouthFactory(organisation=tree.town_a, name="新来的青年")
    client.force_login(tree.cadre_user)
    found = client.get("/contacts/youth-search/", {"q": "新来"}).json()["results"]
    assert [r["id"] for r in found] == [newcomer.pk]
    assert "phone" not in found[0]
    response = _post(client, youth=newcomer.pk)
    assert response.status_code == 200  # not linked yet: asked to tick the link box
    assert "不在您的联系名单中" in response.content.decode()
    assert "新来的青年" in response.content.decode()  # the pick is kept
    response = _post(client, youth=newcomer.pk, link="on")
    assert response.status_code == 302
    assert CadreYouth.objects.filter(cadre=tree.cadre, youth=newcomer).exists()


def test_youth_search_does_not_leak_other_subtrees(client, tree, own_youths, b_youth):
    client.force_login(tree.cadre_user)
    found = client.get("/contacts/youth-search/", {"q": b_youth.name[:2]}).json()["results"]
    assert b_youth.pk not in [r["id"] for r in found]


def test_future_date_gets_a_chinese_error(client, tree, own_youths):
    client.force_login(tree.cadre_user)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = _post(client, youth=own_youths[0].pk, date=tomorrow.isoformat())
    assert response.status_code == 200
    assert "日期不能晚于今天" in response.content.decode()
    assert not Contact.objects.exists()


def test_ten_megabytes_of_notes_is_an_error_not_a_500(client, tree, own_youths):
    client.force_login(tree.cadre_user)
    response = _post(client, youth=own_youths[0].pk, notes="长" * (10 * 1024 * 1024 // 3))
    assert response.status_code == 200
    assert "内容太长" in response.content.decode()
    assert not Contact.objects.exists()


def test_script_tags_are_stored_and_shown_escaped(client, tree, own_youths):
    client.force_login(tree.cadre_user)
    _post(client, youth=own_youths[0].pk, topic="<script>alert(1)</script>")
    assert Contact.objects.get().topic == "<script>alert(1)</script>"
    home = client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in home
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home


def test_missing_youth_and_channel_are_reported(client, tree, own_youths):
    client.force_login(tree.cadre_user)
    response = client.post(URL, {"date": "", "topic": "保留我"})
    body = response.content.decode()
    assert "请选择一名青年" in body and "请选择联系方式" in body and "保留我" in body


def test_staff_without_cadre_record_gets_404(client, tree):
    client.force_login(tree.owner)
    assert client.get(URL).status_code == 404


def test_logging_takes_a_handful_of_queries(
    client, tree, own_youths, django_assert_max_num_queries
):
    client.force_login(tree.cadre_user)
    client.get(URL)
    with django_assert_max_num_queries(12):
        response = _post(client, youth=own_youths[0].pk)
    assert response.status_code == 302


def test_quick_log_page_queries_do_not_grow_with_youths(
    client, tree, own_youths, django_assert_max_num_queries
):
    from tests.factories import CadreYouthFactory

    for _ in range(30):
        CadreYouthFactory(cadre=tree.cadre)
    client.force_login(tree.cadre_user)
    with django_assert_max_num_queries(6):
        assert client.get(URL).status_code == 200


@pytest.mark.postgres
def test_youth_search_with_a_nul_byte_is_not_a_server_error(client, tree):
    # PostgreSQL refuses NUL in a string literal: the search must drop it, not crash.
    client.force_login(tree.cadre_user)
    response = client.get(reverse("contacts:youth_search"), {"q": "青\x00年"})
    assert response.status_code == 200
    assert response.json() == {"results": []}


def test_at_the_link_ceiling_the_quick_log_page_stays_light(client, tree, own_youths):
    """An import once linked 20,000 youths to one cadre and this page weighed 6.4 MB. Links
    now stop at the ceiling (3 × quota, cadres.services.cadre_link_refusals); at the ceiling
    the page a cadre opens in the field stays a phone-sized download."""
    from cadres.selectors import link_ceiling
    from tests.factories import CadreYouthFactory

    ceiling = link_ceiling(tree.cadre)
    linked = CadreYouth.objects.filter(cadre=tree.cadre).count()
    CadreYouthFactory.create_batch(ceiling - linked, cadre=tree.cadre)
    client.force_login(tree.cadre_user)
    response = client.get(URL)
    assert response.status_code == 200
    assert len(response.content) < 400_000, len(response.content)
