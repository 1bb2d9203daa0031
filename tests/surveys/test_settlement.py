"""Sealed ballots and settlement (issue 12, items 1, 2 and 4): the key, the shares, every kind of
bad share, lost shares, receipts as ciphertext hashes, rules frozen once the box is open."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from surveys import campaigns, sealing, selectors, services, settlement
from surveys.models import BallotBox, Campaign, VotingCode
from tests.surveys.helpers import (
    SHARES,
    all_sealed_ballots,
    close_now,
    open_campaign,
    sealed_ballots,
    used_codes,
    vote,
)

pytestmark = pytest.mark.django_db

MARKER = "标记意见-ZQX-"


def _ended(tree, n_votes=6, electorate=8, **kwargs):
    campaign, codes = open_campaign(tree, electorate=electorate, **kwargs)
    for n, code in enumerate(codes[:n_votes]):
        vote(code, campaign, overall="basic" if n % 2 else "satisfied", comment=f"{MARKER}{n}")
    services.campaign_close(campaign=campaign, by=tree.county)
    campaign.refresh_from_db()
    return campaign, codes


def _settle(campaign, shares, tree):
    return settlement.campaign_settle(campaign=campaign, shares=shares, by=tree.county)


def _assert_nothing_written(campaign, n_ballots):
    campaign.refresh_from_db()
    assert campaign.closed_at is None and campaign.outcome == "" and campaign.comments == []
    assert len(sealed_ballots(campaign)) == n_ballots
    assert used_codes(campaign) == n_ballots


# --- The key and the shares --------------------------------------------------------------------


@pytest.mark.parametrize("pair", [(0, 1), (1, 2), (2, 0), (2, 1)])
def test_any_two_of_three_shares_in_any_order_rebuild_the_key(pair):
    public, shares = sealing.key_create(threshold=2, count=3)
    key = sealing.key_rebuild(
        raw_shares=[shares[pair[0]], shares[pair[1]]], public_key=public, threshold=2
    )
    ciphertext = sealing.ballot_seal(
        public_key=public, overall="basic", aspects=["satisfied"], comment="好"
    )
    assert sealing.ballot_open(private_key=key, ciphertext=ciphertext) == (
        "basic",
        ["satisfied"],
        "好",
    )


def test_ciphertexts_have_one_length_whatever_the_comment():
    public, _ = sealing.key_create(threshold=2, count=3)
    lengths = {
        len(sealing.ballot_seal(public_key=public, overall="basic", aspects=[], comment=c))
        for c in ("", "短", "长" * 500, "😀" * 500, "\x01" * 500)
    }
    assert lengths == {sealing.PADDED_LENGTH + 48}


def test_two_sealings_of_one_ballot_differ():
    public, _ = sealing.key_create(threshold=2, count=3)
    a, b = (
        sealing.ballot_seal(public_key=public, overall="basic", aspects=[], comment="x")
        for _ in range(2)
    )
    assert a != b  # a fresh ephemeral key per ballot: equal votes do not look equal


def test_the_database_holds_no_plaintext_of_a_vote(tree):
    campaign, codes = open_campaign(tree)
    vote(codes[0], campaign, overall="not_satisfied", comment=MARKER + "SECRET")
    (ciphertext,) = all_sealed_ballots()
    blob = bytes(ciphertext)
    assert MARKER.encode() not in blob and b"not_satisfied" not in blob
    assert len(blob) == sealing.PADDED_LENGTH + 48
    # No other table of the app carries it either.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Campaign._meta.db_table}")
        assert MARKER not in repr(cursor.fetchall())


def test_votes_are_refused_until_the_ballot_box_is_open(tree):
    campaign, codes = open_campaign(tree, seal=False)
    with pytest.raises(services.VoteError, match="票箱尚未启用"):
        vote(codes[0], campaign)
    assert not all_sealed_ballots()


def test_ballot_box_opens_once(tree):
    campaign, _ = open_campaign(tree)
    with pytest.raises(ValidationError, match="不能再次生成"):
        services.ballot_box_open(campaign=campaign, by=tree.county)


# --- Settlement --------------------------------------------------------------------------------


def test_settlement_counts_publishes_receipts_and_deletes_ciphertexts(tree):
    campaign, codes = open_campaign(tree, electorate=8)
    receipts = [
        vote(code, campaign, overall="basic" if n % 2 else "satisfied", comment=f"{MARKER}{n}")
        for n, code in enumerate(codes[:6])
    ]
    services.campaign_close(campaign=campaign, by=tree.county)
    settled = _settle(campaign, [SHARES[campaign.pk][1], SHARES[campaign.pk][0]], tree)
    assert (settled.turnout, settled.n_satisfied, settled.n_basic) == (6, 3, 3)
    assert settled.outcome == "satisfied" and settled.is_valid
    assert sorted(settled.comments) == sorted(f"{MARKER}{n}" for n in range(6))
    assert settled.counted_receipts == sorted(receipts)
    assert not sealed_ballots(campaign)
    assert not BallotBox.objects.filter(campaign=campaign).exists()
    assert not VotingCode.objects.filter(campaign=campaign).exists()
    _, published = selectors.published_receipts(public_id=campaign.public_id)
    assert published == sorted(receipts)


def test_settlement_before_the_end_of_voting_is_refused(tree):
    campaign, codes = open_campaign(tree)
    vote(codes[0], campaign)
    with pytest.raises(ValidationError, match="投票尚未结束"):
        _settle(campaign, SHARES[campaign.pk][:2], tree)
    _assert_nothing_written(campaign, 1)


def test_settlement_twice_is_refused(tree):
    campaign, _ = _ended(tree)
    _settle(campaign, SHARES[campaign.pk][:2], tree)
    with pytest.raises(ValidationError, match="已经结算"):
        _settle(campaign, SHARES[campaign.pk][:2], tree)


def _mangle(share: str) -> str:
    text = sealing.normalise_symbols(share)
    swapped = text[:10] + ("A" if text[10] != "A" else "B") + text[11:]
    return swapped


def _forged(share: str, *, public_key: bytes) -> str:
    """A share with a valid checksum and this campaign's tag but a wrong value."""
    parsed = sealing.share_parse(share, position=1)
    body = bytes([sealing.SHARE_VERSION, parsed.index]) + parsed.tag + bytes(32)
    return sealing._encode(body + sealing._checksum(body))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda s, o, pk: [s[0]], "至少 2 名监票人"),
        (lambda s, o, pk: [s[0], ""], "至少 2 名监票人"),
        (lambda s, o, pk: [s[0], s[1][:-6]], "第 2 份：份额码应为 64 位"),
        (lambda s, o, pk: [_mangle(s[0]), s[1]], "第 1 份：份额码校验不通过"),
        (lambda s, o, pk: [s[0], s[0]], "同一张份额票签"),
        (lambda s, o, pk: [s[0], o[1]], "第 2 份：这不是本次测评的份额"),
        (lambda s, o, pk: [s[0], _forged(s[1], public_key=pk)], "不匹配"),
        (lambda s, o, pk: ["！＃", s[1]], "第 1 份：请输入份额码"),
        (lambda s, o, pk: ["ABC" * 30, s[1]], "第 1 份：份额码应为"),
    ],
    ids=[
        "one",
        "one-and-empty",
        "partial",
        "typo",
        "duplicate",
        "foreign",
        "forged",
        "junk",
        "too-long",
    ],
)
def test_bad_shares_are_refused_in_chinese_and_nothing_is_written(tree, make, message):
    campaign, _ = _ended(tree)
    other, _ = open_campaign(tree)
    shares = make(SHARES[campaign.pk], SHARES[other.pk], bytes(campaign.public_key))
    with pytest.raises(ValidationError, match=message):
        _settle(campaign, shares, tree)
    _assert_nothing_written(campaign, 6)
    # The right shares still work afterwards.
    assert _settle(campaign, SHARES[campaign.pk][1:], tree).turnout == 6


