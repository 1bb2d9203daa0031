from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from surveys import services
from surveys.models import Campaign, ReelectionProcedure, VotingCode
from tests.factories import UserFactory
from tests.surveys.helpers import SHARES, branch_secretary, close_now, open_campaign, vote

pytestmark = pytest.mark.django_db


def _url(campaign, suffix=""):
    return f"/surveys/campaigns/{campaign.pk}/{suffix}"


def test_staff_above_sees_detail(client, tree):
    campaign, _ = open_campaign(tree)
    for user in (tree.county, tree.owner, tree.colleague):
        client.force_login(user)
        response = client.get(_url(campaign))
        assert response.status_code == 200
        assert "投票结束前不显示任何计票结果" in response.text


def test_rated_secretary_gets_404_on_every_page(client, tree):
    secretary_user = UserFactory(organisation=tree.town_a, role="staff")
    campaign, _ = open_campaign(tree, secretary=branch_secretary(tree, user=secretary_user))
    client.force_login(secretary_user)
    assert client.get(_url(campaign)).status_code == 404
    assert client.get(_url(campaign, "edit/")).status_code == 404
    for action in ("codes/", "close/", "delete/", "reelection/"):
        assert client.post(_url(campaign, action)).status_code == 404
    assert VotingCode.objects.filter(campaign=campaign).count() == 10


def test_branch_users_and_outsiders_get_404(client, tree):
    campaign, _ = open_campaign(tree)
    branch_staff = UserFactory(organisation=tree.branch_a, role="staff")
    for user in (branch_staff, tree.outsider, tree.cadre_user):
        client.force_login(user)
        assert client.get(_url(campaign)).status_code == 404
        assert client.post(_url(campaign, "codes/")).status_code == 404


def test_create_campaign_and_choices_are_scoped(client, tree):
    secretary = branch_secretary(tree)
    client.force_login(tree.outsider)
    form = client.get("/surveys/campaigns/new/").context["form"]
    assert tree.branch_a not in form.fields["branch"].queryset
    assert secretary not in form.fields["secretary"].queryset
    client.force_login(tree.owner)
    now = timezone.localtime()
    data = {
        "branch": tree.branch_a.pk,
        "secretary": secretary.pk,
        "year": now.year,
        "electorate": 12,
        "opens_at": (now + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + datetime.timedelta(days=8)).strftime("%Y-%m-%dT%H:%M"),
        "aspects": "联系青年\n组织活动\n",
        "allow_comment": "on",
        "quorum": "2/3",
        "not_satisfied": "1/3",
        "min_ballots_shown": 5,
    }
    response = client.post("/surveys/campaigns/new/", data)
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response.url == _url(campaign)
    assert campaign.aspects == ["联系青年", "组织活动"] and campaign.created_by == tree.owner


def test_create_with_bad_input_keeps_values_and_explains(client, tree):
    secretary = branch_secretary(tree)
    client.force_login(tree.owner)
    response = client.post(
        "/surveys/campaigns/new/",
        {
            "branch": tree.branch_a.pk,
            "secretary": secretary.pk,
            "year": 2026,
            "electorate": 0,
            "opens_at": "2026-05-02T09:00",
            "closes_at": "2026-05-01T09:00",
            "quorum": "9/10",
            "not_satisfied": "1/3",
            "min_ballots_shown": 5,
        },
    )
    assert response.status_code == 200
    assert "截止时间必须晚于开始时间" in response.text
    assert "2026-05-02T09:00" in response.text
    assert not Campaign.objects.exists()


def test_generate_codes_shows_them_once_with_qr_and_download(client, tree):
    campaign, _ = open_campaign(tree, electorate=4)
    client.force_login(tree.county)
    assert client.get(_url(campaign, "codes/")).status_code == 405
    response = client.post(_url(campaign, "codes/"))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    shown = re.findall(r"<code>([A-Z0-9-]{19})</code>", response.text)
    assert len(shown) == 4
    assert response.text.count("data:image/svg+xml;base64,") == 4
    assert "data:text/csv;charset=utf-8," in response.text
    stored = set(VotingCode.objects.filter(campaign=campaign).values_list("code_hash", flat=True))
    assert stored == {services.hash_code(c) for c in shown}
    # The detail page never shows a code again.
    detail = client.get(_url(campaign)).text
    assert not any(code in detail for code in shown)


