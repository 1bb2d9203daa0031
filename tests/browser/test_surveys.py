"""Satisfaction ballots in a real browser: staff print slips on a desktop, a member votes on a
phone with a code from a slip, the committee reads the results on a phone."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from surveys.models import Ballot, Campaign, VotingCode
from tests.browser.conftest import DESKTOP, PHONE, login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_slips_then_vote_on_a_phone(demo_site, new_page):
    planned = Campaign.objects.get(branch__name="双胜镇第2团支部")
    desk = new_page(DESKTOP)
    login(desk, demo_site.url, "county")
    desk.goto(f"{demo_site.url}/surveys/campaigns/{planned.pk}/")
    shot(desk, "surveys-campaign-planned-desktop")
    desk.get_by_role("button", name=re.compile("生成 22 个投票码")).click()
    desk.wait_for_load_state("networkidle")
    codes = desk.locator(".lq-slip code").all_inner_texts()
    assert len(codes) == 22
    shot(desk, "surveys-code-slips-desktop")
    # The slips were printed before the opening; now the ballot opens.
    Campaign.objects.filter(pk=planned.pk).update(
        opens_at=timezone.now() - datetime.timedelta(minutes=5)
    )

    phone = new_page(PHONE)
    phone.goto(f"{demo_site.url}/surveys/vote/")
    shot(phone, "surveys-vote-entry-phone")
    phone.get_by_label("请输入票签上的投票码").fill("ABCD-EFGH-JKMN-PQRS")
    phone.get_by_role("button", name="下一步").click()
    assert "投票码不正确" in phone.get_by_role("alert").inner_text()
    shot(phone, "surveys-vote-wrong-code-phone")
    phone.get_by_label("请输入票签上的投票码").fill(codes[0].lower())
    phone.get_by_role("button", name="下一步").click()
    assert "双胜镇第2团支部" in phone.locator("h1").inner_text()
    # Submitting with nothing chosen explains what is missing.
    phone.get_by_role("button", name=re.compile("提交")).click()
    assert "还有题目没有作答" in phone.locator(".alert-danger").inner_text()
    shot(phone, "surveys-vote-missing-phone")
    for fieldset in phone.locator("fieldset").all():
        fieldset.get_by_text("基本满意", exact=True).click()
    phone.locator("fieldset").first.get_by_text("满意", exact=True).click()
    phone.get_by_label(re.compile("意见建议")).fill("希望多开展志愿服务")
    shot(phone, "surveys-vote-ballot-phone")
    phone.get_by_role("button", name=re.compile("提交")).click()
    assert "投票成功" in phone.locator("h1").inner_text()
    receipt = phone.locator("#receipt").inner_text().strip()
    assert len(receipt) == 10
    shot(phone, "surveys-vote-done-phone")
    assert Ballot.objects.filter(campaign=planned, overall="satisfied").count() == 1
    assert VotingCode.objects.filter(campaign=planned, used=True).count() == 1

    # The QR link (?code=…) of a second slip opens the ballot straight away.
    phone.goto(f"{demo_site.url}/surveys/vote/?code={codes[1]}")
    assert phone.locator("fieldset").count() == 1 + len(planned.aspects)
    # The used code again: a clear message, nothing counted twice.
    phone.goto(f"{demo_site.url}/surveys/vote/?code={codes[0]}")
    assert "已经使用过" in phone.get_by_role("alert").inner_text()


def test_committee_reads_results_on_a_phone(demo_site, new_page):
    page = new_page(PHONE)
    login(page, demo_site.url, "county")
    page.goto(f"{demo_site.url}/surveys/")
    assert "团支部书记满意度测评" in page.locator("h1").inner_text()
    shot(page, "surveys-overview-phone")
    unhappy = Campaign.objects.get(branch__name="天山镇第2团支部", year=timezone.now().year)
    page.goto(f"{demo_site.url}/surveys/campaigns/{unhappy.pk}/")
    assert page.get_by_text("团支部书记改选程序").is_visible()
    shot(page, "surveys-result-not-satisfied-phone")
    small = Campaign.objects.get(branch__name="双胜镇第3团支部")
    page.goto(f"{demo_site.url}/surveys/campaigns/{small.pk}/")
    assert page.get_by_text("只公布测评结果").is_visible()
    shot(page, "surveys-result-small-branch-phone")
    page.goto(f"{demo_site.url}/surveys/receipts/{small.public_id}/")
    assert "共 3 张选票被计入" in page.locator("main").inner_text()
