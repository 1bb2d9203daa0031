"""At phone width (issue 15 items 2 and 4): staff fix a youth's phone, find that it belongs to
a namesake registered twice, and merge the two; a cadre is picked by name with the searchable
picker, the namesakes told apart by type and organisation; without the script the same form
works by typing the name."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, login, settle, shot
from tests.factories import CadreFactory, CadreYouthFactory, SectorFactory, YouthFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_staff_fix_a_phone_and_merge_the_duplicate_on_a_phone(live_site, tree, new_page):
    from cadres.models import CadreYouth, Youth

    kept = YouthFactory(name="乌兰", organisation=tree.town_a, unit="职教中心", phone="13900000001")
    dup = YouthFactory(name="乌兰", organisation=tree.branch_a, unit="牧场", phone="13900000002")
    CadreYouthFactory(cadre=tree.cadre, youth=dup)
    page = new_page(PHONE)
    login(page, live_site.url, tree.owner.username, "pw-lianqing-123")
    page.goto(f"{live_site.url}/cadres/youths/{kept.pk}/")
    page.get_by_role("link", name="修改信息").click()
    settle(page)
    page.get_by_label("手机号", exact=True).fill("139 0000 0002")
    shot(page, "youth-edit-phone")
    _fits(page)
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_test_id("phone-held")).to_contain_text("该手机号已登记为 乌兰（1998，牧场）")
    shot(page, "youth-edit-phone-held-phone")
    page.get_by_role("link", name="合并这两条记录…").click()
    settle(page)
    page.get_by_label("乌兰 · 1998 · 牧场 · 甲镇第一团支部").check()
    page.get_by_label("我已核实这两条记录是同一人", exact=False).check()
    shot(page, "youth-merge-phone")
    _fits(page)
    page.get_by_role("button", name="合并", exact=True).click()
    expect(page.get_by_text("已合并")).to_be_visible()
    assert not Youth.objects.filter(pk=dup.pk).exists()
    assert CadreYouth.objects.filter(youth=kept, cadre=tree.cadre).exists()
    page.get_by_role("link", name="修改信息").click()
    page.get_by_label("手机号", exact=True).fill("13900000002")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("已保存 乌兰 的信息")).to_be_visible()
    assert Youth.objects.get(pk=kept.pk).phone == "13900000002"


def _new_youth_for(page, live_site, tree, *, cadre_typed: str) -> None:
    """Staff open the new-youth form, fill in 巴特尔 and type `cadre_typed` into the cadre picker."""
    login(page, live_site.url, tree.owner.username, "pw-lianqing-123")
    page.goto(f"{live_site.url}/cadres/youths/new/")
    page.get_by_label("姓名", exact=True).fill("巴特尔")
    page.get_by_label("领域", exact=True).select_option(index=1)
    page.get_by_label("出生年份", exact=True).fill("1999")
    page.get_by_label("联系的团干部", exact=True).fill(cadre_typed)


def test_a_cadre_is_picked_by_name_among_namesakes_on_a_phone(live_site, tree, new_page):
    from cadres.models import CadreYouth

    SectorFactory(name="职校学生", code="vocational")
    CadreFactory(name="托雅", organisation=tree.town_a, cadre_type="full_time", position="")
    wanted = CadreFactory(
        name="托雅", organisation=tree.branch_a, cadre_type="part_time", position="书记"
    )
    CadreFactory(name="托雅", organisation=tree.town_b)  # outside the township: never offered
    page = new_page(PHONE)
    _new_youth_for(page, live_site, tree, cadre_typed="托")
    options = page.locator(".lq-picker-list li[data-id]")
    expect(options).to_have_count(2)
    assert options.all_inner_texts() == [
        "托雅 · 专职 · 甲镇团委",
        "托雅 · 兼职书记 · 甲镇第一团支部",
    ]
    shot(page, "picker-cadre-namesakes-phone")
    _fits(page)
    options.nth(1).click()
    expect(page.get_by_label("联系的团干部", exact=True)).to_have_value(
        "托雅 · 兼职书记 · 甲镇第一团支部"
    )
    page.get_by_role("button", name="保存并加入联系名单").click()
    settle(page)
    assert CadreYouth.objects.filter(cadre=wanted, youth__name="巴特尔").exists()


def test_without_the_script_the_name_is_typed_and_namesakes_offered(live_site, tree, browser):
    from cadres.models import CadreYouth

    SectorFactory(name="职校学生", code="vocational")
    CadreFactory(name="托雅", organisation=tree.town_a)
    wanted = CadreFactory(name="托雅", organisation=tree.branch_a, position="书记")
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="zh-CN")
    page = context.new_page()
    try:
        _new_youth_for(page, live_site, tree, cadre_typed="托雅")
        page.get_by_role("button", name="保存并加入联系名单").click()
        expect(page.get_by_text("有 2 个“托雅”，请从下面选择一个。")).to_be_visible()
        shot(page, "picker-no-script-namesakes-phone")
        page.get_by_label("托雅 · 专职书记 · 甲镇第一团支部").check()
        page.get_by_role("button", name="保存并加入联系名单").click()
        assert CadreYouth.objects.filter(cadre=wanted, youth__name="巴特尔").exists()
    finally:
        context.close()
