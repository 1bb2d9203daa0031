"""The supervisors' integrity page in Chromium on the banner demo: the demo's padded cadres
listed with their signals, the evidence page, a verification recorded at phone width."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, login, settle, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.mark.parametrize("viewport,label", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_integrity_page_lists_padded_cadres_with_evidence(demo_site, new_page, viewport, label):
    page = new_page(viewport)
    login(page, demo_site.url, "county")
    page.goto(f"{demo_site.url}/assessment/integrity/")
    text = page.locator("main").inner_text()
    assert "联系记录真实性核查" in text
    assert "连续快速录入" in text and "一次见面人数不合常理" in text
    assert "属实" in text  # the demo's one verification outcome
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"]
    shot(page, f"assessment-integrity-{label}")
    page.get_by_role("link", name="查看证据并核实").first.click()
    settle(page)
    expect(page.locator("main")).to_contain_text("涉及的联系记录", use_inner_text=True)
    shot(page, f"assessment-integrity-detail-{label}")


def test_supervisor_records_pending_at_phone_width(demo_site, new_page):
    page = new_page(PHONE)
    login(page, demo_site.url, "county")
    page.goto(f"{demo_site.url}/assessment/integrity/")
    page.get_by_role("link", name="查看证据并核实").nth(1).click()
    page.get_by_label("待核实").check()
    page.get_by_label("核实说明").fill("下周到村里走访核实")
    page.get_by_role("button", name="保存核实结果").click()
    settle(page)
    history = page.locator("#hist-h").locator("..").inner_text()
    assert "待核实" in history and "下周到村里走访核实" in history
