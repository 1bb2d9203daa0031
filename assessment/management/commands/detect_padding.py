"""python manage.py detect_padding --period 2026Q4 [--organisation ID] --format csv

One row per flagged cadre, `cadre_id,signals` (signal codes in assessment.integrity.SIGNALS
order, ";"-separated), detected afresh under the current policy's thresholds; nothing is
written. Supervisors' data: the output names cadres, not youths."""

from __future__ import annotations

import csv

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from assessment import integrity, services
from assessment.periods import parse_period
from cadres.models import Cadre, Organisation
from cadres.selectors import in_subtree
from config.forms import service_error_text


class Command(BaseCommand):
    help = "列出本期联系记录疑似虚报的团干部：cadre_id,signals（CSV）"

    def add_arguments(self, parser):
        parser.add_argument("--period", required=True, help="2026Q4")
        parser.add_argument("--organisation", type=int, default=None, help="组织 ID（含下级）")
        parser.add_argument("--format", choices=["csv"], default="csv")

    def handle(self, *args, period: str, organisation: int | None, **options):
        today = timezone.localdate()
        try:
            p = parse_period(period, today=today)
        except ValidationError as exc:
            raise CommandError(service_error_text(exc)) from exc
        if p.kind != "quarter":
            raise CommandError("请给出季度，例如 2026Q4。")
        found = integrity.detect(
            period=p,
            as_of=p.as_of(today),
            thresholds=integrity.thresholds_of(services.policy_current()),
        )
        ids = set(found)
        if organisation is not None:
            org = Organisation.objects.filter(pk=organisation).first()
            if org is None:
                raise CommandError(f"没有 ID 为 {organisation} 的组织。")
            ids &= set(
                in_subtree(Cadre.objects.filter(pk__in=ids), organisation=org).values_list(
                    "pk", flat=True
                )
            )
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(["cadre_id", "signals"])
        for cadre_id in sorted(ids):
            writer.writerow([cadre_id, ";".join(s.code for s in found[cadre_id])])
