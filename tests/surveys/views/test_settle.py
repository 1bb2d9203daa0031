"""The settlement screen (结算) and the ballot box page: scope, bad input, one-time display."""

from __future__ import annotations

import pytest

from surveys import services
from surveys.models import Campaign
from tests.surveys.helpers import SHARES, open_campaign, sealed_ballots, vote

pytestmark = pytest.mark.django_db


def _url(campaign, tail=""):
    return f"/surveys/campaigns/{campaign.pk}/{tail}"


def _ended(tree):
    campaign, codes = open_campaign(tree, electorate=6)
    for code in codes[:5]:
        vote(code, campaign, comment="意见")
    services.campaign_close(campaign=campaign, by=tree.county)
    return campaign


def test_outsider_and_branch_users_get_404(client, tree):
    campaign = _ended(tree)
    for user in (tree.outsider, tree.cadre_user):
        client.force_login(user)
        assert client.get(_url(campaign, "settle/")).status_code in (403, 404)
        response = client.post(_url(campaign, "settle/"), {"share_1": SHARES[campaign.pk][0]})
        assert response.status_code in (403, 404)
    assert Campaign.objects.get(pk=campaign.pk).closed_at is None


def test_wrong_share_explains_and_never_echoes_a_share(client, tree):
    campaign = _ended(tree)
    client.force_login(tree.county)
    good = SHARES[campaign.pk][0]
    response = client.post(_url(campaign, "settle/"), {"share_1": good, "share_2": good})
    assert response.status_code == 400
    assert "同一张份额票签" in response.text
    assert good not in response.text
    assert response["Cache-Control"] == "no-store"
    assert Campaign.objects.get(pk=campaign.pk).closed_at is None
    assert len(sealed_ballots(campaign)) == 5


def test_settlement_before_the_end_says_so(client, tree):
    campaign, codes = open_campaign(tree)
    client.force_login(tree.county)
    page = client.get(_url(campaign, "settle/"))
    assert "投票尚未结束，现在不能结算" in page.text
    response = client.post(_url(campaign, "settle/"), {"share_1": SHARES[campaign.pk][0]})
    assert response.status_code == 400 and "投票尚未结束" in response.text


def test_settlement_through_the_screen(client, tree):
    campaign = _ended(tree)
    client.force_login(tree.county)
    shares = SHARES[campaign.pk]
    response = client.post(
        _url(campaign, "settle/"), {"share_2": shares[2], "share_3": shares[1]}, follow=True
    )
    assert "结算完成" in response.text and "请监票人销毁份额票签" in response.text
    assert "意见" in response.text
    assert not sealed_ballots(campaign)


def test_ballot_box_page_shows_the_shares_once(client, tree):
    campaign, _ = open_campaign(tree, seal=False)
    client.force_login(tree.county)
    response = client.post(_url(campaign, "ballot-box/"))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert response.text.count('class="lq-share-code"') == 3
    assert response.text.count("data:image/svg+xml;base64,") == 3
    assert "<script>" not in response.text and "onclick" not in response.text
    again = client.post(_url(campaign, "ballot-box/"), follow=True)
    assert "不能再次生成" in again.text and "lq-share-code" not in again.text


def test_edit_form_disables_the_rules_once_the_box_is_open(client, tree):
    import datetime

    from django.utils import timezone

    later = timezone.now() + datetime.timedelta(days=3)
    campaign, _ = open_campaign(tree, opens_at=later, closes_at=later + datetime.timedelta(days=5))
    client.force_login(tree.county)
    form = client.get(_url(campaign, "edit/")).context["form"]
    assert all(form.fields[n].disabled for n in form.RULE_FIELD_NAMES)
    data = {
        "electorate": campaign.electorate,
        "opens_at": timezone.localtime(campaign.opens_at).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": timezone.localtime(campaign.closes_at).strftime("%Y-%m-%dT%H:%M"),
        "min_ballots_shown": 1,
        "quorum": "1/2",
        "aspects": "",
    }
    client.post(_url(campaign, "edit/"), data)
    campaign.refresh_from_db()
    assert campaign.min_ballots_shown == 5 and campaign.quorum_num == 2
    assert campaign.aspects  # posted "" ignored: the field is disabled