def test_no_regeneration_after_a_vote(client, tree):
    campaign, codes = open_campaign(tree)
    vote(codes[0], campaign)
    client.force_login(tree.county)
    response = client.post(_url(campaign, "codes/"), follow=True)
    assert "已经有人投票" in response.text


def test_close_by_staff_and_small_group_shows_outcome_only(client, tree):
    campaign, codes = open_campaign(tree, electorate=4)
    for code, answer in zip(codes, ["satisfied", "basic", "basic", "not_satisfied"], strict=False):
        vote(code, campaign, overall=answer, comment="一条意见")
    client.force_login(tree.owner)
    response = client.post(_url(campaign, "close/"), follow=True)
    assert "投票已结束" in response.text and "等待监票人结算" in response.text
    assert "一条意见" not in response.text
    settle = client.get(_url(campaign, "settle/"))
    assert settle.status_code == 200 and settle["Cache-Control"] == "no-store"
    assert list(settle.context["form"].fields) == ["share_1", "share_2", "share_3"]
    shares = SHARES[campaign.pk]
    response = client.post(
        _url(campaign, "settle/"), {"share_1": shares[2], "share_3": shares[0]}, follow=True
    )
    assert "结算完成，结果：满意" in response.text
    assert "只公布测评结果" in response.text
    assert 'lq-stat-label">满意率' not in response.text and "一条意见" not in response.text
    assert "计入回执 4 个 = 参评 4 人" in response.text


def test_large_group_shows_counts_comments_and_reelection(client, tree):
    campaign, codes = open_campaign(tree, electorate=6)
    for n, code in enumerate(codes):
        vote(code, campaign, overall="not_satisfied" if n < 3 else "satisfied", comment=f"意见{n}")
    close_now(campaign)
    client.force_login(tree.county)
    response = client.get(_url(campaign))
    assert 'lq-stat-label">满意率' in response.text and "意见5" in response.text
    assert "团支部书记改选程序" in response.text
    response = client.post(
        _url(campaign, "reelection/"), {"status": "done", "notes": "已按程序改选"}, follow=True
    )
    assert "改选进度已更新" in response.text
    assert ReelectionProcedure.objects.get().status == "done"


def test_due_campaign_closes_on_read(client, tree):
    campaign, codes = open_campaign(tree)
    Campaign.objects.filter(pk=campaign.pk).update(
        opens_at=timezone.now() - datetime.timedelta(days=2),
        closes_at=timezone.now() - datetime.timedelta(days=1),
    )
    client.force_login(tree.county)
    response = client.get(_url(campaign))
    assert "等待监票人结算" in response.text and "监票人结算" in response.text
    campaign.refresh_from_db()
    assert campaign.voting_closed_at is not None and campaign.closed_by is None
    assert campaign.closed_at is None  # results only from the scrutineers' settlement


def test_receipts_published_after_close(client, tree):
    campaign, codes = open_campaign(tree)
    receipts = [vote(code, campaign) for code in codes[:7]]
    url = f"/surveys/receipts/{campaign.public_id}/"
    response = client.get(url)
    assert response.status_code == 200 and "回执码将在测评结束" in response.text
    assert not any(r in response.text for r in receipts)
    close_now(campaign)
    response = client.get(url)
    assert all(r in response.text for r in receipts)
    assert "共 7 张选票被计入" in response.text
    assert client.get("/surveys/receipts/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_edit_only_while_planned(client, tree):
    campaign, _ = open_campaign(tree)
    client.force_login(tree.county)
    response = client.get(_url(campaign, "edit/"), follow=True)
    assert "测评已经开始" in response.text
