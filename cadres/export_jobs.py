"""Exports too large for the request (issue 11 item 6): a job writes the file, the user downloads it.

1. `export_job_start` (from `ScopedExportMixin`, when the list has more rows than
   LIANQING_EXPORT_INLINE_MAX) records an ExportJob with the page's path and querystring and
   queues the task `cadres.export_file` through the outbox (in-process without a broker);
2. the task (`export_job_run`) replays the list view for the job's user, so the rows are the
   same scoped, filtered, sorted, minors-ruled list the page shows (`cadres.exports` decides all
   that, once), and streams them to a file: CSV through `csv.writer`, XLSX through XlsxWriter's
   constant-memory mode, a chunked server-side iterator underneath; memory stays flat whatever
   the size;
3. done: one ExportLog row (row count, minors), the file offered at /cadres/exports/<pk>/ to the
   user who asked only (anyone else: 404) until `expires_at`;
4. `exports_purge` (beat, hourly) deletes expired files and their jobs.

A rerun (a worker killed before it acknowledged) writes the file again under a temporary name
and replaces it; only the first run to finish records the log.
"""

from __future__ import annotations

import csv
import datetime
import decimal
import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.test import RequestFactory
from django.urls import resolve
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _lazy

from .models import ExportJob, User

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 5000
# The attribute of a replayed request that carries its job (read by ScopedExportMixin).
JOB_ATTRIBUTE = "lianqing_export_job"
EXPORT_FAILED = _lazy("导出失败，请稍后重试；若仍失败，请缩小筛选范围。")
EXPORT_TOO_LONG = _lazy("导出超过时限：请缩小筛选范围后重试。")


def export_dir() -> Path:
    path = Path(settings.LIANQING_EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_job_start(
    *,
    user: User,
    path: str,
    querystring: str,
    list_name: str,
    export_format: str,
    download_name: str,
    total: int,
) -> ExportJob:
    """Record an export job and queue it after commit (in-process without a broker)."""
    from . import tasks
    from .outbox import enqueue

    job = ExportJob.objects.create(
        user=user,
        path=path[:200],
        querystring=querystring[:1000],
        list_name=list_name[:50],
        export_format=export_format,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        status=ExportJob.Status.RUNNING,
        total=total,
        download_name=download_name[:200],
        expires_at=timezone.now() + datetime.timedelta(hours=settings.LIANQING_EXPORT_KEEP_HOURS),
    )
    if settings.CELERY_TASK_ALWAYS_EAGER:
        export_job_run(job_id=job.pk)  # no broker: the request waits, as before
    else:
        enqueue(tasks.export_file, job.pk)
    job.refresh_from_db()
    return job


def export_job_for_user(*, user: User, pk: int) -> ExportJob | None:
    """The one rule for who sees an export job and its file: the user who asked, nobody else
    (not even their superiors: the file is that user's export, logged under their name)."""
    if not user.is_authenticated:
        return None
    return ExportJob.objects.filter(pk=pk, user=user).first()


def export_job_progress(*, job: ExportJob) -> dict[str, Any]:
    return {"status": job.status, "done": job.done, "total": job.total}


def export_job_file(job: ExportJob) -> Path | None:
    """The finished file, or None (not done, expired, or already purged)."""
    if job.status != ExportJob.Status.DONE or job.expires_at <= timezone.now() or not job.file_name:
        return None
    path = export_dir() / job.file_name
    return path if path.is_file() else None


def _replayed_request(job: ExportJob, user: User) -> HttpRequest:
    query = QueryDict(job.querystring, mutable=True)
    query["_export"] = job.export_format
    request = RequestFactory().get(job.path, data=query)
    request.user = user
    setattr(request, JOB_ATTRIBUTE, job)
    return request


def export_job_run(*, job_id: int) -> str:
    """The job: replay the list view for the job's user; the view's ScopedExportMixin sees the
    job on the request and calls `export_write` instead of answering."""
    job = ExportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is None or job.status != ExportJob.Status.RUNNING:
        return "skipped"
    from celery.exceptions import SoftTimeLimitExceeded

    try:
        with translation.override(job.language):
            match = resolve(job.path)
            match.func(_replayed_request(job, job.user), *match.args, **match.kwargs)
    except SoftTimeLimitExceeded:
        _fail(job, str(EXPORT_TOO_LONG))
        return "failed"
    except Exception:
        # The user is waiting on a page: say it failed rather than leave it running for ever.
        logger.exception("export job %s failed", job_id)
        _fail(job, str(EXPORT_FAILED))
        return "failed"
    job.refresh_from_db(fields=["status"])
    return job.status


def _fail(job: ExportJob, failure: str) -> None:
    ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
        status=ExportJob.Status.FAILED, failure=failure[:500], finished_at=timezone.now()
    )


