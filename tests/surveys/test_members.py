"""The member roster (团员名册): services, import (all or nothing, 智慧团建 columns), the electorate
frozen at opening and the 领票登记 (who, never which slip)."""

from __future__ import annotations

import datetime
import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cadres.spreadsheet import RosterFileError
from surveys import campaigns, members, services
from surveys.models import Campaign, Elector, Member
from tests.factories import CampaignFactory
from tests.surveys.helpers import SHARES, branch_secretary, close_now, vote

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year


def _member(tree, name="团员甲", **kwargs):
    kwargs.setdefault("birth_year", YEAR - 20)
    kwargs.setdefault("joined_on", datetime.date(YEAR - 6, 5, 1))
    kwargs.setdefault("gender", "F")
    return members.member_create(branch=tree.branch_a, name=name, by=tree.county, **kwargs)


def _roster(tree, n):
    return [_member(tree, name=f"团员{i:03d}") for i in range(n)]


def _csv(rows, header="姓名,性别,出生年月,入团时间,手机号码"):
    return ("\ufeff" + header + "\n" + "\n".join(rows) + "\n").encode("utf-8")


def test_member_create_checks_fields_and_keeps_phone_normalised(tree):
    member = _member(tree, phone="138 1234 5678")
    assert member.phone == "13812345678"
    with pytest.raises(ValidationError) as exc:
        _member(tree, name="=HYPERLINK()", birth_year=1800, phone="123")
    assert set(exc.value.message_dict) == {"name", "birth_year", "phone"}


def test_only_staff_above_the_branch_keep_its_roster(tree):
    for user in (tree.outsider, tree.cadre_user):
        with pytest.raises(ValidationError):
            members.member_create(
                branch=tree.branch_a,
                name="某",
                gender="",
                birth_year=YEAR - 20,
                joined_on=datetime.date(YEAR - 5, 1, 1),
                by=user,
            )
    assert not Member.objects.exists()


def test_ending_a_membership_keeps_the_record(tree):
    member = _member(tree)
    members.member_end(member=member, left_on=timezone.localdate(), by=tree.county)
    member.refresh_from_db()
    assert member.left_on == timezone.localdate()
    assert members.roster_size(branch=tree.branch_a) == 0
    assert members.member_list(branch=tree.branch_a, include_ended=True).count() == 1
    with pytest.raises(ValidationError):
        members.member_end(member=member, left_on=timezone.localdate(), by=tree.county)


def test_import_accepts_a_zhtj_member_export_xlsx_and_ignores_id_numbers(tree):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["序号", "姓名", "性别", "民族", "出生日期", "身份证号码", "入团时间", "联系电话"])
    sheet.append(
        [
            1,
            "张三",
            "男",
            "汉族",
            datetime.date(YEAR - 22, 3, 4),
            "150102200103041234",
            "2015-05",
            "13912345678",
        ]
    )
    sheet.append(
        [
            2,
            "李四",
            "女",
            "蒙古族",
            f"{YEAR - 21}年7月",
            "150102200207071234",
            datetime.date(YEAR - 7, 5, 4),
            "",
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = members.roster_import(
        branch=tree.branch_a, data=buffer.getvalue(), filename="团员名单.xlsx", by=tree.county
    )
    assert report.errors == [] and report.added == 2
    zhang = Member.objects.get(name="张三")
    assert (zhang.gender, zhang.birth_year, zhang.joined_on) == (
        "M",
        YEAR - 22,
        datetime.date(2015, 5, 1),
    )
    assert zhang.phone == "13912345678"
    # The ID number is read past, never stored anywhere on the member.
    assert "150102" not in str(Member.objects.values().get(name="张三"))


def test_import_is_all_or_nothing_with_a_report_by_row_and_column(tree):
    data = _csv(
        [
            f"王五,男,{YEAR - 20}-01,{YEAR - 6}-05,",
            f"赵六,未知,{YEAR - 20}-01,{YEAR - 6}-05,",
            f"钱七,女,,{YEAR - 6}-05,12345",
            f"王五,男,{YEAR - 20}-01,{YEAR - 6}-05,",
        ]
    )
    report = members.roster_import(
        branch=tree.branch_a, data=data, filename="a.csv", by=tree.county
    )
    problems = {(e.row, e.column) for e in report.errors}
    assert problems == {(3, "性别"), (4, "出生年月"), (4, "手机号码"), (5, "姓名")}
    assert report.added == 0
    assert not Member.objects.exists()


def test_import_skips_members_already_on_the_roster(tree):
    _member(tree, name="孙八", birth_year=YEAR - 20)
    data = _csv(
        [f"孙八,女,{YEAR - 20}-02,{YEAR - 6}-05,", f"周九,男,{YEAR - 19}-02,{YEAR - 5}年5月,"]
    )
    report = members.roster_import(
        branch=tree.branch_a, data=data, filename="a.csv", by=tree.county
    )
    assert report.added == 1 and report.known == [2]
    assert members.roster_size(branch=tree.branch_a) == 2


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (b"", "a.csv", "空"),
        (_csv([], header="名字,性别"), "a.csv", "入团年月"),
        (b"PK\x03\x04 not a zip", "a.xlsx", ""),
        (b"x", "a.xls", ".xlsx"),
    ],
)
def test_unreadable_files_are_refused_with_a_message(tree, data, filename, message):
    with pytest.raises(RosterFileError) as exc:
        members.roster_parse(data, filename, branch=tree.branch_a)
    assert message in str(exc.value)


