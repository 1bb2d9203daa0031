"""python manage.py benchmark_vote [--members 300] [--window 20] [--hold-snapshot] [--keep]

A vote's server time and query count (issue 12: ≤ 100 ms and ≤ 20 queries on a 300-member
branch), as in production: every vote its own committed transaction through the real service
(surveys.services.ballot_cast), on the current database (PostgreSQL).

1. a throw-away committee, branch, secretary and superuser (names start with "投票基准"), a
   campaign of --members codes with its ballot box opened;
2. with --hold-snapshot, a second connection opens a REPEATABLE READ transaction and keeps its
   snapshot until the end: no row version any vote replaces may then be pruned anywhere in the
   cluster — the situation that made the per-row design slow (docs/ballot-anonymity.md);
3. the floor, in the same run: --window round trips of the vote's 7 statements as `SELECT 1`;
4. --window timed votes around 0, half and (members - 10) ballots cast, the others cast
   untimed in between; median, worst and queries per vote are printed for each point;
5. everything created is deleted at the end unless --keep.
"""

from __future__ import annotations

import datetime
import statistics
import time
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cadres.models import Cadre, CadreType, Organisation, User
from cadres.services import organisation_create
from surveys import campaigns, services
from surveys.models import Campaign

STATEMENTS_PER_VOTE = 7


class Command(BaseCommand):
    help = "投票性能测试：每票独立提交，报告中位数、最坏值和查询数"

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=300, help="团支部人数（投票码数）")
        parser.add_argument("--window", type=int, default=20, help="每个测量点计时的票数")
        parser.add_argument(
            "--hold-snapshot",
            action="store_true",
            help="另开一个连接保持旧快照，使任何旧行版本都不能被清理",
        )
        parser.add_argument("--keep", action="store_true", help="保留测试数据")

    def handle(self, *args, members: int, window: int, hold_snapshot: bool, keep: bool, **kw):
        if connection.vendor != "postgresql":
            raise CommandError("需要 PostgreSQL（DATABASE_URL=postgres://…）。")
        if not 3 * window <= members <= campaigns.MAX_ELECTORATE:
            raise CommandError(f"--members 应在 {3 * window} 到 {campaigns.MAX_ELECTORATE} 之间。")
        campaign, codes, rows = self._setup(members)
        holder = None
        try:
            if hold_snapshot:
                holder = connections.create_connection("default")
                with holder.cursor() as cursor:
                    cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                    cursor.execute("SELECT count(*) FROM surveys_ballotbox")
            self._report("floor (7 × SELECT 1)", *self._floor(window))
            half, last = members // 2, members - 10
            points = [(0, 0), (half - window // 2, half), (last - window // 2, last)]
            cast = 0
            for start, label in points:
                for code in codes[cast:start]:
                    self._vote(code, campaign)
                stats = self._timed(campaign, codes[start : start + window])
                cast = start + window
                self._report(f"vote at ~{label} of {members} cast", *stats)
        finally:
            if holder is not None:
                holder.close()
            if not keep:
                self._cleanup(campaign, rows)

    def _setup(self, members: int) -> tuple[Campaign, list[str], list]:
        tag = uuid.uuid4().hex[:6]
        committee = organisation_create(name=f"投票基准团委{tag}", kind=Organisation.Kind.TOWNSHIP)
        branch = organisation_create(
            name=f"投票基准团支部{tag}", kind=Organisation.Kind.BRANCH, parent=committee
        )
        by = User.objects.create_superuser(f"bench-vote-{tag}", password=uuid.uuid4().hex)
        secretary = Cadre.objects.create(
            name="投票基准书记",
            gender="F",
            organisation=branch,
            cadre_type=CadreType.PART_TIME,
            position="团支部书记",
            is_branch_secretary=True,
        )
        now = timezone.now()
        campaign = campaigns.campaign_create(
            branch=branch,
            secretary=secretary,
            year=now.year,
            electorate=members,
            opens_at=now - datetime.timedelta(hours=1),
            closes_at=now + datetime.timedelta(days=1),
            by=by,
        )
        codes = services.codes_generate(campaign=campaign, by=by)
        services.ballot_box_open(campaign=campaign, by=by)
        campaign.refresh_from_db()
        return campaign, codes, [secretary, by, branch, committee]

    def _vote(self, code: str, campaign: Campaign) -> None:
        services.ballot_cast(
            code=code,
            campaign_id=campaign.pk,
            overall="satisfied",
            aspects=["basic"] * len(campaign.aspects),
            comment="意见" * 40,
        )

    def _timed(self, campaign: Campaign, codes: list[str]) -> tuple[float, float, int]:
        timings, queries = [], []
        for code in codes:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                self._vote(code, campaign)
                timings.append(time.perf_counter() - started)
            queries.append(len(captured.captured_queries))
        return statistics.median(timings), max(timings), max(queries)

    def _floor(self, window: int) -> tuple[float, float, int]:
        timings = []
        with connection.cursor() as cursor:
            for _ in range(window):
                started = time.perf_counter()
                for _ in range(STATEMENTS_PER_VOTE):
                    cursor.execute("SELECT 1")
                    cursor.fetchone()
                timings.append(time.perf_counter() - started)
        return statistics.median(timings), max(timings), STATEMENTS_PER_VOTE

    def _report(self, label: str, median: float, worst: float, queries: int) -> None:
        self.stdout.write(
            f"{label}: median {median * 1000:.1f} ms, worst {worst * 1000:.1f} ms, "
            f"{queries} queries"
        )

    def _cleanup(self, campaign: Campaign, rows: list) -> None:
        Campaign.objects.filter(pk=campaign.pk).delete()  # box, codes, electors cascade
        for row in rows:
            type(row).objects.filter(pk=row.pk).delete()
