"""python manage.py benchmark_freshness [--rate 50] [--seconds 600] [--debounce 45] [--keep]

Freshness at scale (issue 17 item 4): can the coalesced recomputation keep up with contact
logging? On the current database (PostgreSQL; the banner or province demo seed):

1. the plain scoring time of each current period (services.scores_compute, warm, once);
2. for --seconds, a logger thread records contacts through the real service
   (contacts.services.contact_log, one linked youth each) at --rate per second; every call goes
   through assessment.freshness.numbers_changed → schedule after commit, exactly as in
   production, except that the Celery enqueue is replaced by an in-process delay queue;
3. one worker thread (one Celery worker, one run at a time) takes due runs off that queue and
   runs assessment.freshness.run_pending, as the task does;
4. after the logging stops, the queue drains; the report gives the contacts logged (and the
   rate achieved), runs per period, run durations against the plain scoring time, the longest
   queue, and the worst staleness (a change's commit → the end of the run that includes it).

The benchmark's contacts (topic "bench-fresh") are deleted at the end unless --keep, and the
current periods are recomputed once more so that the stored numbers match the registry again.
"""

from __future__ import annotations

import heapq
import random
import statistics
import threading
import time
from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection
from django.test.utils import override_settings
from django.utils import timezone

from assessment import freshness, services
from assessment.models import RecomputeClaim
from cadres.models import Cadre, CadreYouth
from contacts.models import Contact, ContactYouth
from contacts.services import contact_log

TOPIC = "bench-fresh"


