"""At phone width: a youth asks, keeps the private status link, later reads the answer and says
it helped (issue 15 item 6); staff hand a leaving cadre's work to a successor (item 2)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, login, settle, shot
from tests.factories import CadreFactory, CadreYouthFactory, NeedFactory, QuotaRuleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_a_youth_follows_their_need_from_the_thanks_page(live_site, tree, new_page, settings):
    from contacts.models import Need

    settings.LIANQING_ASK_RATE = 10_000
    page = new_page(PHONE)
    page.goto(f"{live_site.url}/contacts/ask/{tree.cadre.pk}/")
    page.locator("textarea[name=question]").fill("想了解创业担保贷款怎么申请")
    page.locator("select[name=category]").select_option("finance")
    page.locator("input[name=anonymous]").check()
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_text("已收到您的问题")).to_be_visible()
    expect(page.locator(".lq-need-qr svg")).to_be_visible()
    shot(page, "needs-thanks-with-status-link-phone")
    need = Need.objects.get()
    Need.objects.filter(pk=need.pk).update(
        status="answered", answer="请带身份证到旗人社局一楼窗口。"
    )
    page.get_by_role("link", name="打开我的进度页").click()
    settle(page)
    expect(page.get_by_text("请带身份证到旗人社局一楼窗口。")).to_be_visible()
    shot(page, "needs-status-answered-phone")
    page.get_by_role("button", name="解决了").click()
    expect(page.get_by_text("谢谢您的反馈")).to_be_visible()  # waits for the redirect
    shot(page, "needs-status-feedback-phone")
    need.refresh_from_db()
    assert need.youth_helped is True


def test_staff_hand_over_a_leaving_cadre_on_a_phone(live_site, tree, new_page):
    from cadres.models import CadreYouth

    QuotaRuleFactory(cadre_type="full_time", quota=10, min_sectors=1)
    leaving = CadreFactory(name="离任干部", organisation=tree.town_a)
    for _ in range(3):
        CadreYouthFactory(cadre=leaving)
    NeedFactory(organisation=tree.town_a, owner_cadre=leaving, status="new")
    page = new_page(PHONE)
    login(page, live_site.url, tree.owner.username, "pw-lianqing-123")
    page.goto(f"{live_site.url}/cadres/{leaving.pk}/")
    page.get_by_role("link", name="离任交接").click()
    settle(page)
    expect(page.get_by_text("联系的青年 3 名")).to_be_visible()
    # The searchable picker (config/pickers.py): type, then choose the suggestion.
    page.get_by_label("接任者", exact=True).fill(tree.cadre.name[:2])
    page.locator(".lq-picker-list li[data-id]", has_text=tree.town_a.name).first.click()
    shot(page, "cadres-handover-phone")
    page.get_by_role("button", name="确认交接").click()
    expect(page.get_by_text("交接完成：3 名青年、1 件未办结需求已交给甲镇干部")).to_be_visible()
    shot(page, "cadres-handover-done-phone")
    assert CadreYouth.objects.filter(cadre=tree.cadre).count() == 3
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
