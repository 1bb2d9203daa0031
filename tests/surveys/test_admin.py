"""The campaign admin: rules read-only once the ballot box is open, no tallies below the
small-group threshold, never any per-ballot data."""

from __future__ import annotations

import pytest

from tests.surveys.helpers import close_now, open_campaign, vote

pytestmark = pytest.mark.django_db


def _admin(client):
    from cadres.models import User

    user = User.objects.create_superuser("root-admin", password="x-unused-2")
    client.force_login(user)


def _change(campaign):
    return f"/admin/surveys/campaign/{campaign.pk}/change/"


def test_rules_are_read_only_once_the_box_is_open(client, tree):
    campaign, _ = open_campaign(tree)
    _admin(client)
    response = client.get(_change(campaign))
    assert response.status_code == 200
    form = response.context["adminform"].form
    for name in ("min_ballots_shown", "allow_comment", "quorum_num", "aspects", "electorate"):
        assert name not in form.fields, name
    response = client.post(
        _change(campaign), {"min_ballots_shown": 1, "allow_comment": "", "electorate": 1}
    )
    assert response.status_code in (200, 302)
    campaign.refresh_from_db()
    assert campaign.min_ballots_shown == 5 and campaign.allow_comment
    assert campaign.electorate == 10


def test_the_electorate_is_frozen_in_the_database_once_the_box_is_open(tree):
    from django.db import DatabaseError, transaction

    from surveys.models import Campaign

    campaign, _ = open_campaign(tree)
    with pytest.raises(DatabaseError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(electorate=3)
    assert Campaign.objects.get(pk=campaign.pk).electorate == 10


def test_rules_are_editable_before_the_box_opens(client, tree):
    import datetime

    from django.utils import timezone

    later = timezone.now() + datetime.timedelta(days=3)
    campaign, _ = open_campaign(
        tree, seal=False, opens_at=later, closes_at=later + datetime.timedelta(days=4)
    )
    _admin(client)
    form = client.get(_change(campaign)).context["adminform"].form
    assert "min_ballots_shown" in form.fields


def test_small_group_tallies_and_comments_are_not_shown(client, tree):
    campaign, codes = open_campaign(tree, electorate=4)
    for answer, code in zip(["satisfied", "basic", "basic", "not_satisfied"], codes, strict=True):
        vote(code, campaign, overall=answer, comment="小组意见")
    close_now(campaign)
    _admin(client)
    response = client.get(_change(campaign))
    text = response.text
    assert "满意票" not in text and "不满意票" not in text and "分项结果" not in text
    assert "小组意见" not in text
    assert "测评结果" in text  # the outcome itself is public


def test_large_group_tallies_are_shown_and_no_ballot_admin_exists(client, tree):
    campaign, codes = open_campaign(tree, electorate=6)
    for code in codes:
        vote(code, campaign, comment="大组意见")
    close_now(campaign)
    _admin(client)
    text = client.get(_change(campaign)).text
    assert "满意票" in text and "大组意见" in text
    assert client.get("/admin/surveys/ballot/").status_code == 404
    assert client.get("/admin/surveys/votingcode/").status_code == 404


def test_admin_threshold_below_five_is_a_message_not_a_500(client, tree):
    import datetime

    from django.utils import timezone

    from tests.factories import CampaignFactory

    later = timezone.now() + datetime.timedelta(days=3)
    campaign = CampaignFactory(opens_at=later, closes_at=later + datetime.timedelta(days=4))
    _admin(client)
    form = client.get(_change(campaign)).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(
        branch=campaign.branch_id,
        secretary=campaign.secretary_id,
        aspects='["一项"]',
        opens_at_0=timezone.localtime(campaign.opens_at).strftime("%Y-%m-%d"),
        opens_at_1="09:00:00",
        closes_at_0=timezone.localtime(campaign.closes_at).strftime("%Y-%m-%d"),
        closes_at_1="09:00:00",
        min_ballots_shown=2,
    )
    data.pop("opens_at", None), data.pop("closes_at", None)
    response = client.post(_change(campaign), data)
    assert response.status_code == 200
    assert "不能低于 5" in response.text
    campaign.refresh_from_db()
    assert campaign.min_ballots_shown == 5
