"""The moving parts of `benchmark_freshness` (assessment/management/commands): the runs it
reads back, the in-process stand-in for the broker, the statement counter on the writers, the
plain whole-period run, and the two worker runners (a thread, or real Celery workers on the
broker). Kept apart from the command, which measures and reports."""

from __future__ import annotations

import ast
import heapq
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from assessment import chunked, freshness, services
from assessment.models import (
    RecomputeClaim,
    ScoreRun,
)
from assessment.queues import DEFAULT_QUEUE
from assessment.queues import QUEUES as KIND_QUEUES

# The broker queues (config/settings/base.py): the default one and one per period kind.
QUEUES = (DEFAULT_QUEUE, *KIND_QUEUES.values())


@dataclass
class Run:
    period: str
    started: float  # wall clock (time.time())
    finished: float
    incremental: bool
    cadres: int | None
    pending: float | None = None  # when its first change marked the period pending
    steps: dict | None = None  # seconds per step (freshness.run_pending's "steps")

    @classmethod
    def of(cls, out: dict) -> Run:
        return cls(
            out["period"],
            out["started"],
            out["finished"],
            out["incremental"],
            out["cadres"],
            out.get("pending"),
            out.get("steps"),
        )

    @property
    def seconds(self) -> float:
        return self.finished - self.started


