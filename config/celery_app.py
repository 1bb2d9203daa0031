"""The Celery application: `celery -A config worker` and `celery -A config beat`."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("lianqing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Times are Asia/Shanghai (CELERY_TIMEZONE). Every task here is idempotent: a missed or doubled
# run only delays or repeats the same result.
app.conf.beat_schedule = {
    # Every 5 minutes: close satisfaction ballots past their closing time and compute the outcome
    # (pages also close due campaigns on read, so a missed run only delays it).
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
    # Every night at 02:30, after the recount: the current quarter, half year and year are
    # recomputed, and the quarter just closed gets its final run (then it is frozen).
    "assessment-compute-current": {
        "task": "assessment.compute_current",
        "schedule": crontab(hour=2, minute=30),
    },
}
