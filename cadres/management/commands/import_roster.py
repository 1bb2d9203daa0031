"""python manage.py import_roster FILE --organisation ID [--cadre ID] [--user NAME] [--dry-run]

The same all-or-nothing import as the web page: every row is checked first; a file with any
problem writes nothing and prints the row-by-row report; a clean file is committed (unless
--dry-run). Progress is printed while reading and writing.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cadres import roster_import
from cadres.models import Cadre, Organisation, RosterImport, User


class Command(BaseCommand):
    help = "导入青年花名册（.xlsx，或 UTF-8 / GBK 编码的 .csv）：全部检查通过才写入"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--organisation", type=int, required=True, help="青年所属组织 ID")
        parser.add_argument("--cadre", type=int, help="联系的团干部 ID（可选）")
        parser.add_argument("--user", help="记为操作人的用户名（写入修改记录）")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")

    def handle(self, *args, file: Path, organisation: int, cadre, user, dry_run, **options):
        started = time.monotonic()
        try:
            org = Organisation.objects.get(pk=organisation)
            cadre_obj = Cadre.objects.get(pk=cadre) if cadre else None
            by = User.objects.get(username=user) if user else None
        except (Organisation.DoesNotExist, Cadre.DoesNotExist, User.DoesNotExist) as exc:
            raise CommandError(f"找不到：{exc}") from None
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件：{exc}") from None

        def progress(stage: str):
            def report(done: int, total: int) -> None:
                self.stdout.write(f"  {stage} {done}/{total}")
                self.stdout.flush()

            return report

        self.stdout.write(f"检查 {file.name} …")
        record = roster_import.roster_import_prepare(
            data=data,
            filename=file.name,
            organisation=org,
            cadre=cadre_obj,
            by=by,
            progress=progress("已检查"),
        )
        if record.status == RosterImport.Status.INVALID:
            for e in record.errors:
                where = f"第 {e['row']} 行" if e["row"] else "文件"
                column = f" [{e['column']}]" if e["column"] else ""
                self.stderr.write(f"{where}{column}：{e['problem']}")
            raise CommandError(f"发现 {len(record.errors)} 处问题，未导入任何数据。")
        self.stdout.write(
            f"检查通过：{len(record.rows)} 行，新增青年 {record.n_new} 名，"
            f"匹配已有 {record.n_matched} 名（{time.monotonic() - started:.1f} 秒）"
        )
        if dry_run:
            self.stdout.write("--dry-run：未写入。")
            return
        record = roster_import.roster_import_commit(
            roster_import=record, by=by, progress=progress("已写入青年")
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"导入完成：新增青年 {record.n_new} 名，匹配已有 {record.n_matched} 名，"
                f"新增联系关系 {record.n_linked} 条，用时 {time.monotonic() - started:.1f} 秒。"
            )
        )
