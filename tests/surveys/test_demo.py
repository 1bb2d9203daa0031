from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from surveys.models import Campaign, ReelectionProcedure

pytestmark = pytest.mark.django_db


def test_demo_has_campaigns_in_every_state():
    call_command("seed_demo", seed=2017, stdout=io.StringIO())
    campaigns = list(Campaign.objects.all())
    states = {(c.status, c.outcome) for c in campaigns}
    assert ("planned", "") in states and ("open", "") in states
    assert {("closed", "satisfied"), ("closed", "not_satisfied"), ("closed", "invalid")} <= states
    small = Campaign.objects.get(branch__name="双胜镇第3团支部")
    assert small.electorate == 3 and small.is_valid and not small.shows_counts
    assert ReelectionProcedure.objects.get().status == "in_progress"
    for campaign in campaigns:
        assert campaign.ballots.count() == campaign.codes.filter(used=True).count()
        if campaign.closed_at is not None:  # settled: only totals and the receipt list remain
            assert not campaign.ballots.exists() and not campaign.codes.exists()
            assert len(campaign.counted_receipts) == campaign.turnout
