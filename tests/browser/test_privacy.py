"""Personal data in a real browser, at phone width: a youth joins a cadre's list from the card
(加入联系, with consent), and staff erase a youth after the confirmation step."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

from cadres.models import Cadre, Consent, ErasureLog, User, Youth
from cadres.privacy import ERASED_NAME
from tests.browser.conftest import DESKTOP, PHONE, login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_a_youth_joins_from_the_card_on_a_phone(demo_site, new_page):
    cadre = Cadre.objects.get(user__username="cadre")
    page = new_page(PHONE)
    login(page, demo_site.url, "cadre")
    page.goto(f"{demo_site.url}/cadres/{cadre.pk}/card/")
    join_url = page.get_by_text("/join/").inner_text().strip()
    shot(page, "privacy-card-with-join-phone")

    youth_page = new_page(PHONE)  # the youth's own phone, no login
    youth_page.goto(join_url)
    assert youth_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(youth_page, "privacy-join-phone")
    youth_page.get_by_label("姓名", exact=True).fill("乌兰图雅")
    youth_page.get_by_label("手机号", exact=True).fill("139 0000 5678")
    youth_page.get_by_label("领域", exact=True).select_option(index=1)
    youth_page.get_by_label("单位/学校/村（嘎查）", exact=True).fill("天山镇职教中心")
    youth_page.get_by_label("出生年份", exact=True).fill("2002")
    youth_page.get_by_role("button", name="同意并加入").click()
    expect(youth_page.get_by_text("请阅读并勾选同意后再提交。")).to_be_visible()
    assert youth_page.get_by_label("姓名", exact=True).input_value() == "乌兰图雅"
    shot(youth_page, "privacy-join-no-consent-phone")
    youth_page.locator("#id_consent").check()
    youth_page.get_by_role("button", name="同意并加入").click()
    expect(youth_page.get_by_role("heading", name="已加入联系")).to_be_visible()
    shot(youth_page, "privacy-join-done-phone")
    youth = Youth.objects.get(phone="13900005678")
    assert youth.cadre_links.filter(cadre=cadre).exists()
    assert Consent.objects.filter(youth=youth, cadre=cadre).exists()


def test_staff_erase_a_youth_after_confirming(demo_site, new_page):
    user = User.objects.get(username="township")
    user.user_permissions.add(Permission.objects.get(codename="erase_youth"))
    youth = Youth.objects.filter(organisation__name__startswith="天山镇", phone__gt="").first()
    for viewport, suffix in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page = new_page(viewport)
        login(page, demo_site.url, "township")
        page.goto(f"{demo_site.url}/cadres/youths/{youth.pk}/")
        page.get_by_role("link", name="删除该青年的个人信息…").click()
        expect(page.get_by_text("删除后无法恢复")).to_be_visible()
        if suffix == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, f"privacy-erase-confirm-{suffix}")
    page.get_by_label("删除原因").fill("本人申请删除")
    page.get_by_label("请输入该青年的姓名以确认").fill("不是这个名字")
    page.get_by_role("button", name="确认删除").click()
    expect(page.get_by_text("输入的姓名与该青年不一致，未删除。")).to_be_visible()
    shot(page, "privacy-erase-wrong-name-desktop")
    page.get_by_label("请输入该青年的姓名以确认").fill(youth.name)
    page.get_by_role("button", name="确认删除").click()
    log = ErasureLog.objects.get()
    expect(page.get_by_text(log.tag)).to_be_visible()
    shot(page, "privacy-erase-done-desktop")
    assert Youth.objects.get(pk=youth.pk).name == ERASED_NAME


def test_an_import_commit_in_the_background_shows_progress_then_the_result(demo_site, new_page):
    """The progress page polls the job (cadres/static/cadres/jobs.js) and reloads when it ends."""
    from cadres import roster_import, tasks
    from cadres.models import Organisation, RosterImport, Sector

    user = User.objects.get(username="township")
    sector = Sector.objects.first()
    lines = [f"进度青年{i},女,2000,{sector.name},单位,1390000{i:04d}" for i in range(30)]
    record = roster_import.roster_import_prepare(
        data=("姓名,性别,出生年份,领域,单位,手机号\n" + "\n".join(lines) + "\n").encode(),
        filename="名单.csv",
        organisation=Organisation.objects.get(name="天山镇团委"),
        by=user,
    )
    assert record.status == RosterImport.Status.PREVIEW, record.errors
    # Confirmed with a broker configured: the job is queued, a worker has not run it yet.
    RosterImport.objects.filter(pk=record.pk).update(status=RosterImport.Status.COMMITTING)
    page = new_page(PHONE)
    login(page, demo_site.url, "township")
    page.goto(f"{demo_site.url}/cadres/import/{record.pk}/")
    expect(page.locator("progress[data-lq-job-bar]")).to_be_visible()
    shot(page, "import-job-progress-phone")
    assert tasks.roster_commit(record.pk, user.pk) == "done"  # the worker
    page.get_by_text("已于").wait_for(timeout=10_000)  # the poller reloaded the page
    shot(page, "import-job-done-phone")
