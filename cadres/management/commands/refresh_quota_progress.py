"""python manage.py refresh_quota_progress: recount every cadre's stored quota progress.

The services keep the counts exact; this is the reconciliation after bulk loads or database
repairs that bypassed them (also the Celery task cadres.tasks.refresh_quota_progress).
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from cadres.services import cadre_progress_refresh


class Command(BaseCommand):
    help = "重新统计所有团干部的联系指标进度（联系青年数、领域数、渠道数）"

    def handle(self, *args, **options):
        started = time.monotonic()
        n = cadre_progress_refresh()
        self.stdout.write(f"已重新统计 {n} 名团干部，用时 {time.monotonic() - started:.1f} 秒。")
