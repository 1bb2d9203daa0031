"""The registry in a real browser: a cadre's N/100 on a phone, the township's table, import."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from cadres.models import Cadre, Organisation
from tests.browser.conftest import DESKTOP, PHONE, login, settle, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_cadre_sees_progress_with_missing_channels_on_a_phone(demo_site, new_page):
    page = new_page(PHONE)
    login(page, demo_site.url, "cadre")
    progress = page.get_by_test_id("quota-progress")
    assert re.fullmatch(r"\d+/100", progress.inner_text())
    expect(progress).to_have_text("93/100", use_inner_text=True)
    expect(page.get_by_text("还没有建立的联系渠道")).to_be_visible()
    expect(page.get_by_text("再联系 7 名青年，就能完成指标。")).to_be_visible()
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "cadres-cadre-home-phone")

    # The home's "联系渠道" button opens the cadre's channels page with what is missing.
    page.get_by_role("link", name="联系渠道", exact=True).click()
    expect(page.get_by_text("还没有建立的渠道")).to_be_visible()
    shot(page, "cadres-channels-phone")
    page.goto(page.url.split("/channels/")[0] + "/")  # the cadre's own page
    expect(page.get_by_text("（尚未建立）").first).to_be_visible()
    shot(page, "cadres-cadre-detail-phone")

    page.get_by_role("link", name="打印联系卡").click()
    # Two codes: the needs desk (有问必答) and 加入联系 (the youth joins the cadre's list).
    expect(page.locator(".qr svg")).to_have_count(2)
    expect(page.locator(".qr svg").first).to_be_visible()
    shot(page, "cadres-card-phone")

    page.goto(f"{demo_site.url}/cadres/me/youths/")
    expect(page.get_by_test_id("quota-progress")).to_have_text("93/100", use_inner_text=True)
    shot(page, "cadres-my-youths-phone")


def test_township_sees_only_its_cadres(demo_site, new_page):
    township = Organisation.objects.get(name="天山镇团委")
    expected = Cadre.objects.filter(organisation__path__startswith=township.path).count()
    page = new_page(PHONE)
    login(page, demo_site.url, "township")
    page.goto(f"{demo_site.url}/cadres/")
    expect(page.get_by_text(f"共 {expected} 名团干部")).to_be_visible()
    organisations = set(page.locator("table tbody tr td:nth-child(2)").all_inner_texts())
    assert organisations and all(name.startswith("天山镇") for name in organisations)
    shot(page, "cadres-township-table-phone")

    page = new_page(DESKTOP)
    login(page, demo_site.url, "township")
    page.goto(f"{demo_site.url}/cadres/?quota_met=no")
    shot(page, "cadres-township-table-desktop")
    other = Cadre.objects.exclude(organisation__path__startswith=township.path).first()
    response = page.goto(f"{demo_site.url}/cadres/{other.pk}/")
    assert response.status == 404


def test_staff_import_shows_bad_row_then_commits(demo_site, new_page, tmp_path):
    bad = tmp_path / "名单.csv"
    bad.write_bytes(
        "姓名,性别,出生年份,领域,单位,手机号\n王芳,女,1998,企业青年,物流园,13812345678\n"
        "李四,男,1999,外星青年,物流园,123\n".encode("gbk")
    )
    page = new_page(PHONE)
    login(page, demo_site.url, "township")
    page.goto(f"{demo_site.url}/cadres/import/")
    page.get_by_label("花名册文件（.xlsx 或 .csv）").set_input_files(str(bad))
    page.get_by_label("青年所属组织").fill("天山镇团委")  # typed: the picker resolves the name
    page.get_by_role("button", name="检查文件").click()
    settle(page)
    expect(page.get_by_text("发现 2 处问题")).to_be_visible()
    expect(page.locator("#import-errors").get_by_text("手机号格式不正确")).to_be_visible()
    shot(page, "cadres-import-errors-phone")

    good = tmp_path / "名单2.csv"
    good.write_bytes(
        "姓名,性别,出生年份,领域,单位,手机号\n王芳,女,1998,企业青年,物流园,13812345678\n"
        "李四,男,1999,返乡青年,物流园,13912345678\n".encode("gbk")
    )
    page.get_by_role("link", name="重新上传").click()
    page.get_by_label("花名册文件（.xlsx 或 .csv）").set_input_files(str(good))
    page.get_by_label("青年所属组织").fill("天山镇团委")  # typed: the picker resolves the name
    page.get_by_role("button", name="检查文件").click()
    expect(page.get_by_text("检查通过：共 2 行")).to_be_visible()
    shot(page, "cadres-import-preview-phone")
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_text("导入完成").first).to_be_visible()
    shot(page, "cadres-import-done-phone")
