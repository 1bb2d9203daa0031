"""Sealed satisfaction ballots in a real browser: staff print code slips and the scrutineers' share
slips on a desktop, a member votes on a phone, two scrutineers settle on a phone, the voter finds
their receipt, the committee reads the results on a phone."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from surveys.models import Ballot, Campaign, VotingCode
from tests.browser.conftest import DESKTOP, PHONE, login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sealed_ballot_from_slips_to_settlement(demo_site, new_page):
    """The whole sealed flow: codes and share slips on a desktop, a vote on a phone, early
    close, two scrutineers settle on a phone, and the voter finds their receipt published."""
    planned = Campaign.objects.get(branch__name="双胜镇第2团支部")
    desk = new_page(DESKTOP)
    # The page's own confirm() prompts (data-lq-confirm) are answered yes, as staff would.
    desk.on("dialog", lambda dialog: dialog.accept())
    login(desk, demo_site.url, "county")
    desk.goto(f"{demo_site.url}/surveys/campaigns/{planned.pk}/")
    shot(desk, "surveys-campaign-planned-desktop")
    desk.get_by_role("button", name=re.compile("生成 22 个投票码")).click()
    desk.wait_for_load_state("networkidle")
    codes = desk.locator(".lq-slip code").all_inner_texts()
    assert len(codes) == 22
    shot(desk, "surveys-code-slips-desktop")

    desk.goto(f"{demo_site.url}/surveys/campaigns/{planned.pk}/")
    desk.get_by_role("button", name="启用票箱，打印监票人份额").click()
    desk.wait_for_load_state("networkidle")
    assert "监票密钥份额" in desk.locator("h1").inner_text()
    shares = desk.locator(".lq-share-code").all_inner_texts()
    planned.refresh_from_db()
    assert len(shares) == planned.share_count == 3 and planned.share_threshold == 2
    assert desk.locator(".lq-share-slip img").count() == 3
    shot(desk, "surveys-share-slips-desktop")
    # Shown once: the server kept no share, so nothing on the campaign page repeats one.
    desk.goto(f"{demo_site.url}/surveys/campaigns/{planned.pk}/")
    assert all(share not in desk.content() for share in shares)
    assert "票箱已启用" in desk.locator("#ballot-box").inner_text()

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
    marker = "希望多开展志愿服务-浏览器标记"
    phone.get_by_label(re.compile("意见建议")).fill(marker)
    shot(phone, "surveys-vote-ballot-phone")
    phone.get_by_role("button", name=re.compile("提交")).click()
    assert "投票成功" in phone.locator("h1").inner_text()
    receipt = phone.locator("#receipt").inner_text().strip()
    assert receipt and receipt not in codes
    shot(phone, "surveys-vote-done-phone")
    # Sealed: one ballot stored, as ciphertext only — the marker is nowhere in the row.
    ballot = Ballot.objects.get(campaign=planned)
    assert marker.encode() not in bytes(ballot.ciphertext)
    assert VotingCode.objects.filter(campaign=planned, used=True).count() == 1

    # The QR link (?code=…) of a second slip opens the ballot straight away.
    phone.goto(f"{demo_site.url}/surveys/vote/?code={codes[1]}")
    assert phone.locator("fieldset").count() == 1 + len(planned.aspects)
    # The used code again: a clear message, nothing counted twice.
    phone.goto(f"{demo_site.url}/surveys/vote/?code={codes[0]}")
    assert "已经使用过" in phone.get_by_role("alert").inner_text()

    # Staff end the voting early; counting waits for the scrutineers.
    desk.goto(f"{demo_site.url}/surveys/campaigns/{planned.pk}/")
    desk.get_by_role("button", name="提前结束投票").click()
    desk.wait_for_load_state("networkidle")
    desk.get_by_role("link", name="监票人结算").wait_for()
    planned.refresh_from_db()
    assert planned.voting_closed_at is not None and planned.closed_at is None

    # Two scrutineers (slips 3 and 1, any order) settle on one phone.
    scrutineers = new_page(PHONE)
    login(scrutineers, demo_site.url, "county")
    scrutineers.goto(f"{demo_site.url}/surveys/campaigns/{planned.pk}/settle/")
    shot(scrutineers, "surveys-settle-phone")
    # A wrong share first: a clear message, nothing counted, no share echoed back.
    scrutineers.get_by_label("监票人份额码 1").fill(shares[0])
    scrutineers.get_by_label("监票人份额码 2").fill("ABCD-EFGH-JKMN")
    scrutineers.get_by_role("button", name="还原密钥并计票").click()
    # is_visible() does not wait; under load the answer to the POST may still be on its way.
    scrutineers.locator("#settle-error").wait_for()
    assert scrutineers.get_by_label("监票人份额码 1").input_value() == ""
    shot(scrutineers, "surveys-settle-wrong-share-phone")
    planned.refresh_from_db()
    assert planned.closed_at is None and Ballot.objects.filter(campaign=planned).count() == 1
    scrutineers.get_by_label("监票人份额码 1").fill(shares[2])
    scrutineers.get_by_label("监票人份额码 3").fill(shares[0])
    scrutineers.get_by_role("button", name="还原密钥并计票").click()
    scrutineers.wait_for_load_state("networkidle")
    assert "结算完成" in scrutineers.locator("main").inner_text()
    shot(scrutineers, "surveys-settled-result-phone")
    planned.refresh_from_db()
    assert planned.closed_at is not None and planned.turnout == 1
    assert not Ballot.objects.filter(campaign=planned).exists()
    assert "已由监票人结算" in scrutineers.locator("#ballot-box").inner_text()
    # One ballot is below the small-group threshold: only the outcome, never the comment.
    assert marker not in scrutineers.content()

    # The voter, on their phone, finds their receipt in the published list.
    phone.goto(f"{demo_site.url}/surveys/receipts/{planned.public_id}/")
    assert "共 1 张选票被计入" in phone.locator("main").inner_text()
    assert receipt in phone.locator("main li").all_inner_texts()
    phone.get_by_placeholder("输入您的回执码核对").fill(receipt)
    phone.get_by_role("button", name="核对").click()
    assert "已找到" in phone.locator("#receipt-check").inner_text()
    shot(phone, "surveys-receipts-found-phone")


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