class DelayQueue:
    """Stands in for the broker without --celery: (eta, period) entries, popped when due."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, str]] = []
        self._lock = threading.Condition()

    def put(self, period: str, countdown: float) -> None:
        with self._lock:
            heapq.heappush(self._heap, (time.monotonic() + countdown, period))
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


class Statements:
    """connection.execute_wrapper: counts and times the statements of one logged contact."""

    def __init__(self) -> None:
        self.n = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - t0


def cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def plain_run(code: str, today) -> tuple[float, dict]:
    """A period's whole recomputation as the nightly task has it done (tasks.compute_current:
    a whole-period marker and the claim; freshness.run_pending; at province scale the bounded
    steps, chunked.py), in-process, then its weekly statistics (their own task in production).
    Returns the seconds and their split."""
    freshness.touch([code], None)
    RecomputeClaim.objects.get_or_create(period=code)
    RecomputeClaim.objects.filter(period=code).update(
        pending_since=timezone.now(), running_since=None
    )
    bounds = chunked.chunk_bounds()
    t0 = time.perf_counter()
    # The statistics' own task is replaced by the call below, timed apart.
    with (
        mock.patch.object(chunked, "inline", lambda: True),
        mock.patch("assessment.tasks.enqueue_contact_stats"),
    ):
        out = freshness.run_pending(period=code, today=today)
    scores = time.perf_counter() - t0
    if out.get("status") != "done":
        raise CommandError(f"{code} 的整期计算没有完成：{out}")
    t1 = time.perf_counter()
    services.contact_stats_compute(run=ScoreRun.objects.get(pk=out["run"]), today=today)
    stats = time.perf_counter() - t1
    steps = len(bounds) + 1 if chunked.is_chunked(bounds) else 1
    return scores + stats, {"scores": scores, "stats": stats, "steps": steps}


class ThreadRunner:
    """One worker thread over an in-process delay queue (no broker needed)."""

    def __init__(self, today, errors: list[str], periods: list[str]) -> None:
        self.queue = DelayQueue()
        self.stop_event = threading.Event()
        self.runs: list[Run] = []
        self.today = today
        self.errors = errors

    def start(self) -> None:
        self.original = freshness._enqueue

        def fake_enqueue(code: str, countdown: int) -> bool:
            self.queue.put(code, countdown)
            return True

        freshness._enqueue = fake_enqueue
        # A whole period's bounded steps run in this thread too, not on a broker.
        self.original_inline = chunked.inline
        chunked.inline = lambda: True
        self.thread = threading.Thread(target=self._work)
        self.thread.start()

    def _work(self) -> None:
        try:
            while True:
                code = self.queue.pop_due(self.stop_event)
                if code is None:
                    return
                out = freshness.run_pending(period=code, today=self.today)
                if out["status"] == "done":
                    self.runs.append(Run.of(out))
        except Exception as exc:
            self.errors.append(f"worker: {exc!r}")
        finally:
            connection.close()

    def queue_length(self) -> int:
        return len(self.queue)

    def cpu_seconds(self) -> dict[str, float]:
        return {}  # the worker thread's CPU is in the writers' process

    def stop(self) -> list[Run]:
        self.stop_event.set()
        self.thread.join()
        freshness._enqueue = self.original
        chunked.inline = self.original_inline
        return self.runs


class CeleryRunner:
    """A real worker process on the configured broker; runs read from its log."""

    # A run's result: refresh_period's (incremental, or a small whole period) or, for a whole
    # period in bounded steps, its last step's (assessment/chunked.py).
    DONE = re.compile(
        r"Task assessment\.refresh_(?:period|finish)\[[^\]]+\] succeeded in [0-9.]+s: (\{.*\})"
    )

    def __init__(self, debounce: int, *, one_worker: bool = False) -> None:
        self.debounce = debounce
        # The deployment recipe (docs/quota-and-freshness.md): one worker per period kind, the
        # default queue with the year's; --one-worker: a single worker for everything.
        self.queue_sets: list[str | None] = (
            [None]
            if one_worker
            else [
                KIND_QUEUES["quarter"],
                KIND_QUEUES["half"],
                f"{KIND_QUEUES['year']},{DEFAULT_QUEUE}",
            ]
        )

    def start(self) -> None:
        import redis

        self.redis = redis.Redis.from_url(settings.REDIS_URL)
        env = {
            **os.environ,
            "LIANQING_FRESHNESS_DEBOUNCE_SECONDS": str(self.debounce),
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "config.settings.local"
            ),
        }
        self.procs: list[tuple[subprocess.Popen, Path, object]] = []
        for n, queues in enumerate(self.queue_sets):
            fd, name = tempfile.mkstemp(prefix=f"bench-worker-{n}-", suffix=".log")
            os.close(fd)
            log = Path(name)
            out = log.open("wb")
            command = [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "info",
                "--hostname",
                f"bench-fresh-{os.getpid()}-{n}@%h",
            ]
            if queues:
                command += ["-Q", queues]
            proc = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR
            )
            self.procs.append((proc, log, out))
        deadline = time.monotonic() + 120
        for proc, log, _out in self.procs:
            while b" ready." not in log.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise CommandError(f"Celery worker 未能启动，见 {log}")
                time.sleep(0.5)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU (user + system) each worker process used so far, by its queues."""
        tick = os.sysconf("SC_CLK_TCK")
        out: dict[str, float] = {}
        for (proc, _log, _out), queues in zip(self.procs, self.queue_sets, strict=True):
            try:
                fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[queues or "all"] = (int(fields[11]) + int(fields[12])) / tick
        return out

    def queue_length(self) -> int:
        # Sent and not finished: waiting in the list, or held by the worker until its countdown
        # (Redis transport: delivered, unacknowledged).
        waiting = sum(int(self.redis.llen(queue)) for queue in QUEUES)
        return waiting + int(self.redis.hlen("unacked"))

    def stop(self) -> list[Run]:
        for proc, _log, _out in self.procs:
            proc.terminate()  # warm shutdown: the current run finishes
        runs = []
        for proc, log, out in self.procs:
            try:
                proc.wait(timeout=300)
            except subprocess.TimeoutExpired:
                proc.kill()
            out.close()  # type: ignore[attr-defined]
            for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
                match = self.DONE.search(line)
                if match:
                    result = ast.literal_eval(match.group(1))
                    if result.get("status") == "done":
                        runs.append(Run.of(result))
        return runs
