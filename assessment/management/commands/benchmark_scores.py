"""python manage.py benchmark_scores [--period 2026Q3] [--rounds 2] [--prepare]

The performance requirement of the score (issue 16): at province scale the whole chain the
nightly task runs for a period — scores (assessment.services.scores_compute: claim, one metrics
statement, ballots, upsert of every score), flags, and the dashboard's weekly contact statistics
(services.contact_stats_compute) — must take at most 1.3× a reference that computes the same
numbers with statements written independently of assessment/metrics.py, with the process's peak
memory under 150 MB. Prints both times, the ratio and the peak RSS, and fails loudly if the chain
and the reference disagree on any number.

1. untimed: if the period has no run yet, compute it once (committed), so that every timed round
   updates existing rows as the nightly rerun does; warm the cache with the reference once;
2. each round, inside a transaction that is rolled back at the end (the database is left as the
   real computation left it): the chain with flags forced on (a past quarter has them skipped
   when a later quarter exists) and a final run reopened (a closed quarter is otherwise frozen);
   then the two reference statements; then the comparison of every number.

--prepare (PostgreSQL only): if ContactYouth is nearly empty, fill ~2.5M contacts with 2 linked
youths each (~5M ContactYouth rows) over the last 365 days, server-side.
"""

from __future__ import annotations

import resource
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from assessment import metrics, services
from assessment.models import CadreScore, ScoreRun
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

