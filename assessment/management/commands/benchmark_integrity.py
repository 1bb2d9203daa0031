"""python manage.py benchmark_integrity [--seed N] [--cadres N] [--period 2026Q3] [--repeat N]
   python manage.py benchmark_integrity --compare-scoring [--period 2026Q3] [--repeat N]

Padding detection measured, not asserted (issue 13):
1. build a banner-scale dataset in the CURRENT database (assessment/padding_bench.py): padding
   planted in a random 10 % of cadres (several patterns, varied intensity) and honest cadres
   with legitimately busy weeks; a previous benchmark dataset is replaced;
2. time the score run of the period without detection, then detection alone, side by side
   (same data, same connection, same process);
3. compare the flagged cadres with the answer key; print per-pattern recall, the honest busy
   weeks that were flagged, and last the line `recall R precision P false_flag_rate F`.

The period must be closed (default: the last closed quarter), so that "the last days" exist.

`--compare-scoring` builds nothing: on the data already in the database (the province seed, a
copy of production) it times the quarter's score run and the detection side by side, `--repeat`
times in alternation (the machine is shared: one pair is noise), and prints each pair, the
medians and their ratio — the issue's "detection ≤ 1× the scoring time".
"""

from __future__ import annotations

import statistics
import time
from collections import Counter

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from assessment import integrity, padding_bench, services
from assessment.models import ScoreRun
from assessment.periods import parse_period, period_containing
from config.forms import service_error_text


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = (
        "真实性核查基准测试：植入虚报的数据集上的召回率、精确率、误报率，以及与活跃度计算的用时对比"
    )

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--cadres", type=int, default=200)
        parser.add_argument("--period", default=None)
        parser.add_argument(
            "--compare-scoring",
            action="store_true",
            help="不生成数据：在当前数据库上对比活跃度计算与真实性核查的用时",
        )
        parser.add_argument("--repeat", type=int, default=1, help="交替计时的次数（取中位数）")

    def handle(self, *args, seed: int, cadres: int, period: str | None, **options):
        today = timezone.localdate()
        try:
            p = parse_period(period, today=today) if period else period_containing(today).previous()
        except ValidationError as exc:
            raise CommandError(service_error_text(exc)) from exc
        if p.kind != "quarter" or not p.is_closed(today):
            raise CommandError("请给出已经结束的季度，例如 2026Q3。")
        repeat = options.get("repeat", 1)
        if not 1 <= repeat <= 20:
            raise CommandError("--repeat 须在 1 到 20 之间。")
        if options.get("compare_scoring"):
            self._compare(p, today, repeat)
            return
        if cadres < 10:
            raise CommandError("至少 10 名团干部。")
        t0 = time.perf_counter()
        truth = padding_bench.build(seed=seed, n_cadres=cadres, period=p)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # As the nightly run finds them: vacuumed and analysed (autovacuum would, minutes
                # later); a rebuilt dataset otherwise leaves the previous one as dead rows that
                # every scan of the timed statements wades through.
                for table in (
                    "contacts_contact",
                    "contacts_contactyouth",
                    "contacts_need",
                    "contacts_confirmation",
                    "cadres_youth",
                    "cadres_cadreyouth",
                    "activities_registration",
                ):
                    # VACUUM cannot run in a transaction (a test's, a caller's): analyse only.
                    verb = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
                    cursor.execute(f"{verb} {table}")
        self.stdout.write(
            f"数据：{cadres} 名团干部（{len(truth.padded)} 名植入虚报），{truth.n_youths} 名青年，"
            f"{truth.n_contacts} 条联系记录；时段 {p.code}；生成 {time.perf_counter() - t0:.1f} 秒"
        )

        found, _total = self._compare(p, today, repeat)

        flagged = set(found) & set(truth.cadre_ids)
        per_pattern: Counter[str] = Counter()
        caught: Counter[str] = Counter()
        for cid, patterns in truth.padded.items():
            for pattern in patterns:
                per_pattern[pattern] += 1
                caught[pattern] += cid in flagged
        self.stdout.write(
            "各虚报方式的检出："
            + "，".join(f"{k} {caught[k]}/{per_pattern[k]}" for k in sorted(per_pattern))
        )
        missed = [cid for cid in truth.padded if cid not in flagged]
        if missed:
            self.stdout.write(
                "漏报：" + "；".join(f"{cid}({'+'.join(truth.padded[cid])})" for cid in missed)
            )
        false = [cid for cid in flagged if cid not in truth.padded]
        if false:
            self.stdout.write(
                "误报："
                + "；".join(
                    f"{cid}({'+'.join(truth.busy.get(cid, ['ordinary']))} → "
                    f"{';'.join(s.code for s in found[cid])})"
                    for cid in false
                )
            )
        signals = Counter(s.code for cid in flagged for s in found[cid])
        self.stdout.write("信号：" + "，".join(f"{k} {v}" for k, v in signals.most_common()))
        m = padding_bench.score(truth, flagged)
        self.stdout.write(
            f"recall {m['recall']:.2f} precision {m['precision']:.2f} "
            f"false_flag_rate {m['false_flag_rate']:.3f}"
        )

    def _compare(self, p, today, repeat: int):
        """Score run (without detection) and detection, timed in alternation `repeat` times on
        the same data, connection and process; inside a transaction rolled back, so the stored
        runs stay as they were. Returns the last detection and the number of cadres flagged."""
        policy = services.policy_current()
        thresholds = integrity.thresholds_of(policy)
        pairs: list[tuple[float, float]] = []
        found: dict = {}
        for _ in range(repeat):
            try:
                with transaction.atomic():
                    # A closed quarter's run is final and scores_compute would return at once:
                    # reopened here, inside the transaction rolled back below.
                    ScoreRun.objects.filter(period=p.code, policy=policy).update(is_final=False)
                    wall, t0 = timezone.now(), time.perf_counter()
                    run = services.scores_compute(
                        period=p, today=today, policy=policy, flags=True, integrity=False
                    )
                    scoring_s = time.perf_counter() - t0
                    if run.started_at is None or run.started_at < wall:  # timed nothing
                        raise CommandError(f"{p.code} 的活跃度没有重新计算，无法对比用时。")
                    t0 = time.perf_counter()
                    timings: dict[str, float] = {}
                    found = integrity.detect(
                        period=p, as_of=p.as_of(today), thresholds=thresholds, timings=timings
                    )
                    detect_s = time.perf_counter() - t0
                    raise _Rollback
            except _Rollback:
                pass
            pairs.append((scoring_s, detect_s))
            self.stdout.write(
                f"用时：活跃度计算 {scoring_s:.2f} 秒（{run.n_cadres} 名团干部），"
                f"真实性核查 {detect_s:.2f} 秒（比值 {detect_s / scoring_s:.2f}；"
                f"全库 {len(found)} 名团干部被标记）；各语句："
                + "，".join(f"{k} {v:.2f}" for k, v in timings.items())
            )
        scoring_m = statistics.median(s for s, _d in pairs)
        detect_m = statistics.median(d for _s, d in pairs)
        self.stdout.write(
            f"scoring_s {scoring_m:.3f} detection_s {detect_m:.3f} "
            f"ratio {detect_m / scoring_m:.2f} (median of {len(pairs)})"
        )
        return found, len(found)
