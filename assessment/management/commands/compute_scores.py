"""python manage.py compute_scores --period 2026Q3 (also 2026H1, 2026)

Computes the 活跃度 of every cadre for the period in this process (the same service the Celery
task calls), showing progress. Running it twice gives the same rows; a closed period that already
had its final run is left as it is.
"""

from __future__ import annotations

import time

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from assessment import services
from config.forms import service_error_text


class Command(BaseCommand):
    help = "计算全部团干部在某一时段的活跃度（季度 2026Q3、半年 2026H1、全年 2026）"

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="2026Q3、2026H1 或 2026")

    def handle(self, *args, period: str, **options):
        started = time.monotonic()

        def progress(n: int, total: int, text: str) -> None:
            bar = "#" * n + "." * (total - n)
            self.stdout.write(f"[{bar}] {n}/{total} {text}（{time.monotonic() - started:.1f} 秒）")
            self.stdout.flush()

        try:
            run = services.scores_compute(period=period, progress=progress)
            n = services.contact_stats_compute(run=run)
            self.stdout.write(
                f"按周、按方式汇总联系次数：{n} 行（{time.monotonic() - started:.1f} 秒）"
            )
        except ValidationError as exc:
            raise CommandError(service_error_text(exc)) from None
        state = "已定稿" if run.is_final else "进行中，之后每天重算"
        self.stdout.write(
            self.style.SUCCESS(
                f"{run.period}：{run.n_cadres} 名团干部，规则 v{run.policy.version}，{state}；"
                f"满意度测评数据：{'已接入' if run.sources.get('ballots') == 'ok' else '未接入'}。"
                f"用时 {time.monotonic() - started:.1f} 秒。"
            )
        )
