"""Contacts in a real browser at phone width: quick log, batch of five, the public needs form
answered by the cadre, dormant youths."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, login, settle, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_cadre_logs_contacts_and_answers_a_public_need_on_a_phone(demo_site, new_page):
    from cadres.models import Cadre
    from contacts.models import Contact, Need

    cadre = Cadre.objects.get(user__username="cadre")
    before = Contact.objects.filter(cadre=cadre).count()
    page = new_page(PHONE)
    login(page, demo_site.url, "cadre")
    shot(page, "contacts-cadre-home-phone")

    # 1. One screen: tap the big button, pick a youth, tap a channel, save.
    page.get_by_role("link", name="记录联系", exact=True).click()
    settle(page)
    first = page.locator("#youth-list label").first
    name = first.get_attribute("data-name")
    page.get_by_label("在我的青年中查找").fill(name)
    first.click()
    page.locator("label[for='id_channel_5']").click()  # 面对面交谈
    page.wait_for_timeout(300)  # let the button transition finish before the screenshot
    shot(page, "contacts-quick-log-phone")
    page.get_by_role("button", name="保存").click()
    settle(page)
    expect(page).to_have_url(re.compile(re.escape(demo_site.url) + "/?$"))
    expect(page.get_by_role("alert")).to_contain_text(
        f"已记录与 {name} 的联系（面对面交谈）", use_inner_text=True
    )
    shot(page, "contacts-saved-phone")

    # 2. A batch of five.
    page.goto(f"{demo_site.url}/contacts/batch/")
    boxes = page.locator("#youth-list input[type=checkbox]")
    for i in range(5):
        boxes.nth(i).check()
    expect(page.locator("#picked-count")).to_have_text("5", use_inner_text=True)
    page.locator("label[for='id_channel_8']").click()  # 会议
    page.locator("summary").first.click()
    page.get_by_label("话题").fill("青年座谈会")
    shot(page, "contacts-batch-phone")
    page.get_by_role("button", name="保存").click()
    settle(page)
    expect(page.get_by_role("alert")).to_contain_text(
        "已记录与 5 名青年的联系", use_inner_text=True
    )
    assert Contact.objects.filter(cadre=cadre).count() == before + 2

    # 3. A youth (no login) scans the card's QR code and asks.
    youth_page = new_page(PHONE)
    youth_page.goto(f"{demo_site.url}/contacts/ask/{cadre.pk}/")
    youth_page.get_by_label("类别").select_option("skills")
    youth_page.get_by_label("需求或问题").fill("想报名电商直播培训，什么时候开班？")
    youth_page.get_by_label("回复方式：手机号或微信号（可不填）").fill("13912345678")
    shot(youth_page, "contacts-ask-phone")
    youth_page.get_by_role("button", name="提交").click()
    settle(youth_page)
    expect(youth_page.locator("h1")).to_contain_text("已收到您的问题", use_inner_text=True)
    need = Need.objects.get(question__startswith="想报名电商直播培训")
    assert need.owner_cadre == cadre

    # ... and the cadre answers it.
    page.goto(f"{demo_site.url}/contacts/needs/?status=new")
    page.get_by_role("link", name="想报名电商直播培训").first.click()
    settle(page)
    page.get_by_label("答复内容").fill("下周三开班，已为您报名。")
    page.get_by_role("button", name="提交答复").click()
    settle(page)
    expect(page.get_by_role("alert")).to_contain_text("已答复", use_inner_text=True)
    shot(page, "contacts-need-answered-phone")
    need.refresh_from_db()
    assert need.status == Need.Status.ANSWERED

    # 4. Dormant youths appear.
    page.goto(f"{demo_site.url}/contacts/dormant/")
    assert page.locator("#dormant-list a").count() > 0
    shot(page, "contacts-dormant-phone")


def test_county_sees_contact_list_and_outsider_page_is_404(demo_site, new_page):
    from contacts.models import Contact

    page = new_page(PHONE)
    login(page, demo_site.url, "county")
    page.goto(f"{demo_site.url}/contacts/")
    expect(page.locator("table tbody tr")).to_have_count(25)
    shot(page, "contacts-list-phone")
    township_page = new_page(PHONE)
    login(township_page, demo_site.url, "township")
    foreign = Contact.objects.exclude(cadre__organisation__name__startswith="天山镇").first()
    response = township_page.goto(f"{demo_site.url}/contacts/{foreign.pk}/")
    assert response.status == 404
