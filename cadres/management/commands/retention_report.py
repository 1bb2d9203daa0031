"""The retention rule (cadres/privacy.py): which youths it would anonymise, and with --apply, do it.

    python manage.py retention_report            # the dry run: counts by reason and organisation
    python manage.py retention_report --apply    # anonymise them (what the weekly beat task does)

The report names organisations and counts, never a youth.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from cadres.privacy import retention_apply, retention_report


class Command(BaseCommand):
    help = "保存期限：列出将被匿名化的青年人数（--apply 执行匿名化）"

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="执行匿名化（不可恢复）")

    def handle(self, *args, apply: bool = False, **options):
        report = retention_report()
        self.stdout.write(
            f"保存期限规则（{settings.LIANQING_RETENTION_YEARS} 年无联系关系且无联系记录，"
            f"或超过 {settings.LIANQING_LEAGUE_AGE_LIMIT} 岁），截至 {report['today']:%Y-%m-%d}："
        )
        self.stdout.write(
            f"  共 {report['total']} 名：长期无联系 {report['stale']} 名，超龄 {report['over_age']} 名"
        )
        for name, n in report["by_organisation"]:
            self.stdout.write(f"  {name}\t{n}")
        if not apply:
            self.stdout.write("（仅预览，未作任何修改；确认后加 --apply 执行）")
            return
        done = retention_apply()
        self.stdout.write(self.style.SUCCESS(f"已匿名化 {done} 名青年。"))
