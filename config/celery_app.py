"""The Celery application: `celery -A config worker` and `celery -A config beat`.

Run exactly ONE beat process per deployment (`celery -A config beat`, or one worker started
with `-B`): every beat sends the whole schedule, so two beats run each job twice. The jobs are
idempotent, so a doubled run only wastes work, but one beat is the rule. Workers scale freely.

Task hygiene (every `*/tasks.py` uses IDEMPOTENT and a time limit of its own):
- acks_late + reject_on_worker_lost: a task is acknowledged only when it finished, so one whose
  worker died is delivered again; every task here is idempotent (a rerun writes the same rows);
- a transient database error (PostgreSQL restarted, a serialisation failure, SQLite busy) is
  retried with exponential backoff and jitter, up to 5 times;
- hard time limits stay below the broker's visibility timeout (settings, 300 s): a task still
  running when it expires would be delivered twice.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab
from django.db import InterfaceError, OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("lianqing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Database errors that go away by themselves (a restarted server, a dropped connection, a
# serialisation failure, a busy SQLite file). Anything else is a bug and fails the task.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)

IDEMPOTENT = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,  # 2, 4, 8, 16, 32 s (capped below), with jitter
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}

# Times are Asia/Shanghai (CELERY_TIMEZONE). Every task here is idempotent: a missed or doubled
# run only delays or repeats the same result.
app.conf.beat_schedule = {
    # Every 5 minutes: close satisfaction ballots past their closing time and compute the outcome
    # (pages also close due campaigns on read, so a missed run only delays it).
    # Every minute: send jobs kept in the outbox while the broker was unreachable (a no-op
    # query when the outbox is empty).
    "cadres-flush-outbox": {
        "task": "cadres.flush_outbox",
        "schedule": crontab(minute="*"),
    },
    "surveys-close-due-campaigns": {
        "task": "surveys.close_due_campaigns",
        "schedule": crontab(minute="*/5"),
    },
    # Every night at 01:30: recount every cadre's stored quota progress. The services keep it
    # current on every write; this is the safety net for anything written around them.
    "cadres-refresh-quota-progress": {
        "task": "cadres.refresh_quota_progress",
        "schedule": crontab(hour=1, minute=30),
    },
    # Every hour at :17: delete export files past LIANQING_EXPORT_KEEP_HOURS (and their jobs);
    # a missed run only keeps a file an hour longer.
    "cadres-purge-exports": {
        "task": "cadres.purge_exports",
        "schedule": crontab(minute=17),
    },
    # Sundays at 03:30: anonymise youths past the retention rule (cadres/privacy.py; run
    # `manage.py retention_report` first to see the list without writing).
    "cadres-retention-sweep": {
        "task": "cadres.retention_sweep",
        "schedule": crontab(hour=3, minute=30, day_of_week=0),
    },
    # Every night at 02:30, after the recount: the current quarter, half year and year are
    # recomputed, and the quarter just closed gets its final run (then it is frozen).
    "assessment-compute-current": {
        "task": "assessment.compute_current",
        "schedule": crontab(hour=2, minute=30),
    },
    # Every morning at 06:30, before the working day: every user's reminders (needs due,
    # follow-up dates, dormant youths, tomorrow's activities, missing channels), one pass.
    "assessment-refresh-reminders": {
        "task": "assessment.refresh_reminders",
        "schedule": crontab(hour=6, minute=30),
    },
    # Mondays at 08:00: the weekly e-mail digest, only to users who asked for it, at most one
    # per user and week (a second run the same week sends nothing).
    "assessment-send-digests": {
        "task": "assessment.send_digests",
        "schedule": crontab(hour=8, minute=0, day_of_week="mon"),
    },
}
