"""Helpers for the surveys tests: a campaign on the tree's branch with generated codes and an
open ballot box, and closing + settlement with the scrutineers' shares."""

from __future__ import annotations

import datetime

from django.utils import timezone

from cadres.models import User
from surveys import services, settlement
from surveys.models import BallotBox, Campaign
from tests.factories import CadreFactory, CampaignFactory

# Campaign pk → share codes, as the scrutineers would hold them (the server keeps none).
SHARES: dict[int, list[str]] = {}


def branch_secretary(tree, **kwargs):
    kwargs.setdefault("name", "甲支书")
    return CadreFactory(
        organisation=tree.branch_a, is_branch_secretary=True, position="团支部书记", **kwargs
    )


def open_campaign(
    tree, *, electorate: int = 10, seal: bool = True, **kwargs
) -> tuple[Campaign, list[str]]:
    secretary = kwargs.pop("secretary", None) or branch_secretary(tree)
    campaign = CampaignFactory(
        branch=tree.branch_a, secretary=secretary, electorate=electorate, **kwargs
    )
    codes = services.codes_generate(campaign=campaign, by=tree.county)
    if seal:
        SHARES[campaign.pk] = services.ballot_box_open(campaign=campaign, by=tree.county)
        campaign.refresh_from_db()
    return campaign, codes


def vote(code: str, campaign: Campaign, overall: str = "satisfied", comment: str = "") -> str:
    return services.ballot_cast(
        code=code,
        campaign_id=campaign.pk,
        overall=overall,
        aspects=["satisfied"] * len(campaign.aspects),
        comment=comment,
    )


def sealed_ballots(campaign: Campaign) -> list[bytes]:
    """The ciphertexts in the campaign's box, in stored order ([] without a box)."""
    box = BallotBox.objects.filter(campaign_id=campaign.pk).first()
    return box.ciphertexts() if box is not None else []


def used_codes(campaign: Campaign) -> int:
    """How many code digests the campaign's box marks used (0 without a box)."""
    box = BallotBox.objects.filter(campaign_id=campaign.pk).first()
    return len(box.used_digests()) if box is not None else 0


def all_sealed_ballots() -> list[bytes]:
    """Every ciphertext in every box."""
    return [c for box in BallotBox.objects.all() for c in box.ciphertexts()]


def any_used_code() -> bool:
    return any(box.used_digests() for box in BallotBox.objects.all())


def _settler() -> User:
    user = User.objects.filter(is_superuser=True, username="scrutiny-admin").first()
    return user or User.objects.create_superuser("scrutiny-admin", password="x-unused-1")


def close_now(campaign: Campaign, by=None, *, shares: list[str] | None = None) -> Campaign:
    """End voting (as if the closing time had passed, or by staff) and settle with the first
    `threshold` shares. A settled campaign is returned as it is."""
    campaign.refresh_from_db()
    if campaign.closed_at is not None:
        return campaign
    later = campaign.closes_at + datetime.timedelta(minutes=1)
    if by is None:
        services.campaign_close(campaign=campaign, by=None, now=later)
        now = later
    else:
        services.campaign_close(campaign=campaign, by=by, now=timezone.now())
        now = timezone.now()
    if shares is None:
        shares = SHARES[campaign.pk][: campaign.share_threshold]
    return settlement.campaign_settle(
        campaign=campaign, shares=shares, by=by or _settler(), now=now
    )
