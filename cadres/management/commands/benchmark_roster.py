"""python manage.py benchmark_roster [--rows 100000] [--formats csv,xlsx] [--keep]

The long jobs of issue 11, measured on the current database (PostgreSQL) with data of their own:
1. seed a root organisation "基准测试…" with one township and a staff user, and the fields if
   none exist; build a roster of `--rows` distinct youths as a CSV in memory;
2. floor, import: COPY of the same rows into a temporary table (the least PostgreSQL can do);
3. the import as a worker runs it, each job in a fresh process of its own (this command with
   --step, as a Celery worker process would): the check (`jobs.roster_check_run`, the upload
   read from the database) and the commit (`jobs.roster_commit_run`);
4. floor, export: COPY (SELECT the youth list's columns) TO a file;
5. the youth export as its job runs it (`export_job_run`: the list view replayed, rows streamed
   to a file), per format, each in a fresh process;
6. print, per step, wall seconds, the job process's CPU seconds (getrusage user + sys) and its
   PostgreSQL backend's (from /proc, when the server is local), the load average, the peak RSS
   of the job's process (VmHWM, Django loaded included; the RSS at the job's start beside it)
   and the targets (import ≤ 60 s and ≤ 200 MB for check and
   commit each; export ≤ 15 s and ≤ 150 MB); remove the data unless --keep.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from cadres.models import ExportJob, ExportLog, Organisation, RosterImport, Sector, User

TARGETS = {"import": (60.0, 200.0), "export": (15.0, 150.0)}
FIELDS = [("enterprise", "企业青年"), ("rural", "农村青年"), ("student", "学校学生")]


def _status_kb(key: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: kilobytes


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0): each step's peak is its own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _backend_cpu() -> float | None:
    """CPU seconds (user + sys) used so far by this connection's PostgreSQL backend, read from
    /proc when the server runs on this machine (None otherwise): the database's share of a job,
    which the job's own getrusage does not see."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (pid,) = cursor.fetchone()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _own_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Step:
    """Wall seconds, this process's CPU seconds, its backend's CPU seconds, peak RSS and the
    load average of one step. Wall time follows the machine's load; the CPU figures do not."""

    def __init__(self, name: str):
        self.name = name
        self.cpu: float | None = None
        self.db_cpu: float | None = None
        self.load = ""

    def __enter__(self):
        self.resettable = _reset_peak()
        self.rss_before = _status_kb("VmRSS") / 1024
        self.load_before = os.getloadavg()[0]
        self.db0 = _backend_cpu()
        self.cpu0 = _own_cpu()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self.cpu = _own_cpu() - self.cpu0
        self.peak = _status_kb("VmHWM") / 1024
        db1 = _backend_cpu() if exc[0] is None else None
        self.db_cpu = db1 - self.db0 if db1 is not None and self.db0 is not None else None
        self.load = f"{self.load_before:.1f}-{os.getloadavg()[0]:.1f}"
        return False


def argparse_hide() -> str:
    import argparse

    return argparse.SUPPRESS


