"""The asker's private status link (contacts/need_status.py, issue 15 item 6): after asking,
the thanks page gives a signed link and its QR code; the link shows status and answer, takes one
feedback, and a forged, damaged or other need's link shows nothing."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from contacts.models import Need
from contacts.need_status import need_from_token, need_status_token
from tests.factories import NeedFactory

pytestmark = pytest.mark.django_db

ASK = {"question": "想了解创业担保贷款怎么申请", "category": "finance", "anonymous": "on"}


def _ask(client, tree, settings):
    settings.LIANQING_ASK_RATE = 10_000
    response = client.post(reverse("contacts:ask_cadre", args=[tree.cadre.pk]), ASK, follow=True)
    assert response.status_code == 200
    return response, Need.objects.latest("pk")


def test_the_thanks_page_gives_the_asker_a_private_link_and_qr(client, tree, settings):
    response, need = _ask(client, tree, settings)
    html = response.content.decode()
    link = re.search(r'href="(http://testserver/contacts/ask/status/[^"]+/)"', html)
    assert link and "<svg" in html
    assert need_from_token(link.group(1).rstrip("/").rsplit("/", 1)[1]) == need
    page = client.get(link.group(1))
    assert page.status_code == 200
    assert "想了解创业担保贷款怎么申请" in page.content.decode()
    assert "新提交" in page.content.decode() and page["Referrer-Policy"] == "same-origin"


def test_the_answer_shows_and_one_feedback_is_taken(client, tree, settings):
    _response, need = _ask(client, tree, settings)
    url = reverse("contacts:need_status", args=[need_status_token(need)])
    feedback = reverse("contacts:need_status_feedback", args=[need_status_token(need)])
    client.post(feedback, {"helped": "yes"}, follow=True)  # before any answer: refused
    need.refresh_from_db()
    assert need.youth_feedback_at is None
    Need.objects.filter(pk=need.pk).update(status="answered", answer="请到旗人社局一楼窗口办理。")
    html = client.get(url).content.decode()
    assert "请到旗人社局一楼窗口办理。" in html and "这个答复解决您的问题了吗" in html
    html = client.post(feedback, {"helped": "no"}, follow=True).content.decode()
    assert "谢谢您的反馈" in html and "问题没有解决" in html
    html = client.post(feedback, {"helped": "yes"}, follow=True).content.decode()
    assert "已经收到您的反馈" in html
    need.refresh_from_db()
    assert need.youth_helped is False  # the first answer stands


def test_the_owner_sees_the_feedback_on_the_need(client, tree, settings):
    _response, need = _ask(client, tree, settings)
    Need.objects.filter(pk=need.pk).update(status="answered", answer="已答复")
    client.post(
        reverse("contacts:need_status_feedback", args=[need_status_token(need)]), {"helped": "no"}
    )
    client.force_login(tree.cadre_user)
    html = client.get(reverse("contacts:need_detail", args=[need.pk])).content.decode()
    assert "青年反馈：问题没有解决" in html


@pytest.mark.parametrize(
    "token",
    ["1", "abc", "x" * 300, "%00<script>", "MQ:1abc:forged"],
)
def test_forged_tokens_show_nothing(client, tree, token):
    NeedFactory(organisation=tree.town_a)
    assert client.get(f"/contacts/ask/status/{token}/").status_code == 404
    assert (
        client.post(f"/contacts/ask/status/{token}/feedback/", {"helped": "yes"}).status_code == 404
    )


def test_a_token_for_one_need_does_not_open_another(tree):
    first = NeedFactory(organisation=tree.town_a)
    second = NeedFactory(organisation=tree.town_a)
    token = need_status_token(first)
    assert need_from_token(token) == first != second
    # Another salt's signature of the same id (e.g. another signed link of the site) is refused.
    from django.core import signing

    assert need_from_token(signing.dumps(second.pk, salt="other", compress=True)) is None
    assert (
        need_from_token(signing.dumps(str(second.pk), salt="lianqing.contacts.need-status")) is None
    )


def test_feedback_is_rate_limited_per_address(client, tree, settings):
    from contacts import need_status_views

    need = NeedFactory(organisation=tree.town_a)
    url = reverse("contacts:need_status_feedback", args=[need_status_token(need)])
    for _ in range(need_status_views.FEEDBACK_RATE):
        client.post(url, {"helped": "maybe"})
    html = client.post(url, {"helped": "yes"}, follow=True).content.decode()
    assert "提交太频繁" in html


def test_status_page_query_count(client, tree, django_assert_max_num_queries):
    need = NeedFactory(organisation=tree.town_a, owner_cadre=tree.cadre)
    with django_assert_max_num_queries(3):
        client.get(reverse("contacts:need_status", args=[need_status_token(need)]))
