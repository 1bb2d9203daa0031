"""PostgreSQL: row locks under real concurrency, and per-row transaction ids (xmin)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from surveys import sealing, services
from surveys.models import BallotBox, VotingCode
from tests.surveys.helpers import open_campaign, sealed_ballots, used_codes, vote

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(targets) -> list:
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def run(index, target):
        try:
            barrier.wait()
            results[index] = target()
        except services.VoteError as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_fifty_concurrent_submits_with_one_code_yield_exactly_one_ballot(tree):
    campaign, codes = open_campaign(tree, electorate=5)
    results = _race([lambda: vote(codes[0], campaign)] * 50)
    receipts = [r for r in results if isinstance(r, str)]
    errors = [r for r in results if isinstance(r, services.VoteError)]
    assert len(receipts) == 1 and len(errors) == 49, results
    assert all("已经使用过" in e.message for e in errors)
    assert len(sealed_ballots(campaign)) == 1
    assert used_codes(campaign) == 1


def test_concurrent_submits_with_different_codes_all_count(tree):
    campaign, codes = open_campaign(tree, electorate=6)
    results = _race([lambda c=c: vote(c, campaign) for c in codes])
    assert all(isinstance(r, str) for r in results), results
    assert len(sealed_ballots(campaign)) == 6
    assert used_codes(campaign) == 6


def test_fifty_concurrent_votes_with_fifty_codes_all_land_in_the_box(tree):
    """The box is read and rewritten whole by every vote: under the campaign lock no vote may
    overwrite another's ciphertext or used digest (a lost update would show as fewer)."""
    campaign, codes = open_campaign(tree, electorate=50)
    results = _race([lambda c=c: vote(c, campaign) for c in codes])
    receipts = [r for r in results if isinstance(r, str)]
    assert len(set(receipts)) == 50, results
    stored = sealed_ballots(campaign)
    assert sorted(sealing.receipt_for(c) for c in stored) == sorted(receipts)
    assert used_codes(campaign) == 50


def _xmins(sql: str, campaign_id: int) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign_id])
        return {row[0] for row in cursor.fetchall()}


def test_a_campaign_has_one_writer_and_votes_never_write_the_codes(tree):
    """xmin is the id of the transaction that wrote a row; per-vote xmins would give the casting
    order and pair each used code with its ballot. The codes keep the generation's xmin through
    the votes (a vote never writes them) and the box is one row: one writer, the last vote."""
    campaign, codes = open_campaign(tree, electorate=8)
    code_sql = f"SELECT DISTINCT xmin::text FROM {VotingCode._meta.db_table} WHERE campaign_id = %s"
    box_sql = f"SELECT xmin::text FROM {BallotBox._meta.db_table} WHERE campaign_id = %s"
    generated = _xmins(code_sql, campaign.pk)
    assert len(generated) == 1
    for code in codes[:5]:
        vote(code, campaign)
    assert _xmins(code_sql, campaign.pk) == generated
    box_writers = _xmins(box_sql, campaign.pk)
    assert len(box_writers) == 1 and box_writers != generated
    assert len(sealed_ballots(campaign)) == used_codes(campaign) == 5
