from __future__ import annotations

import datetime
import re

from cadres.models import User
from surveys import services, settlement
from surveys.models import BallotBox, Campaign, ReelectionProcedure
from tests.surveys.helpers import sealed_ballots, used_codes


def test_demo_has_campaigns_in_every_state(demo_rows):
    campaigns = list(Campaign.objects.all())
    states = {(c.status, c.outcome) for c in campaigns}
    assert ("planned", "") in states and ("open", "") in states
    assert {("closed", "satisfied"), ("closed", "not_satisfied"), ("closed", "invalid")} <= states
    small = Campaign.objects.get(branch__name="双胜镇第3团支部")
    assert small.electorate == 3 and small.is_valid and not small.shows_counts
    assert ReelectionProcedure.objects.get().status == "in_progress"
    for campaign in campaigns:
        assert len(sealed_ballots(campaign)) == used_codes(campaign)
        if campaign.closed_at is not None:  # settled: only totals and the receipt list remain
            assert not BallotBox.objects.filter(campaign=campaign).exists()
            assert not campaign.codes.exists()
            assert len(campaign.counted_receipts) == campaign.turnout


def test_open_demo_campaign_settles_with_the_printed_shares(demo_rows):
    """The open demo campaign is sealed and the server keeps no share: the seed output is the
    only place its shares exist, and two of them must really count it."""
    campaign = Campaign.objects.get(branch__name="双胜镇第1团支部")
    assert campaign.status == "open" and campaign.is_sealed
    shares = re.findall(r"份额 \d: (\S+)", demo_rows)
    assert len(shares) == campaign.share_count == 3
    later = campaign.closes_at + datetime.timedelta(minutes=1)
    services.campaign_close(campaign=campaign, by=None, now=later)
    by = User.objects.get(username="county")
    settled = settlement.campaign_settle(campaign=campaign, shares=shares[1:], by=by, now=later)
    assert settled.closed_at is not None and settled.turnout == 11
    assert len(settled.counted_receipts) == 11
    assert not BallotBox.objects.filter(campaign=campaign).exists()
