"""Benchmarks of issue 12: settlement of a 2,000-member campaign ≤ 5 s; a vote ≤ 20 queries and
≤ 100 ms server time on a 300-member branch. Times are printed (-s) and asserted with the
issue's bounds.

The vote benchmark runs inside the test's one transaction, which is the worst case for dead row
versions: every version a vote replaces stays in the files (nothing deleted by a transaction
still in progress can be pruned), as on a server where some old snapshot is always open. The
one-box-row design does not visit them (docs/ballot-anonymity.md, "Cost of a vote"), so the
bound holds with a wide margin whatever the other sessions do; the figures at 0, 150 and 290
ballots cast are printed side by side so the growth with the box's size is visible."""

from __future__ import annotations

import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys import sealing, services, settlement
from surveys.models import BallotBox
from tests.surveys.helpers import SHARES, open_campaign, vote

pytestmark = pytest.mark.django_db

WINDOW = 20  # timed votes per measuring point (median over them)


def test_settlement_of_a_2000_member_campaign_takes_at_most_5_seconds(tree):
    campaign, codes = open_campaign(tree, electorate=2000)
    # The benchmark is the settlement: the ballots are sealed the same way and put into the box
    # in one go rather than through 2,000 calls of the vote service.
    ciphertexts = [
        sealing.ballot_seal(
            public_key=bytes(campaign.public_key),
            overall=("satisfied", "basic", "not_satisfied")[n % 3],
            aspects=["basic"] * len(campaign.aspects),
            comment="意见" * (n % 50),
        )
        for n in range(2000)
    ]
    used = sorted(bytes.fromhex(services.hash_code(c)) for c in codes)
    BallotBox.objects.filter(campaign=campaign).update(
        sealed=b"".join(ciphertexts), used=b"".join(used)
    )
    services.campaign_close(campaign=campaign, by=tree.county)
    started = time.perf_counter()
    settled = settlement.campaign_settle(
        campaign=campaign, shares=SHARES[campaign.pk][:2], by=tree.county
    )
    elapsed = time.perf_counter() - started
    print(f"\nsettlement of 2000 ballots: {elapsed:.2f} s")
    assert settled.turnout == 2000
    assert elapsed <= 5.0


def _timed(campaign, codes) -> tuple[float, float, int]:
    """(median, worst) seconds of ballot_cast and the most queries one vote issued."""
    timings, queries = [], []
    for code in codes:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            vote(code, campaign, comment="意见" * 40)
            timings.append(time.perf_counter() - started)
        queries.append(len(captured.captured_queries))
    return statistics.median(timings), max(timings), max(queries)


def test_a_vote_on_a_300_member_branch_takes_at_most_100_ms_and_20_queries(tree):
    campaign, codes = open_campaign(tree, electorate=300)
    points = {}
    # Timed windows centred on 0 (the floor: an empty box), 150 and 290 ballots cast.
    points[0] = _timed(campaign, codes[:WINDOW])
    for code in codes[WINDOW:140]:
        vote(code, campaign)
    points[150] = _timed(campaign, codes[140 : 140 + WINDOW])
    for code in codes[140 + WINDOW : 280]:
        vote(code, campaign)
    points[290] = _timed(campaign, codes[280:300])
    for cast, (median, worst, queries) in points.items():
        print(
            f"\nvote at ~{cast} of 300 cast: median {median * 1000:.1f} ms, "
            f"worst {worst * 1000:.1f} ms, {queries} queries (over {WINDOW} votes)"
        )
    assert len(BallotBox.objects.get(campaign=campaign).ciphertexts()) == 300
    assert all(queries <= 20 for _m, _w, queries in points.values())
    assert points[150][0] <= 0.1
    assert points[290][0] <= 0.1
