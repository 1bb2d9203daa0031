"""PostgreSQL: row locks under real concurrency, and per-row transaction ids (xmin)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from surveys import services
from surveys.models import Ballot, VotingCode
from tests.surveys.helpers import open_campaign, vote

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
    assert Ballot.objects.filter(campaign=campaign).count() == 1
    assert VotingCode.objects.filter(campaign=campaign, used=True).count() == 1


def test_concurrent_submits_with_different_codes_all_count(tree):
    campaign, codes = open_campaign(tree, electorate=6)
    results = _race([lambda c=c: vote(c, campaign) for c in codes])
    assert all(isinstance(r, str) for r in results), results
    assert Ballot.objects.filter(campaign=campaign).count() == 6
    assert VotingCode.objects.filter(campaign=campaign, used=True).count() == 6


def test_all_rows_of_a_campaign_carry_the_same_writing_transaction(tree):
    """xmin is the id of the transaction that wrote a row; per-vote xmins would give the casting
    order and pair each used code with its ballot. After the rewrite they are all the same."""
    campaign, codes = open_campaign(tree, electorate=8)
    for code in codes[:5]:
        vote(code, campaign)
    with connection.cursor() as cursor:
        xmins = set()
        for model in (Ballot, VotingCode):
            cursor.execute(
                f"SELECT DISTINCT xmin::text FROM {model._meta.db_table} WHERE campaign_id = %s",
                [campaign.pk],
            )
            xmins |= {row[0] for row in cursor.fetchall()}
    assert len(xmins) == 1
