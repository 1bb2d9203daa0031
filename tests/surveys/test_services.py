from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from config.celery_app import app as celery_app
from surveys import campaigns, sealing, selectors, services, settlement
from surveys.models import (
    AwardEligibility,
    Campaign,
    Outcome,
    ReelectionProcedure,
    VotingCode,
)
from tests.factories import UserFactory
from tests.surveys.helpers import (
    all_sealed_ballots,
    any_used_code,
    branch_secretary,
    close_now,
    open_campaign,
    sealed_ballots,
    used_codes,
    vote,
)

pytestmark = pytest.mark.django_db


def test_codes_are_long_random_and_stored_only_as_hashes(tree):
    campaign, codes = open_campaign(tree, electorate=12)
    assert len(codes) == len(set(codes)) == 12
    assert all(len(services.normalise_code(c)) == services.CODE_LENGTH for c in codes)
    stored = set(VotingCode.objects.filter(campaign=campaign).values_list("code_hash", flat=True))
    assert stored == {services.hash_code(c) for c in codes}
    for code in codes:
        assert not VotingCode.objects.filter(code_hash__icontains=services.normalise_code(code))


def test_codes_cannot_be_regenerated_after_a_vote(tree):
    campaign, codes = open_campaign(tree)
    vote(codes[0], campaign)
    with pytest.raises(ValidationError, match="已经有人投票"):
        services.codes_generate(campaign=campaign, by=tree.county)


def test_regenerating_codes_voids_the_old_ones(tree):
    campaign, codes = open_campaign(tree)
    services.codes_generate(campaign=campaign, by=tree.county)
    with pytest.raises(services.VoteError, match="投票码不正确"):
        vote(codes[0], campaign)


def test_vote_consumes_code_and_returns_receipt(tree):
    campaign, codes = open_campaign(tree)
    receipt = vote(codes[0].lower().replace("-", " "), campaign)
    # The receipt is the hash of the stored ciphertext.
    (ciphertext,) = sealed_ballots(campaign)
    assert receipt == sealing.receipt_for(ciphertext) and len(receipt) == 24
    assert used_codes(campaign) == 1
    with pytest.raises(services.VoteError, match="已经使用过"):
        vote(codes[0], campaign)
    assert len(sealed_ballots(campaign)) == 1


@pytest.mark.parametrize(
    "shift,message",
    [
        ({"opens_at": 1, "closes_at": 2}, "尚未开始"),
        ({"opens_at": -3, "closes_at": -1}, "已经结束"),
    ],
)
def test_vote_outside_the_window_is_refused(tree, shift, message):
    now = timezone.now()
    campaign, codes = open_campaign(tree)
    Campaign.objects.filter(pk=campaign.pk).update(
        opens_at=now + datetime.timedelta(days=shift["opens_at"]),
        closes_at=now + datetime.timedelta(days=shift["closes_at"]),
    )
    with pytest.raises(services.VoteError, match=message):
        vote(codes[0], campaign)
    assert not all_sealed_ballots()


def test_code_of_another_campaign_is_refused(tree):
    campaign, codes = open_campaign(tree)
    other, other_codes = open_campaign(tree)
    with pytest.raises(services.VoteError, match="不属于本次测评"):
        vote(other_codes[0], campaign)
    assert not any_used_code()


def test_missing_aspect_answer_is_refused_and_code_stays_unused(tree):
    campaign, codes = open_campaign(tree)
    with pytest.raises(services.VoteError, match="每一项"):
        services.ballot_cast(
            code=codes[0], campaign_id=campaign.pk, overall="satisfied", aspects=["satisfied"]
        )
    assert not any_used_code()


def test_close_valid_satisfied_records_award_eligibility(tree):
    campaign, codes = open_campaign(tree, electorate=9)
    for code, answer in zip(
        codes[:6], ["satisfied"] * 3 + ["basic"] + ["not_satisfied"] * 2, strict=False
    ):
        vote(code, campaign, overall=answer)
    campaign = close_now(campaign)
    assert campaign.turnout == 6 and campaign.is_valid  # 6 ≥ 2/3 · 9
    # 2 不满意 of 6 valid is not MORE than a third: satisfied.
    assert campaign.outcome == Outcome.SATISFIED
    assert campaign.satisfaction_rate == Decimal("66.7")
    assert AwardEligibility.objects.filter(cadre=campaign.secretary, year=campaign.year).exists()
    assert selectors.secretary_outcomes(year=campaign.year) == {campaign.secretary_id: "satisfied"}


def test_close_not_satisfied_opens_reelection(tree):
    campaign, codes = open_campaign(tree, electorate=9)
    for code, answer in zip(codes[:6], ["satisfied"] * 3 + ["not_satisfied"] * 3, strict=False):
        vote(code, campaign, overall=answer)
    campaign = close_now(campaign)
    assert campaign.outcome == Outcome.NOT_SATISFIED
    procedure = ReelectionProcedure.objects.get(campaign=campaign)
    assert procedure.status == ReelectionProcedure.Status.TODO
    settlement.reelection_update(
        procedure=procedure, status="in_progress", notes="已约谈", by=tree.county
    )
    procedure.refresh_from_db()
    assert procedure.status == "in_progress" and procedure.updated_by == tree.county


def test_close_below_quorum_is_invalid(tree):
    campaign, codes = open_campaign(tree, electorate=9)
    for code in codes[:5]:  # 5 < 6 = ceil(2/3 · 9)
        vote(code, campaign)
    campaign = close_now(campaign)
    assert campaign.quorum_needed == 6
    assert not campaign.is_valid and campaign.outcome == Outcome.INVALID
    assert not AwardEligibility.objects.exists() and not ReelectionProcedure.objects.exists()


