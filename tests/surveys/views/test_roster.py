"""The roster pages, the import page and the 领票登记 page: scope (outsider 404), bad input,
query counts."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from surveys import members, services
from surveys.models import Elector, Member
from tests.factories import CampaignFactory
from tests.surveys.helpers import branch_secretary

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year


def _member(tree, name):
    return members.member_create(
        branch=tree.branch_a,
        name=name,
        gender="M",
        birth_year=YEAR - 20,
        joined_on=datetime.date(YEAR - 6, 5, 1),
        by=tree.county,
    )


def _opened(tree, n=5):
    people = [_member(tree, f"团员{i}") for i in range(n)]
    campaign = CampaignFactory(branch=tree.branch_a, secretary=branch_secretary(tree), electorate=n)
    services.codes_generate(campaign=campaign, by=tree.county)
    services.ballot_box_open(campaign=campaign, by=tree.county)
    return campaign, people


def test_outsider_and_branch_users_get_404_on_every_roster_page(client, tree):
    member = _member(tree, "张三")
    campaign, _people = _opened(tree)
    urls = [
        f"/surveys/members/branch/{tree.branch_a.pk}/",
        f"/surveys/members/branch/{tree.branch_a.pk}/new/",
        f"/surveys/members/branch/{tree.branch_a.pk}/import/",
        f"/surveys/members/{member.pk}/",
        f"/surveys/campaigns/{campaign.pk}/slips/",
    ]
    for user in (tree.outsider, tree.cadre_user):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code in (403, 404), url
        response = client.post(f"/surveys/members/{member.pk}/end/", {"left_on": "2024-01-01"})
        assert response.status_code in (403, 404)
    member.refresh_from_db()
    assert member.left_on is None


def test_roster_lists_members_in_few_queries(client, tree, django_assert_max_num_queries):
    for i in range(30):
        _member(tree, f"团员{i:02d}")
    client.force_login(tree.county)
    with django_assert_max_num_queries(12):
        response = client.get(f"/surveys/members/branch/{tree.branch_a.pk}/")
    assert response.status_code == 200
    assert "在册 30 人" in response.text
    with django_assert_max_num_queries(10):
        response = client.get("/surveys/members/")
    assert tree.branch_a.name in response.text and "30 人" in response.text


def test_add_member_keeps_what_was_typed_on_error(client, tree):
    client.force_login(tree.county)
    url = f"/surveys/members/branch/{tree.branch_a.pk}/new/"
    data = {
        "name": "李四",
        "gender": "F",
        "birth_year": str(YEAR - 50),
        "joined_on": "2016-05",
        "phone": "1",
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert 'value="李四"' in response.text and "手机号格式不正确" in response.text
    assert "出生年份应在" in response.text
    data |= {"birth_year": str(YEAR - 20), "phone": "13812345678"}
    assert client.post(url, data).status_code == 302
    member = Member.objects.get(name="李四")
    assert member.joined_on == datetime.date(2016, 5, 1)
    assert client.get(f"/surveys/members/{member.pk}/").status_code == 200
    response = client.post(f"/surveys/members/{member.pk}/end/", {"left_on": "bad"})
    assert response.status_code == 302
    client.post(f"/surveys/members/{member.pk}/end/", {"left_on": timezone.localdate().isoformat()})
    member.refresh_from_db()
    assert member.left_on == timezone.localdate()


def test_import_page_reports_rows_and_writes_nothing_on_error(client, tree):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(tree.county)
    url = f"/surveys/members/branch/{tree.branch_a.pk}/import/"
    body = (
        f"姓名,性别,出生年月,入团年月\n王五,男,{YEAR - 20}-01,{YEAR - 6}-05\n赵六,?,{YEAR - 20},\n"
    )
    response = client.post(url, {"file": SimpleUploadedFile("m.csv", body.encode())})
    assert response.status_code == 400
    assert "一行也没有导入" in response.text and "入团年月" in response.text
    assert not Member.objects.exists()
    body = f"姓名,性别,出生年月,入团年月\n王五,男,{YEAR - 20}-01,{YEAR - 6}-05\n"
    response = client.post(url, {"file": SimpleUploadedFile("m.csv", body.encode("gb18030"))})
    assert response.status_code == 302
    assert Member.objects.filter(name="王五").exists()
    response = client.post(url, {"file": SimpleUploadedFile("m.xls", b"junk")})
    assert response.status_code == 400 and ".xlsx" in response.text


def test_slips_page_ticks_who_received_a_slip(client, tree, django_assert_max_num_queries):
    campaign, people = _opened(tree, n=8)
    client.force_login(tree.county)
    url = f"/surveys/campaigns/{campaign.pk}/slips/"
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert (
        response.status_code == 200
        and "已领票 <strong" in response.text
        and ">0</strong> / 8" in response.text
    )
    response = client.post(url, {"member": [str(p.pk) for p in people[:5]] + ["x"]})
    assert response.status_code == 302
    assert Elector.objects.filter(campaign=campaign, slip_received=True).count() == 5
    detail = client.get(f"/surveys/campaigns/{campaign.pk}/")
    assert "已领票 5 / 8 人" in detail.text
    response = client.post(url, {"member": ["99999999"]})
    assert response.status_code == 400
    assert Elector.objects.filter(campaign=campaign, slip_received=True).count() == 5