class Command(BaseCommand):
    help = "Measure the 100,000-row roster import and youth export (issue 11 item 6)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--formats", default="csv,xlsx")
        parser.add_argument("--keep", action="store_true", help="keep the seeded data")
        parser.add_argument(
            "--profile",
            metavar="DIR",
            default="",
            help="write each job's cProfile statistics to DIR/<step>.prof (slows the jobs)",
        )
        # Internal: run one job in this (fresh) process and print its figures as JSON.
        parser.add_argument("--step", choices=["check", "commit", "export"], help=argparse_hide())
        parser.add_argument("--id", type=int, help=argparse_hide())
        parser.add_argument("--user", type=int, help=argparse_hide())

    def handle(self, *args, rows: int, formats: str, keep: bool, **options):
        self.profile = options.get("profile") or ""
        if options.get("step"):
            return self._child(options["step"], options["id"], options["user"])
        if connection.vendor != "postgresql":
            raise CommandError("benchmark_roster measures PostgreSQL: set DATABASE_URL.")
        from cadres import services

        run = secrets.token_hex(3)
        root = services.organisation_create(
            name=f"基准测试团委{run}", kind=Organisation.Kind.BANNER, parent=None, is_active=True
        )
        town = services.organisation_create(
            name=f"基准测试镇{run}", kind=Organisation.Kind.TOWNSHIP, parent=root, is_active=True
        )
        user = services.user_create(
            username=f"bench-{run}", password=None, organisation=root, role=User.Role.STAFF
        )
        sectors = list(Sector.objects.filter(is_active=True).values_list("name", flat=True)[:8])
        if not sectors:
            for order, (code, name) in enumerate(FIELDS):
                Sector.objects.get_or_create(
                    code=code, defaults={"name": name, "sort_order": order}
                )
            sectors = [name for _code, name in FIELDS]
        data = self._roster(rows, run, sectors)
        results: list[tuple[str, Step, str]] = []
        try:
            results += self._import(data, rows, town, user)
            results += self._export(rows, town, user, [f for f in formats.split(",") if f])
        finally:
            self._report(results, rows, len(data))
            if not keep:
                self._clean(root, town, user)

    # --- steps ---

    def _roster(self, rows: int, run: str, sectors: list[str]) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["姓名", "性别", "出生年份", "领域", "单位", "手机号", "微信号", "备注"])
        # Phones of this run only: 19 + 3 digits of the run + 6 of the row (rows ≤ 1,000,000).
        prefix = "19" + str(int(run, 16) % 1000).zfill(3)
        for i in range(rows):
            writer.writerow(
                [
                    f"基准青年{i}",
                    "男" if i % 2 else "女",
                    1990 + i % 12,
                    sectors[i % len(sectors)],
                    f"基准单位{i // 100}",
                    prefix + str(i).zfill(6),
                    "",
                    "",
                ]
            )
        return out.getvalue().encode("utf-8")

    def _import(self, data: bytes, rows: int, town: Organisation, user: User):
        from cadres.roster_import import roster_import_new

        out = []
        with Step("import floor: COPY into a temp table") as floor, connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_roster (name text, gender text, birth_year int,"
                " sector text, unit text, phone text, wechat text, notes text)"
            )
            cursor.cursor.copy_expert(
                "COPY bench_roster FROM STDIN WITH (FORMAT csv, HEADER true)", io.BytesIO(data)
            )
            cursor.execute("DROP TABLE bench_roster")
        out.append(("import floor: COPY into a temp table", floor, "floor"))
        record = roster_import_new(filename="bench.csv", organisation=town, by=user, upload=data)
        check = self._run_child("check", record.pk, user.pk)
        record.refresh_from_db()
        if record.status != RosterImport.Status.PREVIEW:
            raise CommandError(f"the check refused the roster: {record.errors[:3]}")
        out.append((f"import check ({rows:,} rows)", check, "import"))
        RosterImport.objects.filter(pk=record.pk).update(status=RosterImport.Status.COMMITTING)
        commit = self._run_child("commit", record.pk, user.pk)
        record.refresh_from_db()
        if record.status != RosterImport.Status.DONE:
            raise CommandError(f"the commit failed: {record.failure}")
        out.append((f"import commit ({record.n_new:,} new youths)", commit, "import"))
        total = Step("import total")
        total.seconds = check.seconds + commit.seconds
        total.peak = max(check.peak, commit.peak)
        total.rss_before = check.rss_before
        total.resettable = True
        total.cpu = (check.cpu or 0) + (commit.cpu or 0)
        if check.db_cpu is not None and commit.db_cpu is not None:
            total.db_cpu = check.db_cpu + commit.db_cpu
        total.load = f"{check.load.split('-')[0]}-{commit.load.split('-')[-1]}"
        out.append(("import check + commit", total, "import"))
        return out

    def _export(self, rows: int, town: Organisation, user: User, formats: list[str]):
        from cadres.export_jobs import export_job_file

        out = []
        with (
            Step("export floor") as floor,
            tempfile.TemporaryFile("w+", encoding="utf-8") as handle,
            connection.cursor() as cursor,
        ):
            sql = (
                "COPY (SELECT y.name, y.gender, y.birth_year, s.name, y.unit, o.name,"
                " y.phone FROM cadres_youth y JOIN cadres_sector s ON s.id = y.sector_id"
                " JOIN cadres_organisation o ON o.id = y.organisation_id"
                f" WHERE y.organisation_id = {int(town.pk)} ORDER BY y.name)"
                " TO STDOUT WITH (FORMAT csv)"
            )
            cursor.cursor.copy_expert(sql, handle)
        out.append(("export floor: COPY … TO STDOUT", floor, "floor"))
        for export_format in formats:
            job = ExportJob.objects.create(
                user=user,
                path="/cadres/youths/",
                querystring="sort=name",
                list_name="cadres:youth_list",
                export_format=export_format,
                status=ExportJob.Status.RUNNING,
                total=rows,
                download_name=f"youths.{export_format}",
                expires_at=timezone.now() + datetime.timedelta(hours=1),
            )
            step = self._run_child("export", job.pk, user.pk)
            job.refresh_from_db()
            path = export_job_file(job)
            if job.status != ExportJob.Status.DONE or path is None:
                raise CommandError(f"the {export_format} export failed: {job.failure}")
            size = path.stat().st_size / 1e6
            out.append(
                (f"export {export_format} ({job.done:,} rows, {size:.1f} MB)", step, "export")
            )
            path.unlink()
        return out

    def _run_child(self, step: str, pk: int, user_id: int) -> Step:
        """One job in a fresh process (`manage.py benchmark_roster --step …`)."""
        command = [sys.executable, sys.argv[0], "benchmark_roster", "--step", step]
        command += ["--id", str(pk), "--user", str(user_id)]
        if self.profile:
            command += ["--profile", self.profile]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
        if done.returncode or not lines:
            raise CommandError(f"step {step} failed:\n{done.stderr[-3000:]}")
        figures = json.loads(lines[-1][6:])
        result = Step(step)
        result.seconds, result.peak = figures["seconds"], figures["peak_mb"]
        result.rss_before, result.resettable = figures["start_mb"], True
        result.cpu, result.db_cpu, result.load = figures["cpu"], figures["db_cpu"], figures["load"]
        return result

    def _child(self, step: str, pk: int, user_id: int) -> None:
        from django.conf import settings

        from cadres import jobs

        # As a production worker runs: with DEBUG on (manage.py's local settings) Django keeps
        # the text of every statement, the matching's IN lists included, in memory.
        settings.DEBUG = False
        from cadres.export_jobs import export_job_run

        run = {
            "check": lambda: jobs.roster_check_run(import_id=pk, user_id=user_id),
            "commit": lambda: jobs.roster_commit_run(import_id=pk, user_id=user_id),
            "export": lambda: export_job_run(job_id=pk),
        }[step]
        connection.ensure_connection()
        profiler = None
        if self.profile:
            import cProfile

            profiler = cProfile.Profile()
        with Step(step) as measured:
            outcome = profiler.runcall(run) if profiler else run()
        if profiler is not None:
            Path(self.profile).mkdir(parents=True, exist_ok=True)
            suffix = "" if step != "export" else "-" + ExportJob.objects.get(pk=pk).export_format
            profiler.dump_stats(str(Path(self.profile) / f"{step}{suffix}.prof"))
        figures = {
            "seconds": measured.seconds,
            "cpu": measured.cpu,
            "db_cpu": measured.db_cpu,
            "load": measured.load,
            "peak_mb": measured.peak,
            "start_mb": measured.rss_before,
            "outcome": str(outcome),
        }
        self.stdout.write("BENCH " + json.dumps(figures))

    def _report(self, results, rows: int, size: int) -> None:
        self.stdout.write(
            f"benchmark_roster: {rows:,} rows, roster {size / 1e6:.1f} MB, "
            f"PostgreSQL {connection.pg_version}, pid {os.getpid()}, "
            f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"
        )
        self.stdout.write(
            f"{'step':<46} {'wall s':>7} {'CPU s':>6} {'DB CPU':>6} {'peak MB':>7} "
            f"{'start':>5} {'load':>9}  target"
        )
        for label, step, kind in results:
            verdict = ""
            if kind == "export" or label.startswith("import check + commit"):
                seconds, megabytes = TARGETS[kind]
                ok = step.seconds <= seconds and step.peak <= megabytes
                verdict = f"{'met' if ok else 'NOT MET'} (≤ {seconds:.0f} s, ≤ {megabytes:.0f} MB)"
                if step.cpu is not None and step.db_cpu is not None:
                    # What the wall time would be on an idle machine, at best: CPU is not
                    # shared out by the load.
                    verdict += f"; CPU + DB CPU {step.cpu + step.db_cpu:.1f} s"
            cpu = f"{step.cpu:>6.2f}" if step.cpu is not None else f"{'-':>6}"
            db_cpu = f"{step.db_cpu:>6.2f}" if step.db_cpu is not None else f"{'-':>6}"
            self.stdout.write(
                f"{label:<46} {step.seconds:>7.2f} {cpu} {db_cpu} {step.peak:>7.0f} "
                f"{step.rss_before:>5.0f} {step.load:>9}  {verdict}"
            )
        self.stdout.write(
            "wall s: elapsed; CPU s: the job process (user + sys); DB CPU: its PostgreSQL backend"
            " (from /proc, '-' when the server is remote); peak MB: the job process's VmHWM, with"
            " its RSS at the start; load: 1-minute load average at the step's start and end."
        )
        if results and not results[0][1].resettable:
            self.stdout.write("(peak RSS could not be reset: each figure is the process's peak)")

    def _clean(self, root: Organisation, town: Organisation, user: User) -> None:
        from django.db import transaction

        with transaction.atomic(), connection.cursor() as cursor:
            youths = "SELECT id FROM cadres_youth WHERE organisation_id = %s"
            cursor.execute(f"DELETE FROM cadres_historicalyouth WHERE id IN ({youths})", [town.pk])
            cursor.execute("DELETE FROM cadres_youth WHERE organisation_id = %s", [town.pk])
            RosterImport.objects.filter(organisation=town).delete()
            ExportJob.objects.filter(user=user).delete()
            ExportLog.objects.filter(user=user).delete()
            user.delete()
            town.delete()
            root.delete()
