"""Helpers for the surveys tests: a campaign on the tree's branch with generated codes."""

from __future__ import annotations

import datetime

from django.utils import timezone

from surveys import services
from surveys.models import Campaign
from tests.factories import CadreFactory, CampaignFactory


def branch_secretary(tree, **kwargs):
    kwargs.setdefault("name", "甲支书")
    return CadreFactory(
        organisation=tree.branch_a, is_branch_secretary=True, position="团支部书记", **kwargs
    )


def open_campaign(tree, *, electorate: int = 10, **kwargs) -> tuple[Campaign, list[str]]:
    secretary = kwargs.pop("secretary", None) or branch_secretary(tree)
    campaign = CampaignFactory(
        branch=tree.branch_a, secretary=secretary, electorate=electorate, **kwargs
    )
    codes = services.codes_generate(campaign=campaign, by=tree.county)
    return campaign, codes


def vote(code: str, campaign: Campaign, overall: str = "satisfied", comment: str = "") -> str:
    return services.ballot_cast(
        code=code,
        campaign_id=campaign.pk,
        overall=overall,
        aspects=["satisfied"] * len(campaign.aspects),
        comment=comment,
    )


def close_now(campaign: Campaign, by=None) -> Campaign:
    """Close as if the closing time had passed."""
    later = campaign.closes_at + datetime.timedelta(minutes=1)
    if by is None:
        return services.campaign_close(campaign=campaign, by=None, now=later)
    return services.campaign_close(campaign=campaign, by=by, now=timezone.now())
