"""python manage.py benchmark_scores [--prepare] [--period 2026Q3] [--rounds 2]

The performance requirement of the score (README, Assessment): at province scale the quarterly
computation through the task path (assessment.services.scores_compute: claim, one metrics
statement, ballots, upsert of every score, flags) must take at most 1.5×
one hand-written SQL statement computing the same components, measured here in the same run on
the same database, with the process's peak memory under 250 MB. Prints both times, the ratio and
the peak RSS. The dashboard's weekly contact statistics (contact_stats_compute, its own task
queued after the scores) are timed and printed separately, with the ratio including them.

--prepare (PostgreSQL only): if ContactYouth is nearly empty (the contacts seeder is another
app's), fill ~2.5M contacts with 2 linked youths each (~5M ContactYouth rows) over the last 365
days, in two server-side INSERT … SELECT generate_series statements.
"""

from __future__ import annotations

import resource
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from assessment import metrics, services
from assessment.models import ScoreRun
from assessment.periods import parse_period
from contacts.models import ContactYouth

N_CONTACTS = 2_500_000

PREPARE_SQL = [
    "CREATE TEMP TABLE bench_links AS SELECT row_number() OVER (ORDER BY id) AS rn, cadre_id, "
    "youth_id FROM cadres_cadreyouth",
    "CREATE UNIQUE INDEX ON bench_links (rn)",
    # A previous, interrupted preparation: its contacts are marked "bench:<link>" in the topic.
    "DELETE FROM contacts_contactyouth WHERE contact_id IN "
    "(SELECT id FROM contacts_contact WHERE topic LIKE 'bench:%%')",
    "DELETE FROM contacts_contact WHERE topic LIKE 'bench:%%'",
    """
INSERT INTO contacts_contact (cadre_id, date, channel, topic, notes, need_raised, help_given,
                              created_at, is_deleted)
SELECT bl.cadre_id, %(today)s::date - ((g * 31) %% 365)::int,
       (ARRAY['wechat','qq','phone','youth_voice','weibang','talk','visit','activity','meeting',
              'wechat'])[1 + g %% 10], 'bench:' || bl.rn, '', '', '', now(), false
FROM generate_series(1, %(n)s) g
JOIN bench_links bl ON bl.rn = 1 + ((g::bigint * 104729) %% (SELECT count(*) FROM bench_links))
""",
    """
INSERT INTO contacts_contactyouth (contact_id, youth_id, cadre_id, date, is_offline)
SELECT c.id, bl.youth_id, c.cadre_id, c.date, c.is_offline
FROM contacts_contact c
CROSS JOIN generate_series(0, 1) k
JOIN bench_links bl ON bl.rn = substr(c.topic, 7)::bigint + k
WHERE c.topic LIKE 'bench:%%' AND bl.cadre_id = c.cadre_id
ON CONFLICT DO NOTHING
""",
    "ANALYZE contacts_contact",
    "ANALYZE contacts_contactyouth",
    "ANALYZE cadres_cadreyouth",
]


def single_statement_sql() -> str:
    """The hand-written reference: the same components and score in one SELECT (default weights
    of the current policy; ballots are not on this database, so the ballot weight drops out)."""
    inner = metrics.metrics_sql().replace("ORDER BY cad.cadre_id", "")
    return f"""
SELECT m.*, ROUND(CAST(100.0 * (
         %(w_quota)s * LEAST(1.0, m.linked * 1.0 / m.quota)
       + %(w_reach)s * LEAST(1.0, m.reached * 1.0 / m.quota)
       + %(w_depth)s * CASE WHEN m.linked > 0 THEN LEAST(1.0, m.met_offline_year * 1.0 / m.linked) ELSE 0 END
       + %(w_diversity)s * LEAST(1.0, m.sectors * 1.0 / m.min_sectors)
       + %(w_responsiveness)s * CASE WHEN m.needs_due > 0 THEN m.needs_on_time * 1.0 / m.needs_due ELSE 1 END
       ) / (100 - %(w_ballot)s) AS numeric), 1) AS score
FROM (
  SELECT x.* FROM ({inner}) AS x(cadre_id, organisation_id, is_secretary, active_from, quota,
      min_sectors, linked, sectors, reached, met_offline_year, online_youths, converted_youths,
      last_contact, needs_due, needs_on_time, needs_overdue, needs_backlog)
) m
"""


class Command(BaseCommand):
    help = "活跃度计算性能测试：任务路径 与 一条手写 SQL 的用时之比，以及内存峰值"

    def add_arguments(self, parser):
        parser.add_argument("--prepare", action="store_true")
        parser.add_argument("--period", default=None)
        parser.add_argument("--rounds", type=int, default=2)

    def handle(self, *args, prepare: bool, period: str | None, rounds: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError("性能测试需要 PostgreSQL（DATABASE_URL=postgres://…）。")
        if prepare:
            self._prepare()
        today = timezone.localdate()
        p = (
            parse_period(period, today=today)
            if period
            else parse_period(f"{today.year}Q{(today.month - 1) // 3 + 1}", today=today).previous()
        )
        policy = services.policy_current()
        window = metrics.Window.for_period(p, today)
        params = {**window.params(), **{f"w_{k}": v for k, v in policy.weights().items()}}
        self.stdout.write(
            f"数据：{ContactYouth.objects.count():,} 条联系青年记录；时段 {p.code}（截至 {window.as_of}）"
        )
        with connection.cursor() as cursor:  # warm the cache once, untimed
            cursor.execute(single_statement_sql(), params)
            n_rows = len(cursor.fetchall())
        for r in range(1, rounds + 1):
            ScoreRun.objects.filter(period=p.code, policy=policy).delete()
            t0 = time.perf_counter()
            run = services.scores_compute(period=p, today=today, policy=policy)
            task_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(single_statement_sql(), params)
                rows = cursor.fetchall()
            sql_s = time.perf_counter() - t0
            assert len(rows) == n_rows == run.n_cadres, (len(rows), run.n_cadres)
            t0 = time.perf_counter()
            n_stats = services.contact_stats_compute(run=run, today=today)
            stats_s = time.perf_counter() - t0
            self.stdout.write(
                f"第 {r} 轮：活跃度计算（任务路径：锁定、统计、写入 {run.n_cadres} 条评分、预警）"
                f"{task_s:.2f} 秒；单条手写 SQL {sql_s:.2f} 秒；比值 {task_s / sql_s:.2f}。"
                f"另：看板的按周按方式联系统计（独立任务，{n_stats} 行）{stats_s:.2f} 秒，"
                f"含此步的总比值 {(task_s + stats_s) / sql_s:.2f}"
            )
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"进程内存峰值（RSS）：{peak_mb:.0f} MB")

    def _prepare(self) -> None:
        if ContactYouth.objects.count() > 1_000_000:
            self.stdout.write("已有足够的联系记录，跳过准备。")
            return
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            for sql in PREPARE_SQL:
                cursor.execute(sql, {"today": timezone.localdate(), "n": N_CONTACTS})
        self.stdout.write(
            f"已生成 {ContactYouth.objects.count():,} 条联系青年记录，用时 {time.perf_counter() - t0:.0f} 秒。"
        )