def test_shares_typed_in_lower_case_with_spaces_and_look_alikes_are_accepted(tree):
    campaign, _ = _ended(tree)
    share = SHARES[campaign.pk][0].lower().replace("-", " ").replace("0", "o")
    assert _settle(campaign, ["", share, SHARES[campaign.pk][2]], tree).closed_at is not None


def test_a_ballot_that_does_not_decrypt_aborts_the_whole_settlement(tree):
    campaign, _ = _ended(tree)
    other, codes = open_campaign(tree)
    vote(codes[0], other)
    (stray,) = sealed_ballots(other)
    box = BallotBox.objects.get(campaign=campaign)
    BallotBox.objects.filter(pk=box.pk).update(sealed=bytes(box.sealed) + stray)
    with pytest.raises(ValidationError, match="无法解密"):
        _settle(campaign, SHARES[campaign.pk][:2], tree)
    campaign.refresh_from_db()
    assert campaign.closed_at is None and campaign.outcome == "" and campaign.comments == []
    assert len(sealed_ballots(campaign)) == 7  # 6 own + the stray one
    assert used_codes(campaign) == 6


def test_small_group_comments_are_not_even_stored(tree):
    campaign, codes = open_campaign(tree, electorate=4)
    for code in codes:
        vote(code, campaign, comment=MARKER)
    settled = close_now(campaign)
    assert settled.turnout == 4 and settled.comments == []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Campaign._meta.db_table}")
        assert MARKER not in repr(cursor.fetchall())


# --- Lost shares -------------------------------------------------------------------------------


