"""/contacts/ask/ and /contacts/ask/<cadre_id>/: the public needs form (no login)."""

from __future__ import annotations

import pytest

from contacts.models import Need
from tests.factories import CadreFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_rate_limit")]


def _data(**extra):
    data = {"category": "employment", "question": "有没有招聘会？", "reply_to": "微信 qn2024"}
    data.update(extra)
    return data


def test_youth_asks_a_cadre_from_the_card_qr_code(client, tree):
    page = client.get(f"/contacts/ask/{tree.cadre.pk}/")
    assert page.status_code == 200 and tree.cadre.name in page.content.decode()
    response = client.post(f"/contacts/ask/{tree.cadre.pk}/", _data(asker_name="小王"))
    assert response.status_code == 302
    assert response["Location"].startswith("/contacts/ask/thanks/?t=")  # the status link
    need = Need.objects.get()
    assert need.owner_cadre == tree.cadre and need.organisation == tree.town_a
    assert need.source == Need.Source.PUBLIC and need.asker_name == "小王"
    assert need.reply_to == "微信 qn2024"


def test_venue_form_goes_to_the_named_organisation(client, tree):
    response = client.post(f"/contacts/ask/?org={tree.town_b.pk}", _data(org=tree.town_b.pk))
    assert response.status_code == 302
    need = Need.objects.get()
    assert need.organisation == tree.town_b and need.owner_cadre is None


def test_venue_form_without_org_goes_to_the_banner(client, tree):
    client.post("/contacts/ask/", _data())
    assert Need.objects.get().organisation == tree.banner


def test_anonymous_submission_drops_name_and_reply(client, tree):
    client.post(
        f"/contacts/ask/{tree.cadre.pk}/",
        _data(anonymous="on", asker_name="不该保存", reply_to="13800000000"),
    )
    need = Need.objects.get()
    assert need.asker_name == "" and need.reply_to == ""


def test_reply_or_anonymous_is_required(client, tree):
    response = client.post(f"/contacts/ask/{tree.cadre.pk}/", _data(reply_to=""))
    assert response.status_code == 200
    assert "或勾选“匿名提交”" in response.content.decode()
    assert "有没有招聘会？" in response.content.decode()
    assert not Need.objects.exists()


def test_honeypot_pretends_success_and_saves_nothing(client, tree):
    response = client.post(f"/contacts/ask/{tree.cadre.pk}/", _data(website="http://spam"))
    assert response.status_code == 302
    assert not Need.objects.exists()


def test_flood_is_refused_with_429_and_the_text_kept(client, tree, settings):
    settings.LIANQING_ASK_RATE = 5
    url = f"/contacts/ask/{tree.cadre.pk}/"
    for i in range(5):
        assert client.post(url, _data(question=f"问题{i}")).status_code == 302
    response = client.post(url, _data(question="第六个问题"))
    assert response.status_code == 429
    body = response.content.decode()
    assert "提交太频繁了" in body and "第六个问题" in body
    assert Need.objects.count() == 5
    # another address is not affected
    other = client.post(url, _data(), REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 302


def test_oversized_and_script_input(client, tree):
    response = client.post(f"/contacts/ask/{tree.cadre.pk}/", _data(question="x" * 5000))
    assert response.status_code == 200 and "内容太长" in response.content.decode()
    client.post(f"/contacts/ask/{tree.cadre.pk}/", _data(question="<script>x()</script>"))
    need = Need.objects.get()
    client.force_login(tree.cadre_user)
    body = client.get(f"/contacts/needs/{need.pk}/").content.decode()
    assert "<script>x()</script>" not in body and "&lt;script&gt;" in body


def test_unknown_or_former_cadre_is_404(client, tree):
    import datetime

    former = CadreFactory(
        organisation=tree.town_a, active_until=datetime.date.today() - datetime.timedelta(days=30)
    )
    assert client.get("/contacts/ask/999999/").status_code == 404
    assert client.get(f"/contacts/ask/{former.pk}/").status_code == 404
    assert client.get("/contacts/ask/?org=abc").status_code == 200