class DelayQueue:
    """Stands in for the broker: (eta, period) entries, popped when due."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._lock = threading.Condition()
        self.max_len = 0

    def put(self, period: str, countdown: float) -> None:
        with self._lock:
            heapq.heappush(self._heap, (time.monotonic() + countdown, period))
            self.max_len = max(self.max_len, len(self._heap))
            self._lock.notify()

    def pop_due(self, stop: threading.Event) -> str | None:
        with self._lock:
            while not stop.is_set():
                if self._heap and self._heap[0][0] <= time.monotonic():
                    return heapq.heappop(self._heap)[1]
                wait = self._heap[0][0] - time.monotonic() if self._heap else 0.5
                self._lock.wait(timeout=max(0.01, min(wait, 0.5)))
            return None

    def __len__(self) -> int:
        with self._lock:
            return len(self._heap)


class Command(BaseCommand):
    help = "实时更新性能测试：按给定速率记录联系，合并重算能否跟上"

    def add_arguments(self, parser):
        parser.add_argument("--rate", type=float, default=50.0, help="每秒记录的联系数")
        parser.add_argument("--seconds", type=int, default=600, help="持续时间（秒）")
        parser.add_argument("--debounce", type=int, default=45, help="合并等待时间（秒）")
        parser.add_argument(
            "--writers", type=int, default=4, help="并发记录的线程数（相当于多个网页进程）"
        )
        parser.add_argument("--keep", action="store_true", help="保留测试写入的联系记录")

    def handle(
        self, *args, rate: float, seconds: int, debounce: int, writers: int, keep: bool, **options
    ):
        if connection.vendor != "postgresql":
            raise CommandError("性能测试需要 PostgreSQL（DATABASE_URL=postgres://…）。")
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
            f"当前时段 {', '.join(periods)}；速率 {rate}/秒，持续 {seconds} 秒，合并等待 {debounce} 秒"
        )
        plain = {}
        for code in periods:
            services.scores_compute(period=code, today=today)  # warm
            # What one run does: the scores, then the dashboard's weekly statistics.
            t0 = time.perf_counter()
            run = services.scores_compute(period=code, today=today)
            services.contact_stats_compute(run=run, today=today)
            plain[code] = time.perf_counter() - t0
            self.stdout.write(f"  单独计算 {code}：{plain[code]:.2f} 秒")
        RecomputeClaim.objects.filter(period__in=periods).update(
            pending_since=None, running_since=None
        )

        queue = DelayQueue()
        stop_logging, stop_worker = threading.Event(), threading.Event()
        runs: dict[str, list[float]] = defaultdict(list)
        staleness: list[float] = []
        logged = [0]  # slots handed out
        done = [0]  # contacts committed
        errors: list[str] = []

        def fake_enqueue(code: str, countdown: int) -> bool:
            queue.put(code, countdown)
            return True

        count_lock = threading.Lock()

        def logger_thread(n: int):
            cadres = {c.pk: c for c in Cadre.objects.filter(pk__in={c for c, _ in pairs})}
            rnd = random.Random(17 + n)
            try:
                while not stop_logging.is_set():
                    with count_lock:  # the writers share one schedule of `rate` per second
                        slot = logged[0]
                        logged[0] += 1
                    due = start_at + slot / rate
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    cadre_id, youth_id = rnd.choice(pairs)
                    contact_log(
                        cadre=cadres[cadre_id],
                        youths=[youth_id],
                        channel=rnd.choice(["wechat", "phone", "talk", "visit"]),
                        date=today,
                        topic=TOPIC,
                        by=None,
                    )
                    with count_lock:
                        done[0] += 1
            except Exception as exc:  # reported below
                errors.append(f"logger: {exc!r}")
            finally:
                close_old_connections()
                connection.close()

        def worker_thread():
            try:
                while True:
                    code = queue.pop_due(stop_worker)
                    if code is None:
                        return
                    pending = (
                        RecomputeClaim.objects.filter(period=code)
                        .values_list("pending_since", flat=True)
                        .first()
                    )
                    t0 = time.perf_counter()
                    out = freshness.run_pending(period=code, today=today)
                    if out["status"] == "done":
                        runs[code].append(time.perf_counter() - t0)
                        if pending:
                            staleness.append((timezone.now() - pending).total_seconds())
            except Exception as exc:
                errors.append(f"worker: {exc!r}")
            finally:
                connection.close()

        queue_samples: list[int] = []
        with (
            override_settings(LIANQING_FRESHNESS_DEBOUNCE_SECONDS=debounce),
            _patched_enqueue(fake_enqueue),
        ):
            start_at = time.monotonic()
            loggers = [threading.Thread(target=logger_thread, args=(n,)) for n in range(writers)]
            worker = threading.Thread(target=worker_thread)
            for t in [*loggers, worker]:
                t.start()
            started = start_at
            while time.monotonic() - started < seconds and not errors:
                time.sleep(1)
                queue_samples.append(len(queue))
            stop_logging.set()
            for t in loggers:
                t.join()
            elapsed = time.monotonic() - started
            # Drain: the changes of the last debounce window still get their run.
            drain_deadline = time.monotonic() + debounce + 5 * max(plain.values()) + 30
            while time.monotonic() < drain_deadline and (
                len(queue)
                or RecomputeClaim.objects.filter(
                    period__in=periods, pending_since__isnull=False
                ).exists()
            ):
                time.sleep(1)
            stop_worker.set()
            worker.join()

        self.stdout.write(
            f"记录联系 {done[0]:,} 条（{writers} 个并发线程），用时 {elapsed:.0f} 秒，"
            f"实际速率 {done[0] / elapsed:.1f}/秒（目标 {rate}/秒）"
        )
        for code in periods:
            durations = runs.get(code, [])
            if not durations:
                self.stdout.write(f"  {code}：没有运行")
                continue
            worst = max(durations)
            self.stdout.write(
                f"  {code}：重算 {len(durations)} 次，用时 中位 {statistics.median(durations):.2f} 秒 / "
                f"最长 {worst:.2f} 秒；单独计算 {plain[code]:.2f} 秒，最长/单独 = "
                f"{worst / plain[code]:.2f}"
            )
        self.stdout.write(
            f"队列长度：最长 {queue.max_len}，每秒采样的最大值 {max(queue_samples, default=0)}，"
            f"结束时 {len(queue)}（每个时段最多一个待运行）"
        )
        if staleness:
            self.stdout.write(
                f"变动到数字更新：最长 {max(staleness):.1f} 秒，中位 {statistics.median(staleness):.1f} 秒"
            )
        for error in errors:
            self.stderr.write(error)
        if not keep:
            ContactYouth.objects.filter(contact__topic=TOPIC).delete()
            Contact.objects.filter(topic=TOPIC).delete()
            for code in periods:
                services.scores_compute(period=code, today=today)
            self.stdout.write("已删除测试联系记录并重新计算当前时段。")


class _patched_enqueue:
    """Route freshness's enqueue to the in-process delay queue for the benchmark's duration."""

    def __init__(self, replacement) -> None:
        self.replacement = replacement

    def __enter__(self):
        self.original = freshness._enqueue
        freshness._enqueue = self.replacement

    def __exit__(self, *exc) -> None:
        freshness._enqueue = self.original