def test_lost_shares_below_quorum_stop_votes_and_settlement(tree, client):
    campaign, codes = open_campaign(tree)
    vote(codes[0], campaign)
    services.shares_lost_report(campaign=campaign, lost=1, by=tree.county)
    vote(codes[1], campaign)  # 2 of 3 left: still countable
    services.shares_lost_report(campaign=campaign, lost=2, by=tree.county)
    campaign.refresh_from_db()
    assert not campaign.countable
    with pytest.raises(services.VoteError, match="无法计票"):
        vote(codes[2], campaign)
    client.force_login(tree.county)
    detail = client.get(f"/surveys/campaigns/{campaign.pk}/")
    assert "本次测评无法计票" in detail.text
    assert "无法计票（份额遗失）" in client.get("/surveys/").text
    assert "无法计票" in client.get(URL_VOTE, {"code": codes[2]}).text
    services.campaign_close(campaign=campaign, by=tree.county)
    with pytest.raises(ValidationError, match="无法计票"):
        _settle(campaign, SHARES[campaign.pk][:2], tree)
    assert "无法计票" in client.get(f"/surveys/campaigns/{campaign.pk}/settle/").text


URL_VOTE = "/surveys/vote/"


def test_lost_shares_out_of_range_are_refused(tree):
    campaign, _ = open_campaign(tree)
    with pytest.raises(ValidationError, match="0 到 3"):
        services.shares_lost_report(campaign=campaign, lost=4, by=tree.county)


# --- Receipts (item 2) -------------------------------------------------------------------------


def test_a_voter_checks_their_receipt_after_settlement(client, tree):
    campaign, codes = open_campaign(tree)
    receipt = vote(codes[0], campaign)
    url = f"/surveys/receipts/{campaign.public_id}/"
    assert 'id="receipt-check"' not in client.get(url, {"r": receipt}).text  # not yet
    close_now(campaign)
    found = client.get(url, {"r": receipt.lower().replace("-", "")})
    assert "您的选票已计入" in found.text
    missing = client.get(url, {"r": "AAAA-BBBB-CCCC-DDDD-EEEE"})
    assert "没有找到这个回执码" in missing.text
    assert client.get(url, {"r": "％" * 300}).status_code == 200


# --- Rules frozen (item 4) ---------------------------------------------------------------------


def _update_kwargs(campaign, **overrides):
    kwargs = {
        "electorate": campaign.electorate,
        "opens_at": campaign.opens_at,
        "closes_at": campaign.closes_at,
        "aspects": list(campaign.aspects),
        "allow_comment": campaign.allow_comment,
        "quorum": (campaign.quorum_num, campaign.quorum_den),
        "not_satisfied": (campaign.not_satisfied_num, campaign.not_satisfied_den),
        "min_ballots_shown": campaign.min_ballots_shown,
    }
    kwargs.update(overrides)
    return kwargs


def _planned_sealed(tree):
    later = timezone.now() + datetime.timedelta(days=3)
    return open_campaign(tree, opens_at=later, closes_at=later + datetime.timedelta(days=7))[0]


@pytest.mark.parametrize(
    "change",
    [
        {"quorum": (1, 2)},
        {"not_satisfied": (1, 2)},
        {"aspects": ["另一项"]},
        {"allow_comment": False},
        {"min_ballots_shown": 9},
    ],
)
def test_rules_are_frozen_in_the_service_once_the_box_is_open(tree, change):
    campaign = _planned_sealed(tree)
    with pytest.raises(ValidationError, match="规则.*不能再修改"):
        campaigns.campaign_update(
            campaign=campaign, by=tree.county, **_update_kwargs(campaign, **change)
        )
    # Times may still move before the opening.
    later = campaign.closes_at + datetime.timedelta(days=1)
    campaigns.campaign_update(
        campaign=campaign, by=tree.county, **_update_kwargs(campaign, closes_at=later)
    )


@pytest.mark.parametrize(
    "column",
    [
        {"quorum_num": 1},
        {"not_satisfied_den": 2},
        {"aspects": []},
        {"allow_comment": False},
        {"min_ballots_shown": 50},
        {"share_threshold": 3},
        {"public_key": b"x" * 32},
    ],
)
def test_the_database_refuses_rule_changes_once_the_box_is_open(tree, column):
    campaign = _planned_sealed(tree)
    with pytest.raises(Exception, match="frozen"), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(**column)


def test_the_database_allows_other_updates_and_rules_before_the_box_opens(tree):
    campaign, _ = open_campaign(tree, seal=False)
    Campaign.objects.filter(pk=campaign.pk).update(min_ballots_shown=9, allow_comment=False)
    sealed = _planned_sealed(tree)
    Campaign.objects.filter(pk=sealed.pk).update(shares_lost=1)


def test_threshold_below_five_is_refused_everywhere(tree):
    later = timezone.now() + datetime.timedelta(days=3)
    campaign, _ = open_campaign(
        tree, seal=False, opens_at=later, closes_at=later + datetime.timedelta(days=7)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(min_ballots_shown=4)
    with pytest.raises(ValidationError, match="不能低于 5"):
        campaigns.campaign_update(
            campaign=campaign, by=tree.county, **_update_kwargs(campaign, min_ballots_shown=1)
        )