# The reference for the scores, written from the definitions in assessment/scoring.py and not
# from metrics_sql: one aggregate CTE per component (each with its own COUNT(DISTINCT …) or
# FILTER), where metrics_sql folds every contact into one (cadre, youth) pass. The score uses the
# policy's weights without the ballot (compared only where the ballot does not apply), unrounded.
REFERENCE_SCORES_SQL = """
WITH active AS (
    SELECT c.id AS cadre_id, c.organisation_id, COALESCE(q.quota, 100) AS quota,
           COALESCE(q.min_sectors, 5) AS min_sectors
    FROM cadres_cadre c LEFT JOIN cadres_quotarule q ON q.cadre_type = c.cadre_type
    WHERE c.active_from <= %(as_of)s AND COALESCE(c.active_until, %(start)s) >= %(start)s
),
linked AS (
    SELECT l.cadre_id, COUNT(DISTINCT l.youth_id) AS n, COUNT(DISTINCT y.sector_id) AS sectors
    FROM cadres_cadreyouth l JOIN cadres_youth y ON y.id = l.youth_id
    WHERE l.linked_on <= %(as_of)s GROUP BY l.cadre_id
),
period_pairs AS (
    SELECT cadre_id, youth_id, bool_or(is_offline) AS offline, bool_or(NOT is_offline) AS online
    FROM contacts_contactyouth WHERE date BETWEEN %(start)s AND %(as_of)s
    GROUP BY cadre_id, youth_id
),
reached AS (
    SELECT p.cadre_id, COUNT(*) AS n FROM period_pairs p
    WHERE EXISTS (SELECT 1 FROM cadres_cadreyouth l WHERE l.cadre_id = p.cadre_id
                  AND l.youth_id = p.youth_id AND l.linked_on <= %(as_of)s)
    GROUP BY p.cadre_id
),
channels AS (
    SELECT cadre_id, COUNT(*) FILTER (WHERE online) AS online,
           COUNT(*) FILTER (WHERE online AND offline) AS converted
    FROM period_pairs GROUP BY cadre_id
),
met_offline AS (
    SELECT cy.cadre_id, COUNT(DISTINCT cy.youth_id) AS n
    FROM contacts_contactyouth cy
    JOIN cadres_cadreyouth l ON l.cadre_id = cy.cadre_id AND l.youth_id = cy.youth_id
                            AND l.linked_on <= %(as_of)s
    WHERE cy.is_offline AND cy.date BETWEEN %(year_start)s AND %(as_of)s
    GROUP BY cy.cadre_id
),
last_seen AS (
    SELECT cadre_id, MAX(date) AS d FROM contacts_contactyouth
    WHERE date BETWEEN %(scan_start)s AND %(as_of)s GROUP BY cadre_id
),
needs AS (
    SELECT owner_cadre_id AS cadre_id,
           COUNT(*) FILTER (WHERE due_date BETWEEN %(start)s AND %(as_of)s) AS due,
           COUNT(*) FILTER (WHERE due_date BETWEEN %(start)s AND %(as_of)s
                            AND (answered_at AT TIME ZONE %(tz)s)::date <= due_date) AS on_time,
           COUNT(*) FILTER (WHERE due_date BETWEEN %(start)s AND %(as_of)s
                            AND due_date < %(as_of)s AND status <> 'closed'
                            AND (answered_at IS NULL
                                 OR (answered_at AT TIME ZONE %(tz)s)::date > %(as_of)s)) AS overdue,
           COUNT(*) FILTER (WHERE due_date < %(start)s AND status <> 'closed'
                            AND (answered_at IS NULL
                                 OR (answered_at AT TIME ZONE %(tz)s)::date > %(as_of)s)) AS backlog
    FROM contacts_need WHERE owner_cadre_id IS NOT NULL GROUP BY owner_cadre_id
),
evidence AS (
    -- Youth-side evidence, from the definition in contacts/selectors.py (not its SQL): counted
    -- confirmations, attendance-derived contacts, needs a youth submitted, all in the period.
    SELECT cadre_id, youth_id FROM contacts_confirmation
    WHERE outcome = 'confirmed' AND NOT same_device AND contact_id IS NOT NULL
      AND day BETWEEN %(start)s AND %(as_of)s
    UNION
    SELECT cy.cadre_id, cy.youth_id FROM contacts_contactyouth cy
    JOIN contacts_contact c ON c.id = cy.contact_id
    WHERE c.activity_id IS NOT NULL AND cy.date BETWEEN %(start)s AND %(as_of)s
    UNION
    SELECT owner_cadre_id, youth_id FROM contacts_need
    WHERE source = 'public' AND youth_id IS NOT NULL AND owner_cadre_id IS NOT NULL
      AND (created_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(as_of)s
),
confirmed AS (
    SELECT p.cadre_id, COUNT(*) AS n FROM period_pairs p
    WHERE EXISTS (SELECT 1 FROM cadres_cadreyouth l WHERE l.cadre_id = p.cadre_id
                  AND l.youth_id = p.youth_id AND l.linked_on <= %(as_of)s)
      AND EXISTS (SELECT 1 FROM evidence e WHERE e.cadre_id = p.cadre_id
                  AND e.youth_id = p.youth_id)
    GROUP BY p.cadre_id
),
numbers AS (
    SELECT a.cadre_id, a.quota, a.min_sectors, COALESCE(l.n, 0) AS linked,
           COALESCE(l.sectors, 0) AS sectors, COALESCE(r.n, 0) AS reached,
           COALESCE(m.n, 0) AS met_offline_year, COALESCE(ch.online, 0) AS online_youths,
           COALESCE(ch.converted, 0) AS converted_youths, ls.d AS last_contact,
           COALESCE(n.due, 0) AS needs_due, COALESCE(n.on_time, 0) AS needs_on_time,
           COALESCE(n.overdue, 0) AS needs_overdue, COALESCE(n.backlog, 0) AS needs_backlog,
           COALESCE(cf.n, 0) AS confirmed_youths
    FROM active a
    LEFT JOIN linked l USING (cadre_id) LEFT JOIN reached r USING (cadre_id)
    LEFT JOIN channels ch USING (cadre_id) LEFT JOIN met_offline m USING (cadre_id)
    LEFT JOIN last_seen ls USING (cadre_id) LEFT JOIN needs n USING (cadre_id)
    LEFT JOIN confirmed cf USING (cadre_id)
)
SELECT cadre_id, linked, sectors, reached, met_offline_year, online_youths, converted_youths,
       last_contact, needs_due, needs_on_time, needs_overdue, needs_backlog, confirmed_youths,
       CAST(COALESCE(100.0 * (
           %(w_quota)s * CASE WHEN quota > 0 THEN LEAST(1.0, linked * 1.0 / quota) ELSE 0 END
         + %(w_reach)s * CASE WHEN quota > 0 THEN LEAST(1.0, reached * 1.0 / quota) ELSE 0 END
         + %(w_depth)s * CASE WHEN linked > 0
                              THEN LEAST(1.0, met_offline_year * 1.0 / linked) ELSE 0 END
         + %(w_diversity)s * CASE WHEN min_sectors > 0
                                  THEN LEAST(1.0, sectors * 1.0 / min_sectors) ELSE 0 END
         + %(w_responsiveness)s * CASE WHEN needs_due > 0
                                       THEN LEAST(1.0, needs_on_time * 1.0 / needs_due) ELSE 1 END
         + %(w_confirmed)s * CASE WHEN reached > 0
                                  THEN LEAST(1.0, confirmed_youths * 1.0 / reached) ELSE 0 END
       ) / NULLIF(100 - %(w_ballot)s, 0), 0) AS double precision) AS score
FROM numbers
"""

# The reference for the weekly statistics: contacts pre-aggregated per cadre, day and channel,
# then rolled up to organisation and ISO week by day arithmetic (metrics uses date_trunc over a
# join of every contact).
REFERENCE_STATS_SQL = """
SELECT c.organisation_id, d.day - (EXTRACT(ISODOW FROM d.day)::int - 1) AS week, d.channel,
       SUM(d.n)::int AS contacts
FROM (SELECT cadre_id, date AS day, channel, COUNT(*) AS n FROM contacts_contact
      WHERE NOT is_deleted AND date BETWEEN %(start)s AND %(as_of)s
      GROUP BY cadre_id, date, channel) d
JOIN cadres_cadre c ON c.id = d.cadre_id
GROUP BY 1, 2, 3
"""

