"""python manage.py seed_demo [--scale banner|small|province] [--seed N] [--years N]

Fills an empty database with deterministic demo data. Each app contributes through
`<app>/demo.py: seed(ctx)`, called in INSTALLED_APPS order (cadres first), so the demo grows with
the apps. The same seed on the same day gives the same data. `--years 3` writes three years of
contact logs (the same yearly rate each year) instead of one: the benchmark that a quarter's
computation costs the same with three years of history as with one (docs/scaling.md).
"""

from __future__ import annotations

import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from cadres.demo import DEMO_PASSWORD, SCALES, DemoContext
from cadres.models import Organisation
from config.app_modules import app_modules


class Command(BaseCommand):
    help = (
        "生成演示数据（banner：一个旗县团委；small：同一旗县、较少团干部和青年，用于测试；"
        "province：全省规模，用于性能测试）"
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=list(SCALES), default="banner")
        parser.add_argument("--seed", type=int, default=2017)
        parser.add_argument(
            "--years", type=int, default=1, choices=range(1, 6), help="联系记录的年数（1–5）"
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="什么也不做，如果数据库里已经有组织（make run 用）",
        )

    def handle(self, *args, scale: str, seed: int, years: int, if_empty: bool, **options):
        if Organisation.objects.exists():
            if if_empty:
                self.stdout.write("数据库已有数据，跳过演示数据。")
                return
            raise CommandError("数据库中已有组织数据：演示数据只能写入空数据库（可先 flush）。")
        ctx = DemoContext(scale=scale, seed=seed, stdout=self.stdout, years=years)
        started = time.monotonic()
        from assessment.freshness import paused

        # The seed computes the scores itself: no coalesced run per seeded write.
        with paused():
            for app, module in app_modules("demo"):
                step = time.monotonic()
                module.seed(ctx)
                analysed = _analyze_app(app)
                ctx.log(
                    f"[{app}] 完成，用时 {time.monotonic() - step:.1f} 秒"
                    + (f"（含 ANALYZE {analysed:.1f} 秒）" if analysed is not None else "")
                )
        # Later apps may have bulk-loaded links or channels: recount quota progress once more.
        from cadres.services import cadre_progress_refresh

        cadre_progress_refresh()
        if connection.vendor == "postgresql":
            # Fresh statistics after bulk loads: without them the planner walks a million
            # youths in name order to find one cadre's hundred (measured: 1.2 s vs 3 ms).
            # And VACUUM: a bulk load leaves the visibility map empty, so every index-only
            # scan (padding detection's contact_integrity_entries_idx, the dashboard's
            # contact_week_stats_idx) still reads each row's heap page until autovacuum's
            # insert threshold (a fifth of the table) comes round. On the province seed it
            # took 17 s. Impossible inside a transaction (a test's): statistics only there.
            verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            with connection.cursor() as cursor:
                cursor.execute(verb)
        ctx.log(
            f"演示数据生成完毕（{scale}，seed={seed}），总用时 {time.monotonic() - started:.1f} 秒。"
        )
        province_line = (
            "  province  团省委工作人员：查看全省（12 个盟市、100 个旗县）\n"
            if ctx.province
            else ""
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"演示账号（密码均为 {DEMO_PASSWORD}）：\n"
                "  admin     超级管理员（管理后台 /admin/）\n"
                f"{province_line}"
                "  city      团市委工作人员：查看全市\n"
                "  county    团旗委工作人员：查看全旗\n"
                "  township  乡镇团委工作人员：只看本乡镇\n"
                "  cadre     团干部：本人的联系青年与工作"
            )
        )


def _analyze_app(app: str) -> float | None:
    """ANALYZE the tables an app's demo just bulk-loaded; returns the seconds it took.

    A later app's demo queries them at once: the assessment demo scores and runs the padding
    detection, whose plans on never-analysed tables walked millions of rows (measured on the
    province seed: 36+ min in `_ghost_youths` without statistics, 58 s with them). Autovacuum
    comes too late for a seed that reads what it wrote a minute ago."""
    if connection.vendor != "postgresql":
        return None
    started = time.monotonic()
    tables = [
        model._meta.db_table
        for model in apps.get_app_config(app).get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    ]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return time.monotonic() - started
