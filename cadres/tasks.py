"""Celery tasks of the cadres app: thin, idempotent, JSON arguments."""

from __future__ import annotations

from celery import shared_task

from config.celery_app import IDEMPOTENT

from . import services


# A full recount of a province is a few set-based statements: well under a minute.
@shared_task(
    name="cadres.refresh_quota_progress", **IDEMPOTENT, time_limit=180, soft_time_limit=150
)
def refresh_quota_progress(cadre_ids: list[int] | None = None) -> int:
    """Recount stored quota progress (all cadres when no ids): safe to run twice or rerun."""
    return services.cadre_progress_refresh(cadre_ids=cadre_ids)


@shared_task(name="cadres.flush_outbox", **IDEMPOTENT, time_limit=120, soft_time_limit=100)
def flush_outbox() -> int:
    """Beat, every minute: send the jobs kept while the broker was unreachable."""
    from .outbox import outbox_flush

    return outbox_flush()


# Every hard limit stays below the broker's visibility timeout (CELERY_VISIBILITY_TIMEOUT,
# 300 s): Redis hands a message nobody acknowledged to a second worker once it has passed, while
# the first one may still be running it (tests/config/test_task_limits.py walks every task).
# So a long sweep works in bounded batches: each run erases for at most RETENTION_BATCH_SECONDS
# (a youth takes a few queries) and queues the next run while candidates remain.
RETENTION_BATCH_SECONDS = 180.0


@shared_task(name="cadres.retention_sweep", **IDEMPOTENT, time_limit=290, soft_time_limit=270)
def retention_sweep() -> int:
    """Beat, weekly: anonymise the youths past the retention rule, one bounded batch per run;
    the next batch is queued while candidates remain. A rerun finds none left."""
    from .outbox import enqueue
    from .privacy import retention_apply, retention_candidates

    done = retention_apply(seconds=RETENTION_BATCH_SECONDS)
    # Only after progress: a candidate that cannot be erased must not queue runs for ever.
    if done and retention_candidates().exists():
        enqueue(retention_sweep)
    return done


# A 100,000-row commit took 21-83 s on the loaded 2-core machine (benchmark_roster); past the
# soft limit it rolls back and the import goes back to its preview with the reason.
@shared_task(name="cadres.roster_commit", **IDEMPOTENT, time_limit=290, soft_time_limit=270)
def roster_commit(import_id: int, user_id: int | None = None) -> str:
    """Commit a confirmed roster import (cadres/jobs.py); a rerun of a finished one does nothing."""
    from .jobs import roster_commit_run

    return roster_commit_run(import_id=import_id, user_id=user_id)


# Checking 100,000 rows takes well under a minute; the limit stays below the broker's
# visibility timeout (300 s), so a running check is never handed to a second worker.
@shared_task(name="cadres.roster_check", **IDEMPOTENT, time_limit=290, soft_time_limit=270)
def roster_check(import_id: int, user_id: int | None = None) -> str:
    """Check an uploaded roster (cadres/jobs.py); a rerun of a checked one does nothing."""
    from .jobs import roster_check_run

    return roster_check_run(import_id=import_id, user_id=user_id)


# 100,000 youths are written in seconds; the limit stays below the broker's visibility timeout
# (300 s) so a running export is never handed to a second worker. Past the soft limit the job
# fails with "缩小筛选范围" on its page.
@shared_task(name="cadres.export_file", **IDEMPOTENT, time_limit=290, soft_time_limit=270)
def export_file(job_id: int) -> str:
    """Write a large export's file (cadres/export_jobs.py); a rerun of a finished one does nothing."""
    from .export_jobs import export_job_run

    return export_job_run(job_id=job_id)


@shared_task(name="cadres.purge_exports", **IDEMPOTENT, time_limit=120, soft_time_limit=100)
def purge_exports() -> int:
    """Beat, hourly: delete export files past LIANQING_EXPORT_KEEP_HOURS. A rerun finds none."""
    from .export_jobs import exports_purge

    return exports_purge()
