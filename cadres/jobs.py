"""Long work off the request: a roster import's check and commit (issue 11 item 6).

An upload is kept as a RosterImport in CHECKING (the file in its `upload` column) and checked
row by row by the Celery task `cadres.roster_check` (in-process without a broker); the page
shows the same progress bar as the commit and, once checked, the report or the preview.
A confirmed import moves PREVIEW → COMMITTING (one conditional UPDATE: a double click queues
once) and the commit runs as the Celery task `cadres.roster_commit`, or in-process when no broker
is configured (development, tests). The import's page shows a progress bar that polls
`roster_progress` (a JSON view) and survives a reload: the state is the RosterImport row, the
counts of youths written live in the cache (the commit's own transaction hides its writes until
it ends, so the row cannot carry them).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from config.forms import service_error_text
from config.ratelimit import CACHE_ERRORS

from .models import Cadre, Organisation, RosterImport, User
from .roster_import import roster_import_check, roster_import_commit, roster_import_new

logger = logging.getLogger(__name__)

PROGRESS_TTL = 6 * 3600
CHECK_FAILED = _lazy("文件无法检查，没有导入任何数据：请另存为 .xlsx 或 UTF-8 CSV 后重新上传。")
COMMIT_TOO_LONG = _lazy("导入超过时限，没有导入任何数据：请稍后重试，或分成几个文件导入。")


def _key(pk: int, stage: str = "commit") -> str:
    return f"lianqing:roster-{stage}:{pk}"


def _progress_writer(pk: int, stage: str = "commit") -> Callable[[int, int], None]:
    def write(done: int, total: int) -> None:
        # The cache down costs the bar, never the import.
        with contextlib.suppress(*CACHE_ERRORS):
            cache.set(_key(pk, stage), [done, total], PROGRESS_TTL)

    return write


def roster_progress(*, roster_import: RosterImport) -> dict:
    """What the import's page polls: its state and, while it is checked, rows checked so far
    (total: the file's rows), while it commits, youths written so far (total: the new ones)."""
    done, total = 0, 0
    if roster_import.status == RosterImport.Status.CHECKING:
        with contextlib.suppress(*CACHE_ERRORS):
            done, total = cache.get(_key(roster_import.pk, "check")) or (0, 0)
    elif roster_import.status == RosterImport.Status.COMMITTING:
        try:
            done, total = cache.get(_key(roster_import.pk)) or (0, roster_import.n_new)
        except CACHE_ERRORS:
            total = roster_import.n_new
    return {"status": roster_import.status, "done": done, "total": total}


def _run_or_enqueue(
    import_id: int, by: User, *, run: Callable[..., str], task: Any
) -> RosterImport:
    """Without a broker the job `run`s here, in the request; with one, `task` goes to a worker
    through cadres.outbox. The import as it is afterwards, without its rows and upload."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        run(import_id=import_id, user_id=by.pk)
    else:
        from .outbox import enqueue

        enqueue(task, import_id, by.pk)
    return RosterImport.objects.defer("rows", "upload").get(pk=import_id)


def roster_check_queue(
    *, data: bytes, filename: str, organisation: Organisation, cadre: Cadre | None, by: User
) -> RosterImport:
    """Keep an upload and queue its check; without a broker check it at once.

    Returns the import as it is afterwards (INVALID or PREVIEW when it ran in-process,
    CHECKING while a worker has it). Raises ValidationError when the cadre may not hold youths
    of `organisation` (nothing is kept)."""
    from . import tasks

    record = roster_import_new(
        filename=filename, organisation=organisation, cadre=cadre, by=by, upload=data
    )
    _progress_writer(record.pk, "check")(0, 0)
    return _run_or_enqueue(record.pk, by, run=roster_check_run, task=tasks.roster_check)


def roster_check_run(*, import_id: int, user_id: int | None) -> str:
    """The job: check an upload that is CHECKING, once. A rerun (a worker killed before it
    acknowledged) finds it checked and does nothing; a rerun of a check killed midway checks
    again from the kept file (the check writes nothing until its one final save)."""

    record = (
        RosterImport.objects.select_related("cadre", "organisation")
        .defer("upload")
        .filter(pk=import_id, status=RosterImport.Status.CHECKING)
        .first()
    )
    if record is None:
        return "skipped"
    # bytes at once: the driver's buffer is not kept beside its copy for the whole check.
    data = bytes(RosterImport.objects.values_list("upload", flat=True).get(pk=import_id))
    user = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        roster_import_check(
            roster_import=record,
            data=data,
            by=user,
            progress=_progress_writer(import_id, "check"),
        )
    except Exception:
        # A file the checker cannot cope with must not leave the page waiting for ever.
        logger.exception("roster check %s failed", import_id)
        RosterImport.objects.filter(pk=import_id, status=RosterImport.Status.CHECKING).update(
            status=RosterImport.Status.INVALID,
            upload=b"",
            errors=[{"row": None, "column": "", "problem": str(CHECK_FAILED)}],
        )
        return "failed"
    return record.status


def roster_commit_queue(*, roster_import: RosterImport, by: User) -> RosterImport:
    """Confirm a previewed import: queue its commit, and without a broker run it at once.

    Returns the import as it is afterwards (DONE, or PREVIEW with `failure`, when it ran
    in-process; COMMITTING while a worker has it)."""
    from . import tasks

    claimed = RosterImport.objects.filter(
        pk=roster_import.pk, status=RosterImport.Status.PREVIEW
    ).update(status=RosterImport.Status.COMMITTING, failure="")
    if not claimed:
        raise ValidationError(_("这个导入已完成、正在导入或有错误，不能再次导入。"))
    _progress_writer(roster_import.pk)(0, roster_import.n_new)
    return _run_or_enqueue(roster_import.pk, by, run=roster_commit_run, task=tasks.roster_commit)


def roster_commit_run(*, import_id: int, user_id: int | None) -> str:
    """The job: commit an import that is COMMITTING, once. A rerun (a worker killed before it
    acknowledged) finds it DONE and does nothing; a commit the registry now refuses goes back to
    PREVIEW with the reason, for the page to show."""

    # Not the rows: the commit reads them in chunks itself (100,000 rows as one JSON value
    # were 90 MB more at the job's peak).
    record = RosterImport.objects.defer("rows", "upload").filter(pk=import_id).first()
    if record is None or record.status != RosterImport.Status.COMMITTING:
        return "skipped"
    from celery.exceptions import SoftTimeLimitExceeded

    user = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        roster_import_commit(roster_import=record, by=user, progress=_progress_writer(import_id))
    except ValidationError as exc:
        failure = service_error_text(exc)
    except SoftTimeLimitExceeded:
        # The task's soft limit (below the broker's visibility timeout): the transaction rolled
        # back; the preview comes back with the reason instead of "正在导入" for ever.
        failure = str(COMMIT_TOO_LONG)
    else:
        return "done"
    RosterImport.objects.filter(pk=import_id, status=RosterImport.Status.COMMITTING).update(
        status=RosterImport.Status.PREVIEW, failure=failure[:1000]
    )
    return "refused"
