"""Foundation smoke test in a real browser: county and cadre, on a phone and on a desktop."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.mark.parametrize("viewport,label", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_county_logs_in_and_sees_chinese_home(demo_site, new_page, viewport, label):
    page = new_page(viewport)
    page.goto(f"{demo_site.url}/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    shot(page, f"login-{label}")
    login(page, demo_site.url, "county")
    expect(page).to_have_url(re.compile(re.escape(demo_site.url) + "/?$"))
    expect(page.locator("h1")).to_contain_text(
        "共青团阿鲁科尔沁旗委员会 · 工作台", use_inner_text=True
    )
    expect(page.get_by_text("本级及下级概况")).to_be_visible()
    shot(page, f"county-home-{label}")
    if viewport is PHONE:
        # On a phone the navigation folds behind the toggler and opens by tap.
        page.get_by_role("button", name="展开菜单").click()
    page.get_by_role("link", name="首页").first.wait_for(state="visible")


@pytest.mark.parametrize("viewport,label", [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_cadre_logs_in_and_sees_own_home(demo_site, new_page, viewport, label):
    page = new_page(viewport)
    login(page, demo_site.url, "cadre")
    expect(page.locator("h1")).to_contain_text("您好", use_inner_text=True)
    shot(page, f"cadre-home-{label}")
    # A cadre has no staff pages: the organisation tree is 404 for them.
    response = page.goto(f"{demo_site.url}/cadres/organisations/")
    assert response.status == 404
    expect(page.get_by_text("页面不存在或您无权查看")).to_be_visible()
    shot(page, f"cadre-404-{label}")


def test_wrong_password_shows_chinese_error(demo_site, new_page):
    page = new_page(PHONE)
    login(page, demo_site.url, "county", password="wrong-password")
    expect(page.get_by_role("alert")).to_have_text(
        re.compile("^用户名或密码不正确"), use_inner_text=True
    )
    shot(page, "login-error-phone")