NUMBER_FIELDS = [
    "linked",
    "sectors",
    "reached",
    "met_offline_year",
    "online_youths",
    "converted_youths",
    "last_contact",
    "needs_due",
    "needs_on_time",
    "needs_overdue",
    "needs_backlog",
    "confirmed_youths",
]


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "活跃度计算性能测试：夜间任务全链路（评分、预警、每周联系统计）与独立写成的参考 SQL 的用时之比，以及内存峰值"

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
        params = {
            **window.params(),
            **{f"w_{k}": v for k, v in policy.weights().items()},
            "tz": settings.TIME_ZONE,
        }
        self.stdout.write(
            f"数据：{ContactYouth.objects.count():,} 条联系青年记录；时段 {p.code}（截至 {window.as_of}）"
        )
        run = ScoreRun.objects.filter(period=p.code, policy=policy).first()
        if run is None:  # the timed rounds update existing rows, as the nightly rerun does
            run = services.scores_compute(period=p, today=today, policy=policy, flags=True)
            services.contact_stats_compute(run=run, today=today)
        with connection.cursor() as cursor:  # warm the cache once, untimed
            cursor.execute(REFERENCE_SCORES_SQL, params)
            cursor.fetchall()
        for r in range(1, rounds + 1):
            try:
                with transaction.atomic():
                    self._round(r, run, p, today, policy, params)
                    raise _Rollback
            except _Rollback:
                pass
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"进程内存峰值（RSS）：{peak_mb:.0f} MB（目标 ≤ 150 MB）")

    def _round(self, r: int, run: ScoreRun, p, today, policy, params) -> None:
        reopen = ScoreRun.objects.filter(pk=run.pk)
        reopen.update(is_final=False)
        t0 = time.perf_counter()
        run = services.scores_compute(period=p, today=today, policy=policy, flags=True)
        scores_s = time.perf_counter() - t0
        reopen.update(is_final=False)  # the statistics of a final run are frozen otherwise
        t0 = time.perf_counter()
        n_stats = services.contact_stats_compute(run=run, today=today)
        stats_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(REFERENCE_SCORES_SQL, params)
            ref_rows = cursor.fetchall()
        ref_scores_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            # Counted server-side: the chain does not ship its rows to Python either.
            cursor.execute(f"SELECT COUNT(*) FROM ({REFERENCE_STATS_SQL}) s", params)
            (n_ref_stats,) = cursor.fetchone()
        ref_stats_s = time.perf_counter() - t0

        self._check_scores(run, ref_rows)
        self._check_stats(run, params, n_stats, n_ref_stats)
        chain_s, ref_s = scores_s + stats_s, ref_scores_s + ref_stats_s
        self.stdout.write(
            f"第 {r} 轮：任务全链路 {chain_s:.2f} 秒（评分与预警 {scores_s:.2f}，"
            f"{run.n_cadres} 名团干部；每周联系统计 {stats_s:.2f}，{n_stats} 行）；"
            f"参考 SQL {ref_s:.2f} 秒（评分 {ref_scores_s:.2f}，统计 {ref_stats_s:.2f}）；"
            f"比值 {chain_s / ref_s:.2f}（目标 ≤ 1.3；仅评分 {scores_s / ref_scores_s:.2f}，"
            f"仅统计 {stats_s / ref_stats_s:.2f}）。两者数字一致。"
        )

    def _check_scores(self, run: ScoreRun, ref_rows: list[tuple]) -> None:
        stored = {
            row[0]: row[1:]
            for row in CadreScore.objects.filter(run=run).values_list(
                "cadre_id", *NUMBER_FIELDS, "score", "c_ballot"
            )
        }
        if len(stored) != len(ref_rows):
            raise CommandError(f"评分行数不一致：任务 {len(stored)}，参考 {len(ref_rows)}。")
        wrong = []
        for cadre_id, *numbers, score in ref_rows:
            mine = stored.get(cadre_id)
            if mine is None or list(mine[: len(NUMBER_FIELDS)]) != numbers:
                wrong.append((cadre_id, mine, numbers))
            # The stored score is rounded to 0.1; the reference is not rounded.
            elif mine[-1] is None and abs(float(mine[-2]) - score) > 0.05 + 1e-6:
                wrong.append((cadre_id, mine[-2], score))
        if wrong:
            raise CommandError(
                f"任务与参考 SQL 的数字不一致（{len(wrong)} 名团干部），例如：{wrong[:3]}"
            )

    def _check_stats(self, run: ScoreRun, params: dict, n_stats: int, n_ref: int) -> None:
        if n_stats != n_ref:
            raise CommandError(f"每周联系统计行数不一致：任务 {n_stats}，参考 {n_ref}。")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM (({REFERENCE_STATS_SQL}) EXCEPT ALL "
                "(SELECT organisation_id, week, channel, contacts "
                "FROM assessment_channelweekstat WHERE run_id = %(run)s)) d",
                {**params, "run": run.pk},
            )
            (differ,) = cursor.fetchone()
        if differ:
            raise CommandError(f"每周联系统计与参考 SQL 有 {differ} 行不一致。")

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
