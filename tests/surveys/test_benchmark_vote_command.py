"""The vote benchmark command (surveys/management/commands/benchmark_vote.py) runs, reports
the floor and the three points with their query counts, and leaves nothing behind."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from cadres.models import Cadre, Organisation, User
from surveys.models import BallotBox, Campaign, VotingCode

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_benchmark_vote_reports_every_point_and_cleans_up():
    out = io.StringIO()
    call_command("benchmark_vote", members=60, window=20, hold_snapshot=True, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("floor")
    points = [re.search(r"~(\d+) of 60 cast: .* (\d+) queries", line) for line in lines[1:]]
    assert [int(m.group(1)) for m in points if m] == [0, 30, 50]
    assert all(int(m.group(2)) <= 20 for m in points if m)
    assert not Campaign.objects.exists() and not BallotBox.objects.exists()
    assert not VotingCode.objects.exists() and not Cadre.objects.exists()
    assert not User.objects.exists() and not Organisation.objects.exists()
