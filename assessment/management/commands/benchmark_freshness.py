"""python manage.py benchmark_freshness [--rate 50] [--seconds 600] [--debounce 20] [--celery]
    [--one-worker] [--plain-once]

Freshness at scale (issue 17 item 4): can the coalesced recomputation keep up with contact
logging? On the current database (PostgreSQL; the banner or province demo seed):

1. the plain scoring time of each current period: its whole recomputation as the nightly task
   has it done (a whole-period marker, then freshness.run_pending: at province scale the bounded
   steps of assessment/chunked.py one after another, here in-process; then the weekly
   statistics, which in production are their own task), after one warm-up (--plain-once: none);
2. for --seconds, --writers threads record contacts through the real service
   (contacts.services.contact_log, one linked youth each, random cadres) at --rate per second;
   every call goes through assessment.freshness.numbers_changed → mark the cadre touched and
   schedule after commit, exactly as in production; each call's statements are counted
   (queries per logged contact) and timed (time in the database vs. the whole call);
3. the runs:
   - with --celery (needs REDIS_URL), real Celery workers (`celery -A config worker --pool solo`,
     one run at a time each) are started as subprocesses on the broker, one per period kind's
     queue as in the deployment recipe (assessment/queues.py; --one-worker: a single worker
     for every queue, the earlier deployment), and the enqueue is the real
     `apply_async(countdown=…)`; each run's result (incremental or whole period, cadres,
     start, end, when its debounce began) is read from the workers' logs;
   - without, one worker thread stands in for it over an in-process delay queue;
   (BENCH_PLAIN_GIVEN=q,h,y in the environment: the plain times measured earlier, in the
   periods' order, instead of measuring them again: a province period's whole run takes
   minutes; the periods' runs must then already be of today, or the first one is whole);
4. after the logging stops, the queue drains; the report gives the contacts logged (and the
   rate achieved), runs per period (incremental / whole), run durations ÷ the plain scoring
   time, the wait after the debounce for the worker (per period), the queue length sampled
   every second (per minute: max), the load average beside it, where an incremental run's time
   went (its steps, median per period), the CPU seconds of the writers' process and of each
   worker, and change → stored number:
   for every logged contact, the end of the first run of each affected period that started
   after the contact committed (median / p95 / max over contacts, and per period);
5. a check: the stored scores and weekly statistics (with their subtree sums) of every current
   period equal those of a full recomputation (the incremental runs lost nothing).

The benchmark's contacts (topic "bench-fresh") are deleted at the end unless --keep, and the
current periods are recomputed once more so that the stored numbers match the registry again.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time
from bisect import bisect_right
from collections import defaultdict

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection
from django.test.utils import override_settings
from django.utils import timezone

from assessment import freshness, services
from assessment.freshness_bench import (
    CeleryRunner,
    Run,
    Statements,
    ThreadRunner,
    cpu_self,
    plain_run,
)
from assessment.models import (
    CadreScore,
    ChannelWeekStat,
    RecomputeClaim,
    TouchedCadre,
)
from assessment.models_subtree import SubtreeWeekStat
from assessment.queues import QUEUES as KIND_QUEUES
from cadres.models import Cadre, CadreYouth
from contacts.models import Contact, ContactYouth
from contacts.services import contact_log

TOPIC = "bench-fresh"


class Command(BaseCommand):
    help = "实时更新性能测试：按给定速率记录联系，合并重算能否跟上"

    def add_arguments(self, parser):
        parser.add_argument("--rate", type=float, default=50.0, help="每秒记录的联系数")
        parser.add_argument("--seconds", type=int, default=600, help="持续时间（秒）")
        parser.add_argument(
            "--debounce",
            type=int,
            default=None,
            help="合并等待时间（秒），默认取设置 LIANQING_FRESHNESS_DEBOUNCE_SECONDS",
        )
        parser.add_argument(
            "--writers", type=int, default=4, help="并发记录的线程数（相当于多个网页进程）"
        )
        parser.add_argument("--celery", action="store_true", help="启动真实的 Celery worker")
        parser.add_argument(
            "--one-worker",
            action="store_true",
            help="只启动一个 worker 处理所有队列（旧部署）；默认每类时段一个 worker",
        )
        parser.add_argument(
            "--plain-once",
            action="store_true",
            help="单独计算只做一次（不先预热），省时间",
        )
        parser.add_argument("--keep", action="store_true", help="保留测试写入的联系记录")

    def handle(
        self,
        *args,
        rate: float,
        seconds: int,
        debounce: int | None,
        writers: int,
        celery: bool,
        keep: bool,
        one_worker: bool = False,
        plain_once: bool = False,
        **options,
    ):
        if connection.vendor != "postgresql":
            raise CommandError("性能测试需要 PostgreSQL（DATABASE_URL=postgres://…）。")
        if celery and not settings.REDIS_URL:
            raise CommandError("--celery 需要 REDIS_URL（Celery 的消息队列）。")
        debounce = freshness.debounce_seconds() if debounce is None else debounce
        pairs = list(
            CadreYouth.objects.filter(cadre__active_until__isnull=True)
            .order_by("?")
            .values_list("cadre_id", "youth_id")[:20000]
        )
        if not pairs:
            raise CommandError("数据库中没有团干部与青年的联系：请先 seed_demo。")
        today = timezone.localdate()
        periods = freshness.affected_periods(today, today)
        self.stdout.write(
            f"数据：{Cadre.objects.count():,} 名团干部，{ContactYouth.objects.count():,} 条联系青年记录；"
            f"当前时段 {', '.join(periods)}；速率 {rate}/秒，持续 {seconds} 秒，合并等待 {debounce} 秒；"
            + (
                (
                    "真实 Celery worker（1 个，solo，处理所有队列）"
                    if one_worker
                    else "真实 Celery worker（每类时段一个，solo："
                    + "、".join(KIND_QUEUES.values())
                    + "）"
                )
                if celery
                else "进程内模拟 worker（1 个线程）"
            )
        )
        plain: dict[str, float] = {}
        given = [float(x) for x in os.environ.get("BENCH_PLAIN_GIVEN", "").split(",") if x]
        for code in periods:
            if given:  # measured earlier (a province period's whole run takes minutes)
                plain[code] = given[len(plain)]
                self.stdout.write(f"  单独计算 {code}：{plain[code]:.2f} 秒（先前测得，未重测）")
                continue
            if not plain_once:
                plain_run(code, today)  # warm
            load = os.getloadavg()[0]
            plain[code], parts = plain_run(code, today)
            self.stdout.write(
                f"  单独计算 {code}（如夜间任务：整期评分、预警、真实性核查"
                f"{'，分 ' + str(parts['steps']) + ' 步' if parts['steps'] > 1 else ''}；"
                f"再加每周统计）：{plain[code]:.2f} 秒（评分 {parts['scores']:.2f} 秒，"
                f"每周统计 {parts['stats']:.2f} 秒；负载 {load:.1f} → {os.getloadavg()[0]:.1f}）"
            )
        RecomputeClaim.objects.filter(period__in=periods).update(
            pending_since=None, running_since=None
        )
        TouchedCadre.objects.filter(period__in=periods).delete()

        commits: list[float] = []  # wall clock after each contact_log returned (committed)
        calls: list[tuple[int, float, float]] = []  # per contact: statements, call s, in-DB s
        idle = [0.0]  # seconds the writers slept waiting for their slot (not saturated)
        errors: list[str] = []
        stop_logging = threading.Event()
        count_lock = threading.Lock()
        slots = [0]

        def logger_thread(n: int, start_at: float) -> None:
            cadres = {c.pk: c for c in Cadre.objects.filter(pk__in={c for c, _ in pairs})}
            rnd = random.Random(17 + n)
            try:
                while not stop_logging.is_set():
                    with count_lock:  # the writers share one schedule of `rate` per second
                        slot = slots[0]
                        slots[0] += 1
                    delay = start_at + slot / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    cadre_id, youth_id = rnd.choice(pairs)
                    counter = Statements()
                    t0 = time.perf_counter()
                    # Everything the call sends, its after-commit marking and scheduling too.
                    with connection.execute_wrapper(counter):
                        contact_log(
                            cadre=cadres[cadre_id],
                            youths=[youth_id],
                            channel=rnd.choice(["wechat", "phone", "talk", "visit"]),
                            date=today,
                            topic=TOPIC,
                            by=None,
                        )
                    took = time.perf_counter() - t0
                    done = time.time()
                    with count_lock:
                        commits.append(done)
                        calls.append((counter.n, took, counter.seconds))
                        idle[0] += max(delay, 0.0)
            except Exception as exc:  # reported below
                errors.append(f"logger: {exc!r}")
            finally:
                close_old_connections()
                connection.close()

        with override_settings(LIANQING_FRESHNESS_DEBOUNCE_SECONDS=debounce):
            runner = (
                CeleryRunner(debounce, one_worker=one_worker)
                if celery
                else ThreadRunner(today, errors, periods)
            )
            runner.start()
            try:
                cpu_before = cpu_self()
                start_at = time.monotonic()
                loggers = [
                    threading.Thread(target=logger_thread, args=(n, start_at))
                    for n in range(writers)
                ]
                for t in loggers:
                    t.start()
                samples: list[int] = []
                loads: list[float] = []
                while time.monotonic() - start_at < seconds and not errors:
                    time.sleep(1)
                    samples.append(runner.queue_length())
                    loads.append(os.getloadavg()[0])
                stop_logging.set()
                for t in loggers:
                    t.join()
                elapsed = time.monotonic() - start_at
                writer_cpu = cpu_self() - cpu_before
                # Drain: the changes of the last debounce window still get their runs.
                deadline = time.monotonic() + debounce + 5 * max(plain.values()) + 60
                while time.monotonic() < deadline and (
                    runner.queue_length()
                    or RecomputeClaim.objects.filter(
                        period__in=periods, pending_since__isnull=False
                    ).exists()
                    or RecomputeClaim.objects.filter(
                        period__in=periods, running_since__isnull=False
                    ).exists()
                ):
                    time.sleep(1)
                    samples.append(runner.queue_length())
                    loads.append(os.getloadavg()[0])
            finally:
                worker_cpu = runner.cpu_seconds()
                runs = runner.stop()

        self._report(
            commits=commits,
            elapsed=elapsed,
            rate=rate,
            writers=writers,
            periods=periods,
            runs=runs,
            plain=plain,
            samples=samples,
            logging_seconds=seconds,
            debounce=debounce,
        )
        self._report_writers(
            calls=calls,
            idle=idle[0],
            elapsed=elapsed,
            writers=writers,
            writer_cpu=writer_cpu,
            worker_cpu=worker_cpu,
            loads=loads,
            logging_seconds=seconds,
        )
        for error in errors:
            self.stderr.write(error)
        for code in periods:
            self._check_against_full(code, today)
        if not keep:
            ContactYouth.objects.filter(contact__topic=TOPIC).delete()
            Contact.objects.filter(topic=TOPIC).delete()
            for code in periods:
                run = services.scores_compute(period=code, today=today)
                services.contact_stats_compute(run=run, today=today)
            TouchedCadre.objects.filter(period__in=periods).delete()
            RecomputeClaim.objects.filter(period__in=periods).update(pending_since=None)
            self.stdout.write("已删除测试联系记录并重新计算当前时段。")

    def _report(
        self,
        *,
        commits,
        elapsed,
        rate,
        writers,
        periods,
        runs,
        plain,
        samples,
        logging_seconds,
        debounce,
    ) -> None:
        self.stdout.write(
            f"记录联系 {len(commits):,} 条（{writers} 个并发线程），用时 {elapsed:.0f} 秒，"
            f"实际速率 {len(commits) / elapsed:.1f}/秒（目标 {rate}/秒）"
        )
        by_period: dict[str, list[Run]] = defaultdict(list)
        for run in sorted(runs, key=lambda r: r.started):
            by_period[run.period].append(run)
        for code in periods:
            rs = by_period.get(code, [])
            if not rs:
                self.stdout.write(f"  {code}：没有运行")
                continue
            durations = [r.seconds for r in rs]
            inc = [r for r in rs if r.incremental]
            self.stdout.write(
                f"  {code}：重算 {len(rs)} 次（增量 {len(inc)}，整期 {len(rs) - len(inc)}；"
                f"增量每次 {statistics.median([r.cadres or 0 for r in inc]) if inc else 0:.0f} 名团干部），"
                f"用时 中位 {statistics.median(durations):.2f} 秒 / 最长 {max(durations):.2f} 秒；"
                f"单独计算 {plain[code]:.2f} 秒；中位/单独 = {statistics.median(durations) / plain[code]:.2f}，"
                f"最长/单独 = {max(durations) / plain[code]:.2f}（目标 ≤ 2）"
            )
            steps: dict[str, list[float]] = defaultdict(list)
            for r in inc:
                for name, sec in (r.steps or {}).items():
                    steps[name].append(sec)
            if steps:
                self.stdout.write(
                    "    增量每次的各步骤用时（中位 / 最长，秒）："
                    + "，".join(
                        f"{name} {statistics.median(v):.2f} / {max(v):.2f}"
                        for name, v in sorted(steps.items(), key=lambda kv: -sum(kv[1]))
                    )
                )
            # Where a run's time went: the debounce (fixed), then waiting for the worker (a
            # run of the same queue, or the busy retry), then the run itself.
            waits = [r.started - r.pending - debounce for r in rs if r.pending is not None]
            if waits:
                self.stdout.write(
                    f"    合并等待 {debounce} 秒之后的排队：中位 {statistics.median(waits):.1f} 秒，"
                    f"最长 {max(waits):.1f} 秒"
                )
        per_minute = [max(samples[i : i + 60]) for i in range(0, len(samples), 60)]
        self.stdout.write(
            f"队列长度（已发出未完成的重算任务，每秒采样）：最大 {max(samples, default=0)}；"
            f"每分钟最大值 {per_minute}（记录 {logging_seconds} 秒后为排空阶段）"
        )
        # Change → stored number: the first run of the period that started after the commit.
        worst_per_change: list[float] = []
        per_period: dict[str, list[float]] = defaultdict(list)
        before_run: dict[str, list[float]] = defaultdict(list)
        missed = 0
        starts = {code: [r.started for r in by_period.get(code, [])] for code in periods}
        for t in commits:
            worst = 0.0
            for code in periods:
                i = bisect_right(starts[code], t)
                if i >= len(starts[code]):
                    missed += 1
                    continue
                latency = by_period[code][i].finished - t
                per_period[code].append(latency)
                before_run[code].append(by_period[code][i].started - t)
                worst = max(worst, latency)
            worst_per_change.append(worst)
        if worst_per_change:
            ordered = sorted(worst_per_change)
            p95 = ordered[int(0.95 * (len(ordered) - 1))]
            self.stdout.write(
                f"变动到数字更新（所有受影响时段都已更新）：中位 {statistics.median(ordered):.1f} 秒，"
                f"p95 {p95:.1f} 秒，最长 {ordered[-1]:.1f} 秒（目标 ≤ 60 秒）"
                + (f"；{missed} 次没有赶上任何运行" if missed else "")
            )
            for code in periods:
                values = sorted(per_period.get(code) or [0.0])
                waiting = before_run.get(code) or [0.0]
                self.stdout.write(
                    f"  {code}：中位 {statistics.median(values):.1f} 秒，"
                    f"p95 {values[int(0.95 * (len(values) - 1))]:.1f} 秒，最长 {values[-1]:.1f} 秒"
                    f"（其中等到运行开始：中位 {statistics.median(waiting):.1f} 秒）"
                )

    def _report_writers(
        self,
        *,
        calls,
        idle,
        elapsed,
        writers,
        writer_cpu,
        worker_cpu,
        loads,
        logging_seconds,
    ) -> None:
        """The writer side: is logging a contact cheap, and were the writers the bottleneck?"""
        if calls:
            counts = sorted(n for n, _, _ in calls)
            took = sorted(t for _, t, _ in calls)
            in_db = sorted(d for _, _, d in calls)
            busy = writers * elapsed - idle
            self.stdout.write(
                f"每条联系（contact_log 连同提交后的标记与排程）：语句 中位 "
                f"{statistics.median(counts):.0f} 条 / 最多 {counts[-1]}；用时 中位 "
                f"{statistics.median(took) * 1000:.1f} 毫秒，p95 "
                f"{took[int(0.95 * (len(took) - 1))] * 1000:.1f} 毫秒，其中在数据库中 中位 "
                f"{statistics.median(in_db) * 1000:.1f} 毫秒；写入线程忙碌 "
                f"{100 * busy / (writers * elapsed):.0f}%（其余时间在等下一个时间槽）；写入进程 CPU "
                f"{writer_cpu:.1f} 秒 = 每条 {1000 * writer_cpu / len(calls):.1f} 毫秒"
            )
        if worker_cpu:
            self.stdout.write(
                "worker CPU（秒）："
                + "，".join(f"{queue} {sec:.1f}" for queue, sec in worker_cpu.items())
            )
        if loads:
            per_minute = [round(max(loads[i : i + 60]), 1) for i in range(0, len(loads), 60)]
            self.stdout.write(
                f"负载（1 分钟平均，每分钟最大值）：{per_minute}；机器 {os.cpu_count()} 核"
            )

    def _check_against_full(self, code: str, today) -> None:
        """The stored rows after the incremental runs against a full recomputation: scores, and
        the weekly statistics with their subtree sums."""
        fields = [
            f.attname
            for f in CadreScore._meta.concrete_fields
            if f.name not in ("id", "computed_at")
        ]
        stat = ("organisation_id", "week", "channel", "contacts")
        before = set(CadreScore.objects.filter(period=code).values_list(*fields))
        weeks_before = set(ChannelWeekStat.objects.filter(run__period=code).values_list(*stat))
        sums_before = set(SubtreeWeekStat.objects.filter(run__period=code).values_list(*stat))
        # Padding detection is not part of an incremental run: left out (as the runs do).
        run = services.scores_compute(period=code, today=today, integrity=False)
        services.contact_stats_compute(run=run, today=today)
        after = set(CadreScore.objects.filter(period=code).values_list(*fields))
        weeks_after = set(ChannelWeekStat.objects.filter(run__period=code).values_list(*stat))
        sums_after = set(SubtreeWeekStat.objects.filter(run__period=code).values_list(*stat))
        differ = len(before ^ after) // 2
        weeks_differ = len(weeks_before ^ weeks_after)
        sums_differ = len(sums_before ^ sums_after)
        if differ or weeks_differ or sums_differ:
            self.stderr.write(
                f"增量重算后的 {code} 与整期重算不同！评分 {differ} 行，每周统计 "
                f"{weeks_differ} 行，下级合计 {sums_differ} 行"
            )
        else:
            self.stdout.write(
                f"核对：增量重算后的 {code} 评分与整期重算完全一致（{len(after):,} 行），"
                f"每周统计与下级合计也一致（{len(weeks_after):,} / {len(sums_after):,} 行）。"
            )
