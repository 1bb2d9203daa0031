"""Migration 0005 (one box row per campaign) carries the sealed ballots of a campaign in progress
over, both ways (PostgreSQL: its DDL is transactional, so the test's transaction undoes it)."""

from __future__ import annotations

import hashlib
import os

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import CampaignFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

BEFORE = [("surveys", "0004_roster_reelection_result")]
AFTER = [("surveys", "0005_ballot_box")]


def _migrate(targets):
    # Rows written in this transaction leave deferred foreign-key checks pending, and
    # PostgreSQL refuses to alter a table with pending checks: run them first.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_a_campaign_in_progress_keeps_its_ballots_and_used_codes_across_0005():
    campaign = CampaignFactory(public_key=os.urandom(32))
    settled = CampaignFactory(public_key=os.urandom(32))
    old = _migrate(BEFORE)
    Ballot = old.get_model("surveys", "Ballot")
    VotingCode = old.get_model("surveys", "VotingCode")
    ciphertexts = [os.urandom(2096) for _ in range(5)]
    for ciphertext in ciphertexts:
        Ballot.objects.create(campaign_id=campaign.pk, ciphertext=ciphertext)
    hashes = [hashlib.sha256(f"code{n}".encode()).hexdigest() for n in range(8)]
    for n, code_hash in enumerate(hashes):
        VotingCode.objects.create(campaign_id=campaign.pk, code_hash=code_hash, used=n < 5)
    old.get_model("surveys", "Campaign").objects.filter(pk=settled.pk).update(
        closed_at=settled.closes_at
    )

    new = _migrate(AFTER)
    BallotBox = new.get_model("surveys", "BallotBox")
    box = BallotBox.objects.get(campaign_id=campaign.pk)
    sealed = bytes(box.sealed)
    assert sorted(sealed[i : i + 2096] for i in range(0, len(sealed), 2096)) == sorted(ciphertexts)
    assert bytes(box.used) == b"".join(sorted(bytes.fromhex(h) for h in hashes[:5]))
    assert not BallotBox.objects.filter(campaign_id=settled.pk).exists()
    assert (
        new.get_model("surveys", "VotingCode").objects.filter(campaign_id=campaign.pk).count() == 8
    )

    back = _migrate(BEFORE)
    assert sorted(
        bytes(c)
        for c in back.get_model("surveys", "Ballot")
        .objects.filter(campaign_id=campaign.pk)
        .values_list("ciphertext", flat=True)
    ) == sorted(ciphertexts)
    used = back.get_model("surveys", "VotingCode").objects.filter(used=True)
    assert sorted(used.values_list("code_hash", flat=True)) == sorted(hashes[:5])
    _migrate(AFTER)
