"""Sealed satisfaction ballots in a real browser: staff print code slips and the scrutineers' share
slips on a desktop, a member votes on a phone, two scrutineers settle on a phone, the voter finds
their receipt, the committee reads the results on a phone."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from surveys.models import Campaign
from tests.browser.conftest import DESKTOP, PHONE, login, settle, shot
from tests.surveys.helpers import sealed_ballots, used_codes

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


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
    settle(desk)
    codes = desk.locator(".lq-slip code").all_inner_texts()
    assert len(codes) == 22
    shot(desk, "surveys-code-slips-desktop")

    desk.goto(f"{demo_site.url}/surveys/campaigns/{planned.pk}/")
    desk.get_by_role("button", name="启用票箱，打印监票人份额").click()
    settle(desk)
    expect(desk.locator("h1")).to_contain_text("监票密钥份额", use_inner_text=True)
    shares = desk.locator(".lq-share-code").all_inner_texts()
    planned.refresh_from_db()
    assert len(shares) == planned.share_count == 3 and planned.share_threshold == 2
    expect(desk.locator(".lq-share-slip img")).to_have_count(3)
    shot(desk, "surveys-share-slips-desktop")
    # Shown once: the server kept no share, so nothing on the campaign page repeats one.
    desk.goto(f"{demo_site.url}/surveys/campaigns/{planned.pk}/")
    assert all(share not in desk.content() for share in shares)
    expect(desk.locator("#ballot-box")).to_contain_text("票箱已启用", use_inner_text=True)

    # The slips were printed before the opening; now the ballot opens.
    Campaign.objects.filter(pk=planned.pk).update(
        opens_at=timezone.now() - datetime.timedelta(minutes=5)
    )

    phone = new_page(PHONE)
    phone.goto(f"{demo_site.url}/surveys/vote/")
    shot(phone, "surveys-vote-entry-phone")
    phone.get_by_label("请输入票签上的投票码").fill("ABCD-EFGH-JKMN-PQRS")
    phone.get_by_role("button", name="下一步").click()
    expect(phone.get_by_role("alert")).to_contain_text("投票码不正确", use_inner_text=True)
    shot(phone, "surveys-vote-wrong-code-phone")
    phone.get_by_label("请输入票签上的投票码").fill(codes[0].lower())
    phone.get_by_role("button", name="下一步").click()
    expect(phone.locator("h1")).to_contain_text("双胜镇第2团支部", use_inner_text=True)
    # Submitting with nothing chosen explains what is missing.
    phone.get_by_role("button", name=re.compile("提交")).click()
    expect(phone.locator(".alert-danger")).to_contain_text("还有题目没有作答", use_inner_text=True)
    shot(phone, "surveys-vote-missing-phone")
    for fieldset in phone.locator("fieldset").all():
        fieldset.get_by_text("基本满意", exact=True).click()
    phone.locator("fieldset").first.get_by_text("满意", exact=True).click()
    marker = "希望多开展志愿服务-浏览器标记"
    phone.get_by_label(re.compile("意见建议")).fill(marker)
    shot(phone, "surveys-vote-ballot-phone")
    phone.get_by_role("button", name=re.compile("提交")).click()
    expect(phone.locator("h1")).to_contain_text("投票成功", use_inner_text=True)
    receipt = phone.locator("#receipt").inner_text().strip()
    assert receipt and receipt not in codes
    shot(phone, "surveys-vote-done-phone")
    # Sealed: one ballot stored, as ciphertext only — the marker is nowhere in the row.
    (ciphertext,) = sealed_ballots(planned)
    assert marker.encode() not in ciphertext
    assert used_codes(planned) == 1

    # The QR link (?code=…) of a second slip opens the ballot straight away.
    phone.goto(f"{demo_site.url}/surveys/vote/?code={codes[1]}")
    expect(phone.locator("fieldset")).to_have_count(1 + len(planned.aspects))
    # The used code again: a clear message, nothing counted twice.
    phone.goto(f"{demo_site.url}/surveys/vote/?code={codes[0]}")
    expect(phone.get_by_role("alert")).to_contain_text("已经使用过", use_inner_text=True)

    # Staff end the voting early; counting waits for the scrutineers.
    desk.goto(f"{demo_site.url}/surveys/campaigns/{planned.pk}/")
    desk.get_by_role("button", name="提前结束投票").click()
    settle(desk)
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
    assert planned.closed_at is None and len(sealed_ballots(planned)) == 1
    scrutineers.get_by_label("监票人份额码 1").fill(shares[2])
    scrutineers.get_by_label("监票人份额码 3").fill(shares[0])
    scrutineers.get_by_role("button", name="还原密钥并计票").click()
    settle(scrutineers)
    expect(scrutineers.locator("main")).to_contain_text("结算完成", use_inner_text=True)
    shot(scrutineers, "surveys-settled-result-phone")
    planned.refresh_from_db()
    assert planned.closed_at is not None and planned.turnout == 1
    assert not sealed_ballots(planned)
    expect(scrutineers.locator("#ballot-box")).to_contain_text(
        "已由监票人结算", use_inner_text=True
    )
    # One ballot is below the small-group threshold: only the outcome, never the comment.
    assert marker not in scrutineers.content()

    # The voter, on their phone, finds their receipt in the published list.
    phone.goto(f"{demo_site.url}/surveys/receipts/{planned.public_id}/")
    expect(phone.locator("main")).to_contain_text("共 1 张选票被计入", use_inner_text=True)
    assert receipt in phone.locator("main li").all_inner_texts()
    phone.get_by_placeholder("输入您的回执码核对").fill(receipt)
    phone.get_by_role("button", name="核对").click()
    expect(phone.locator("#receipt-check")).to_contain_text("已找到", use_inner_text=True)
    shot(phone, "surveys-receipts-found-phone")


def test_committee_reads_results_on_a_phone(demo_site, new_page):
    page = new_page(PHONE)
    login(page, demo_site.url, "county")
    page.goto(f"{demo_site.url}/surveys/")
    expect(page.locator("h1")).to_contain_text("团支部书记满意度测评", use_inner_text=True)
    shot(page, "surveys-overview-phone")
    unhappy = Campaign.objects.get(branch__name="天山镇第2团支部", year=timezone.now().year)
    page.goto(f"{demo_site.url}/surveys/campaigns/{unhappy.pk}/")
    expect(page.get_by_text("团支部书记改选程序")).to_be_visible()
    shot(page, "surveys-result-not-satisfied-phone")
    small = Campaign.objects.get(branch__name="双胜镇第3团支部")
    page.goto(f"{demo_site.url}/surveys/campaigns/{small.pk}/")
    expect(page.get_by_text("只公布测评结果")).to_be_visible()
    shot(page, "surveys-result-small-branch-phone")
    page.goto(f"{demo_site.url}/surveys/receipts/{small.public_id}/")
    expect(page.locator("main")).to_contain_text("共 3 张选票被计入", use_inner_text=True)


def test_roster_to_reelection_on_a_phone(demo_site, new_page):
    """Issue 12, items 5 and 6, at phone width: import a branch's 智慧团建 member list, run a
    campaign whose electorate is that roster, tick who received a slip (领票登记), vote, settle,
    and record the re-election that the not-satisfied outcome opened: the registry's secretary
    changes and the next campaign can only rate the new one."""
    from cadres.models import Cadre, Organisation
    from surveys.models import Elector, Member, ReelectionProcedure
    from tests.factories import CadreFactory, OrganisationFactory

    year = timezone.localdate().year
    # Every demo branch already has this year's ballot: a new branch, as the registry would add.
    town = Campaign.objects.order_by("pk").first().branch.parent
    branch = OrganisationFactory(name="名册测试团支部", kind=Organisation.Kind.BRANCH, parent=town)
    CadreFactory(
        name="原书记乙", organisation=branch, is_branch_secretary=True, position="团支部书记"
    )
    old = Cadre.objects.get(organisation=branch, is_branch_secretary=True)
    page = new_page(PHONE)
    page.on("dialog", lambda dialog: dialog.accept())
    login(page, demo_site.url, "county")

    # 1. The roster, from a 智慧团建-style export (extra columns ignored); one bad row first.
    header = "序号,姓名,性别,民族,出生日期,身份证号码,入团时间,手机号码\n"
    rows = [
        f"{n},团员{n},{'男' if n % 2 else '女'},汉族,{year - 20}-0{n},150102000000000000,"
        f"{year - 6}-05,1381234567{n}\n"
        for n in range(1, 7)
    ]
    bad = header + "".join(rows) + f"7,团员7,?,汉族,,,{year - 6}-05,\n"
    page.goto(f"{demo_site.url}/surveys/members/branch/{branch.pk}/import/")
    page.get_by_label(re.compile("团员名单文件")).set_input_files(
        files=[{"name": "团员名单.csv", "mimeType": "text/csv", "buffer": bad.encode("utf-8")}]
    )
    page.get_by_role("button", name="检查并导入").click()
    page.locator("#import-errors").wait_for()
    expect(page.locator("#import-errors")).to_contain_text("一行也没有导入", use_inner_text=True)
    assert not Member.objects.filter(branch=branch).exists()
    shot(page, "surveys-roster-import-errors-phone")
    page.get_by_label(re.compile("团员名单文件")).set_input_files(
        files=[
            {
                "name": "团员名单.csv",
                "mimeType": "text/csv",
                "buffer": (header + "".join(rows)).encode("gb18030"),
            }
        ]
    )
    page.get_by_role("button", name="检查并导入").click()
    page.locator("#roster-count").wait_for()
    expect(page.locator("#roster-count")).to_contain_text("在册 6 人", use_inner_text=True)
    shot(page, "surveys-roster-phone")

    # 2. A campaign on that branch: the electorate comes from the roster.
    page.get_by_role("link", name="新建测评").click()
    settle(page)
    assert page.get_by_label(re.compile("应参评人数")).input_value() == "6"
    page.get_by_label("被测评的团支部书记").select_option(str(old.pk))
    start = timezone.localtime() - datetime.timedelta(minutes=5)
    page.get_by_label("开始时间").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("截止时间").fill(
        (start + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    )
    shot(page, "surveys-campaign-form-roster-phone")
    page.get_by_role("button", name=re.compile("创建|保存")).click()
    settle(page)
    campaign = Campaign.objects.get(branch=branch, year=year)
    assert campaign.electorate == 6
    page.get_by_role("button", name=re.compile("生成 6 个投票码")).click()
    settle(page)
    codes = page.locator(".lq-slip code").all_inner_texts()
    assert len(codes) == 6
    page.goto(f"{demo_site.url}/surveys/campaigns/{campaign.pk}/")
    page.get_by_role("button", name="启用票箱，打印监票人份额").click()
    settle(page)
    shares = page.locator(".lq-share-code").all_inner_texts()
    assert Elector.objects.filter(campaign=campaign).count() == 6

    # 3. 领票登记: five members present receive a slip, ticked in one save.
    page.goto(f"{demo_site.url}/surveys/campaigns/{campaign.pk}/")
    page.locator("#slips-summary").get_by_role("link", name="领票登记").click()
    settle(page)
    for n in range(1, 6):
        page.get_by_label(f"团员{n}", exact=True).check()
    expect(page.locator("[data-lq-count]")).to_have_text("5", use_inner_text=True)
    shot(page, "surveys-slips-phone")
    page.get_by_role("button", name="保存领票登记").click()
    settle(page)
    assert "已领票 5 / 6" in page.locator("main").inner_text() or "5 人已领票" in page.content()
    assert Elector.objects.filter(campaign=campaign, slip_received=True).count() == 5

    # 4. Five members vote "not satisfied" on their phones.
    voter = new_page(PHONE)
    for code in codes[:5]:
        voter.goto(f"{demo_site.url}/surveys/vote/?code={code}")
        for fieldset in voter.locator("fieldset").all():
            fieldset.get_by_text("不满意", exact=True).click()
        voter.get_by_role("button", name=re.compile("提交")).click()
        expect(voter.locator("h1")).to_contain_text("投票成功", use_inner_text=True)

    # 5. Voting ends early; two scrutineers paste their shares into the boxes.
    page.goto(f"{demo_site.url}/surveys/campaigns/{campaign.pk}/")
    page.get_by_role("button", name="提前结束投票").click()
    settle(page)
    page.get_by_role("link", name="监票人结算").click()
    settle(page)
    page.get_by_label("监票人份额码 1").fill(shares[0].replace("-", " "))
    page.get_by_label("监票人份额码 2").fill(shares[1].replace("-", "\n", 3))
    expect(page.locator("#id_share_1-count")).to_contain_text("64 / 64", use_inner_text=True)
    shot(page, "surveys-settle-shares-pasted-phone")
    page.get_by_role("button", name="还原密钥并计票").click()
    settle(page)
    campaign.refresh_from_db()
    assert campaign.outcome == "not_satisfied" and campaign.electorate == 6

    # 6. The re-election's result changes the branch's secretary.
    page.locator("#reelection-result").scroll_into_view_if_needed()
    shot(page, "surveys-reelection-form-phone")
    page.get_by_label("新任书记姓名").fill("新书记甲")
    page.get_by_label("性别", exact=True).select_option("F")
    page.get_by_role("button", name="登记改选结果").click()
    settle(page)
    expect(page.locator("#reelection-result")).to_contain_text(
        "新书记甲 任团支部书记", use_inner_text=True
    )
    shot(page, "surveys-reelection-done-phone")
    old.refresh_from_db()
    new = ReelectionProcedure.objects.get(campaign=campaign).new_secretary
    assert not old.is_branch_secretary and old.active_until is not None
    assert new.is_branch_secretary and new.organisation_id == branch.pk
    page.goto(f"{demo_site.url}/surveys/campaigns/new/?branch={branch.pk}")
    options = page.get_by_label("被测评的团支部书记").locator("option").all_inner_texts()
    assert any("新书记甲" in o for o in options) and not any(old.name in o for o in options)