def export_write(
    *,
    job: ExportJob,
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    included_minors: bool,
) -> int:
    """Stream `rows` into the job's file, then mark it done and log it (once). Returns rows."""
    from .exports import export_log_create

    final = f"{job.pk}.{job.export_format}"
    temporary = export_dir() / f".{final}.{os.getpid()}.part"

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(done=done)

    try:
        writer = write_xlsx if job.export_format == "xlsx" else write_csv
        count = writer(temporary, headers, rows, progress)
        os.replace(temporary, export_dir() / final)
    finally:
        temporary.unlink(missing_ok=True)
    with transaction.atomic():
        finished = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
            status=ExportJob.Status.DONE,
            done=count,
            total=count,
            file_name=final,
            finished_at=timezone.now(),
        )
        if (
            not finished
            and ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.ERASED).exists()
        ):
            # A youth of the list was erased while this file was written: it must not stay.
            (export_dir() / final).unlink(missing_ok=True)
        if finished:
            export_log_create(
                user=job.user,
                list_name=job.list_name,
                export_format=job.export_format,
                querystring=job.querystring,
                row_count=count,
                included_minors=included_minors,
            )
    return count


def write_csv(
    path: Path,
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    progress: Callable[[int], None],
) -> int:
    """CSV in UTF-8 with BOM (Excel on Chinese Windows reads a CSV without one as GBK)."""
    from .exports import escape_cell

    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([escape_cell(h) for h in headers])
        for row in rows:
            writer.writerow([escape_cell(v) for v in row])
            count += 1
            if count % PROGRESS_EVERY == 0:
                progress(count)
    return count


# Control characters but tab, newline and CR: not allowed in XML 1.0 text (openpyxl refused the
# whole file for one; XlsxWriter would show them as "_x0001_"). Dropped from every text cell.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def write_xlsx(
    path: Path,
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    progress: Callable[[int], None],
) -> int:
    """XLSX through XlsxWriter in constant_memory mode: each row is written to the sheet's
    temporary file as soon as the next one starts, so memory stays flat whatever the size.

    Why XlsxWriter: 100,000 youth rows took openpyxl's write-only workbook 25-40 s, openpyxl
    with lxml 19-29 s, XlsxWriter 12-20 s, in one comparison run on the loaded machine
    (docs/performance.md). Its automatic conversions are off: a text starting with "=" stays
    text (and `escape_cell` has prefixed it anyway), nothing becomes a number or a link."""
    import xlsxwriter

    from .exports import escape_cell

    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    try:
        sheet = workbook.add_worksheet()
        date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
        time_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        text, number = sheet.write_string, sheet.write_number

        def write_row(index: int, values: Sequence[Any]) -> None:
            for column, value in enumerate(values):
                value = escape_cell(value)
                if value is None or value == "":
                    continue
                if isinstance(value, str):
                    if _XML_ILLEGAL.search(value):
                        value = _XML_ILLEGAL.sub("", value)
                    text(index, column, value)
                elif isinstance(value, bool):
                    sheet.write_boolean(index, column, value)
                elif isinstance(value, int | float | decimal.Decimal):
                    number(index, column, value)
                elif isinstance(value, datetime.datetime):
                    # Excel has no time zones: the local wall time, as the page shows it.
                    if timezone.is_aware(value):
                        value = timezone.make_naive(value)
                    sheet.write_datetime(index, column, value, time_format)
                elif isinstance(value, datetime.date):
                    sheet.write_datetime(index, column, value, date_format)
                else:  # lazy translations, SafeString subclasses, anything else: its text
                    text(index, column, _XML_ILLEGAL.sub("", str(escape_cell(str(value)))))

        write_row(0, [str(h) for h in headers])
        count = 0
        for row in rows:
            count += 1
            write_row(count, row)
            if count % PROGRESS_EVERY == 0:
                progress(count)
    finally:
        workbook.close()
    return count


def export_jobs_erase(*, jobs: QuerySet[ExportJob]) -> int:
    """Delete the files of `jobs` (unexpired, done or still running) and mark them ERASED, so
    that the user who asked sees why the file is gone (cadres.privacy.youth_erase). A job still
    running finishes into nothing (`export_write`). Returns how many jobs."""
    # Locked: a job finishing now waits, then finds itself ERASED and deletes its own file.
    # (By id: `jobs` may join users and cadres, and FOR UPDATE refuses outer joins.)
    chosen = jobs.filter(status__in=[ExportJob.Status.RUNNING, ExportJob.Status.DONE])
    rows = list(
        ExportJob.objects.filter(pk__in=list(chosen.values_list("pk", flat=True)))
        .select_for_update()
        .values_list("pk", "file_name")
    )
    for _pk, file_name in rows:
        if file_name:
            (export_dir() / file_name).unlink(missing_ok=True)
    return ExportJob.objects.filter(pk__in=[pk for pk, _name in rows]).update(
        status=ExportJob.Status.ERASED, file_name="", finished_at=timezone.now()
    )


def exports_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of expired export jobs, and the jobs. Returns how many jobs went."""
    now = now or timezone.now()
    expired = list(ExportJob.objects.filter(expires_at__lte=now).values_list("pk", "file_name"))
    for _pk, file_name in expired:
        if file_name:
            (export_dir() / file_name).unlink(missing_ok=True)
    ExportJob.objects.filter(pk__in=[pk for pk, _name in expired]).delete()
    # Half-written files of workers killed mid-export.
    cutoff = now.timestamp() - settings.LIANQING_EXPORT_KEEP_HOURS * 3600
    for part in export_dir().glob(".*.part"):
        if part.stat().st_mtime < cutoff:
            part.unlink(missing_ok=True)
    return len(expired)