def test_configurable_thresholds(tree):
    campaign, codes = open_campaign(
        tree, electorate=10, quorum_num=1, quorum_den=2, not_satisfied_num=1, not_satisfied_den=4
    )
    for code, answer in zip(codes[:5], ["satisfied"] * 3 + ["not_satisfied"] * 2, strict=False):
        vote(code, campaign, overall=answer)
    campaign = close_now(campaign)
    assert campaign.is_valid  # 5 ≥ 1/2 · 10
    assert campaign.outcome == Outcome.NOT_SATISFIED  # 2 > 1/4 · 5


def test_close_is_idempotent_and_counts_match(tree):
    campaign, codes = open_campaign(tree, electorate=8)
    for code in codes[:7]:
        vote(code, campaign)
    first = close_now(campaign)
    again = close_now(campaign)
    assert first.closed_at == again.closed_at
    integrity = selectors.campaign_integrity(campaign=campaign)
    _, published = selectors.published_receipts(public_id=campaign.public_id)
    assert integrity["ballots"] == integrity["used"] == 7
    assert len(published) == 7 and published == sorted(published)


def test_receipts_not_published_while_open(tree):
    campaign, codes = open_campaign(tree)
    vote(codes[0], campaign)
    _, published = selectors.published_receipts(public_id=campaign.public_id)
    assert published == []


def test_close_due_campaigns_closes_only_past_ones(tree):
    due, codes = open_campaign(tree)
    running, _ = open_campaign(tree)
    Campaign.objects.filter(pk=due.pk).update(
        opens_at=timezone.now() - datetime.timedelta(2),
        closes_at=timezone.now() - datetime.timedelta(1),
    )
    assert services.close_due_campaigns() == 1
    assert services.close_due_campaigns() == 0
    due.refresh_from_db()
    running.refresh_from_db()
    # Voting ended; counting waits for the scrutineers.
    assert due.voting_closed_at is not None and due.closed_at is None and due.outcome == ""
    assert due.status == Campaign.Status.DUE and running.voting_closed_at is None


def test_small_group_comments_hidden_and_large_group_shuffled(tree):
    small, codes = open_campaign(tree, electorate=3)
    for code in codes:
        vote(code, small, comment="意见")
    small = close_now(small)
    assert small.is_valid and not small.shows_counts
    assert selectors.campaign_comments(campaign=small) == []

    large, codes = open_campaign(tree, electorate=6)
    for n, code in enumerate(codes):
        vote(code, large, comment=f"意见{n}")
    large = close_now(large)
    assert large.shows_counts
    assert sorted(selectors.campaign_comments(campaign=large)) == [f"意见{n}" for n in range(6)]


def test_secretary_outcomes_latest_closed_campaign_and_filter(tree):
    secretary = branch_secretary(tree)
    first, codes = open_campaign(tree, electorate=3, secretary=secretary)
    close_now(first)  # invalid: nobody voted
    second, codes = open_campaign(tree, electorate=3, secretary=secretary)
    for code in codes:
        vote(code, second)
    Campaign.objects.filter(pk=second.pk).update(
        closes_at=first.closes_at + datetime.timedelta(days=1)
    )
    second.refresh_from_db()
    close_now(second)
    open_campaign(tree)  # open campaigns are not outcomes
    year = first.year
    assert selectors.secretary_outcomes(year=year) == {secretary.pk: "satisfied"}
    assert selectors.secretary_outcomes(year=year, cadre_ids=[tree.cadre.pk]) == {}
    assert selectors.secretary_outcomes(year=year - 1) == {}


def test_only_staff_above_the_branch_may_create(tree):
    secretary = branch_secretary(tree)
    branch_staff = UserFactory(organisation=tree.branch_a, role="staff")
    now = timezone.now()
    kwargs = {
        "branch": tree.branch_a,
        "secretary": secretary,
        "year": now.year,
        "electorate": 10,
        "opens_at": now,
        "closes_at": now + datetime.timedelta(days=3),
    }
    for user in (branch_staff, tree.outsider, tree.cadre_user):
        with pytest.raises(ValidationError):
            campaigns.campaign_create(by=user, **kwargs)
    assert campaigns.campaign_create(by=tree.owner, **kwargs).pk


def test_secretary_cannot_run_own_campaign(tree):
    secretary = branch_secretary(tree, user=UserFactory(organisation=tree.town_a, role="staff"))
    now = timezone.now()
    with pytest.raises(ValidationError):
        campaigns.campaign_create(
            branch=tree.branch_a,
            secretary=secretary,
            year=now.year,
            electorate=10,
            opens_at=now,
            closes_at=now + datetime.timedelta(days=3),
            by=secretary.user,
        )


def test_beat_task_closes_due_campaigns_and_is_scheduled(tree, settings):
    from surveys.tasks import close_due_campaigns

    campaign, _ = open_campaign(tree)
    Campaign.objects.filter(pk=campaign.pk).update(
        opens_at=timezone.now() - datetime.timedelta(2),
        closes_at=timezone.now() - datetime.timedelta(1),
    )
    assert close_due_campaigns.delay().get() == 1
    assert close_due_campaigns.delay().get() == 0
    entry = celery_app.conf.beat_schedule["surveys-close-due-campaigns"]
    assert entry["task"] == close_due_campaigns.name
