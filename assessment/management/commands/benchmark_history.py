"""python manage.py benchmark_history [--period 2026Q4] [--rounds 3] [--add-years N]

Cost grows with the period, not with history (issue 16 item 4): times one quarter's whole chain
(scores + flags + weekly statistics, updating the existing rows, as the nightly run does) and
the metrics statement alone, on the current database. Run it on a one-year and a three-year
database and compare (docs/scaling.md).

1. untimed: the period computed once if it has no run yet, the statement warmed once;
2. each round inside a transaction rolled back at the end: scores_compute (flags forced),
   contact_stats_compute; then the metrics statement alone;
3. prints the median of the rounds and how many ContactYouth rows the database holds per year.

--add-years N (PostgreSQL): before timing, give the database N more years of history by copying
its contact logs (Contact and ContactYouth rows, new ids offset by k × 10^8) k = 1..N years back,
server-side. For a province database seeded with one year this is minutes, where
`seed_demo --scale province --years 3` is an hour on a busy 2-core machine; the copies have the
same rhythm and mix as the seeded year. Refused when the database already has copied rows.
"""

from __future__ import annotations

import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from assessment import metrics, services
from assessment.models import ScoreRun
from assessment.periods import parse_period, period_containing
from contacts.models import Contact, ContactYouth

OFFSET = 100_000_000


def _contact_columns() -> str:
    """Every stored column of Contact but the id, the date and the generated ones."""
    from django.db.models import GeneratedField

    return ", ".join(
        f.column
        for f in Contact._meta.concrete_fields
        if f.name not in ("id", "date") and not isinstance(f, GeneratedField)
    )


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "历史数据量对计算一个季度用时的影响（一年与三年历史对比）"

    def add_arguments(self, parser):
        parser.add_argument("--period", default=None)
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--add-years", type=int, default=0)

    def handle(self, *args, period: str | None, rounds: int, add_years: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError("性能测试需要 PostgreSQL（DATABASE_URL=postgres://…）。")
        if add_years:
            self._add_years(add_years)
        today = timezone.localdate()
        p = parse_period(period, today=today) if period else period_containing(today)
        window = metrics.Window.for_period(p, today)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXTRACT(YEAR FROM date)::int, COUNT(*) FROM contacts_contactyouth "
                "GROUP BY 1 ORDER BY 1"
            )
            years = cursor.fetchall()
        self.stdout.write(
            f"时段 {p.code}（截至 {window.as_of}）；联系青年记录按年："
            + "，".join(f"{y} 年 {n:,}" for y, n in years)
        )
        if not ScoreRun.objects.filter(period=p.code, policy=services.policy_current()).exists():
            run = services.scores_compute(period=p, today=today, flags=True)
            services.contact_stats_compute(run=run, today=today)
        metrics.cadre_metrics(window)  # warm
        chain, stats, statement = [], [], []
        for _ in range(rounds):
            try:
                with transaction.atomic():
                    t0 = time.perf_counter()
                    run = services.scores_compute(period=p, today=today, flags=True)
                    t1 = time.perf_counter()
                    services.contact_stats_compute(run=run, today=today)
                    t2 = time.perf_counter()
                    metrics.cadre_metrics(window)
                    t3 = time.perf_counter()
                    chain.append(t2 - t0)
                    stats.append(t2 - t1)
                    statement.append(t3 - t2)
                    raise _Rollback
            except _Rollback:
                pass
        self.stdout.write(
            f"{rounds} 轮中位数：全链路 {statistics.median(chain):.2f} 秒"
            f"（其中每周统计 {statistics.median(stats):.2f}），"
            f"指标语句单独 {statistics.median(statement):.2f} 秒；"
            f"各轮全链路 {', '.join(f'{c:.2f}' for c in chain)}"
        )

    def _add_years(self, n: int) -> None:
        if Contact.objects.filter(pk__gt=OFFSET).exists():
            raise CommandError("数据库中已有复制的历史联系记录（id > 1 亿），不再重复添加。")
        t0 = time.perf_counter()
        cols = _contact_columns()
        with transaction.atomic(), connection.cursor() as cursor:
            # The copies point at rows that exist (same cadres, youths, and their own contact
            # copies): the deferred FK checks of millions of rows only cost time (a first try
            # at province scale spent 25 min on one year's youth rows). Superuser only.
            cursor.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
            )
            if cursor.fetchone()[0]:
                cursor.execute("SET LOCAL session_replication_role = replica")
            for k in range(1, n + 1):
                cursor.execute(
                    f"INSERT INTO contacts_contact (id, date, {cols}) "
                    f"SELECT id + %(off)s, date - %(days)s, {cols} FROM contacts_contact "
                    "WHERE id < %(limit)s AND activity_id IS NULL",
                    {"off": k * OFFSET, "days": 365 * k, "limit": OFFSET},
                )
                cursor.execute(
                    "INSERT INTO contacts_contactyouth (id, contact_id, youth_id, cadre_id, date, "
                    "is_offline) SELECT cy.id + %(off)s, cy.contact_id + %(off)s, cy.youth_id, "
                    "cy.cadre_id, cy.date - %(days)s, cy.is_offline FROM contacts_contactyouth cy "
                    "JOIN contacts_contact c ON c.id = cy.contact_id "
                    "WHERE cy.id < %(limit)s AND c.activity_id IS NULL",
                    {"off": k * OFFSET, "days": 365 * k, "limit": OFFSET},
                )
                self.stdout.write(f"  已复制到 {k} 年前（{time.perf_counter() - t0:.0f} 秒）")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE contacts_contact")
            cursor.execute("ANALYZE contacts_contactyouth")
        self.stdout.write(
            f"添加 {n} 年历史：联系记录 {Contact.objects.count():,} 条，"
            f"联系青年 {ContactYouth.objects.count():,} 条，用时 {time.perf_counter() - t0:.0f} 秒"
        )