def test_electorate_is_the_roster_and_frozen_at_opening(tree):
    people = _roster(tree, 6)
    secretary = branch_secretary(tree)
    now = timezone.now()
    campaign = campaigns.campaign_create(
        branch=tree.branch_a,
        secretary=secretary,
        year=YEAR,
        electorate=0,  # nothing typed: the roster decides
        opens_at=now - datetime.timedelta(hours=1),
        closes_at=now + datetime.timedelta(days=1),
        by=tree.county,
    )
    assert campaign.electorate == 6
    _member(tree, name="新来的")  # joins before the codes: counted
    codes = services.codes_generate(campaign=campaign, by=tree.county)
    assert len(codes) == 7
    services.ballot_box_open(campaign=campaign, by=tree.county)
    assert Elector.objects.filter(campaign=campaign).count() == 7
    # After opening, roster changes do not touch this campaign.
    members.member_end(member=people[0], left_on=timezone.localdate(), by=tree.county)
    _member(tree, name="更晚来的")
    campaign.refresh_from_db()
    assert campaign.electorate == 7
    assert Elector.objects.filter(campaign=campaign).count() == 7


def test_box_does_not_open_when_the_roster_changed_since_the_codes(tree):
    _roster(tree, 5)
    campaign = CampaignFactory(branch=tree.branch_a, secretary=branch_secretary(tree), electorate=5)
    services.codes_generate(campaign=campaign, by=tree.county)
    _member(tree, name="后来的")
    with pytest.raises(ValidationError, match="重新生成投票码"):
        services.ballot_box_open(campaign=campaign, by=tree.county)
    assert Campaign.objects.get(pk=campaign.pk).public_key is None


def test_slips_register_records_who_not_which_or_when(tree):
    people = _roster(tree, 6)
    campaign = CampaignFactory(branch=tree.branch_a, secretary=branch_secretary(tree), electorate=6)
    codes = services.codes_generate(campaign=campaign, by=tree.county)
    SHARES[campaign.pk] = services.ballot_box_open(campaign=campaign, by=tree.county)
    campaign.refresh_from_db()
    assert (
        members.slips_register(
            campaign=campaign, received={p.pk for p in people[:4]}, by=tree.county
        )
        == 4
    )
    assert members.slips_count(campaign=campaign) == 4
    # Unticking works too; a member outside the electorate is refused, nothing half-written.
    members.slips_register(campaign=campaign, received={p.pk for p in people[:3]}, by=tree.county)
    with pytest.raises(ValidationError):
        members.slips_register(campaign=campaign, received={people[0].pk, 999999}, by=tree.county)
    assert members.slips_count(campaign=campaign) == 3
    # The register has no column that could hold a slip, a code or a time.
    columns = {f.name for f in Elector._meta.get_fields()}
    assert columns == {"id", "campaign", "member", "slip_received"}
    # The quorum is reckoned against the real members: 4 of 6 is two thirds.
    for code in codes[:4]:
        vote(code, campaign)
    settled = close_now(campaign)
    assert settled.electorate == 6 and settled.turnout == 4 and settled.is_valid


def test_slips_cannot_change_after_voting_ended(tree):
    people = _roster(tree, 5)
    campaign = CampaignFactory(branch=tree.branch_a, secretary=branch_secretary(tree), electorate=5)
    services.codes_generate(campaign=campaign, by=tree.county)
    services.ballot_box_open(campaign=campaign, by=tree.county)
    services.campaign_close(campaign=campaign, by=tree.county)
    with pytest.raises(ValidationError, match="投票已经结束"):
        members.slips_register(campaign=campaign, received={people[0].pk}, by=tree.county)
