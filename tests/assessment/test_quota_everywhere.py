"""One quota rule (cadres/quota.py): every count of "completed the quota" on every page and export
of the same scope and period is the same number.

Four cadres under the default rule (100 youths from 5 fields):
- 100 youths / 2 fields  → NOT met (enough youths, too few fields: the case the dashboard and the
  flags used to count as met);
- 99 youths / 8 fields   → NOT met (one youth short);
- 100 youths / 5 fields  → met;
- nobody linked          → NOT met.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from assessment import metrics, services
from assessment.models import Flag
from assessment.periods import period_containing
from cadres import quota
from cadres.models import CadreYouth, LiaisonChannel, Youth
from cadres.services import cadre_progress_refresh
from tests.factories import CadreFactory, SectorFactory

MET = 1
TOTAL = 4


def _link(cadre, n: int, sectors: list) -> None:
    youths = Youth.objects.bulk_create(
        Youth(
            name=f"{cadre.name}青年{i}",
            gender="M",
            birth_year=1998,
            sector=sectors[i % len(sectors)],
            unit="测试单位",
            organisation=cadre.organisation,
        )
        for i in range(n)
    )
    day = timezone.localdate() - timezone.timedelta(days=1)
    CadreYouth.objects.bulk_create(CadreYouth(cadre=cadre, youth=y, linked_on=day) for y in youths)


@pytest.fixture
def four(tree):
    sectors = [SectorFactory(code=f"f{i}", name=f"领域{i}") for i in range(8)]
    two_fields = tree.cadre
    short_one = CadreFactory(name="差一人", organisation=tree.town_a)
    done = CadreFactory(name="达标者", organisation=tree.town_b)
    nobody = CadreFactory(name="无联系", organisation=tree.town_b)
    _link(two_fields, 100, sectors[:2])
    _link(short_one, 99, sectors)
    _link(done, 100, sectors[:5])
    cadre_progress_refresh(cadre_ids=[two_fields.pk, short_one.pk, done.pk, nobody.pk])
    today = timezone.localdate()
    quarter = period_containing(today)
    run = services.scores_compute(period=quarter.code, today=today)
    services.contact_stats_compute(run=run, today=today)
    services.scores_compute(period=str(today.year), today=today)
    return {"quarter": quarter, "done": done}


def test_default_rule_lives_in_one_module():
    assert (quota.DEFAULT_QUOTA, quota.DEFAULT_MIN_SECTORS) == (100, 5)
    assert len(LiaisonChannel.Kind) == quota.DEFAULT_MIN_CHANNELS
    assert quota.quota_met(100, 5) and not quota.quota_met(100, 4) and not quota.quota_met(99, 8)
    today = timezone.localdate()
    window = metrics.Window.for_period(period_containing(today), today)
    assert "100" not in metrics.metrics_sql(window)  # the SQL takes the defaults as parameters


def test_every_count_of_quota_met_is_the_same_number(client, tree, four):
    quarter = four["quarter"]
    client.force_login(tree.county)
    counts: dict[str, int] = {}

    # The SQL behind every stored score.
    today = timezone.localdate()
    rows = metrics.cadre_metrics(metrics.Window.for_period(quarter, today))
    counts["metrics SQL"] = sum(quota.quota_met(m["linked"], m["sectors"], m) for m in rows)

    # Cadre list (live progress) and the home page's "未达标团干部".
    table = client.get("/cadres/", {"quota_met": "yes"}).context["table"]
    counts["cadre list ?quota_met=yes"] = len(list(table.data))
    counts["cadre list ?quota_met=no"] = TOTAL - len(
        list(client.get("/cadres/", {"quota_met": "no"}).context["table"].data)
    )
    home = client.get(reverse("home")).content.decode()
    below = re.search(r'lq-stat[^"]*">(\d+)</div><div class="lq-stat-label">未达标团干部', home)
    counts["home panel"] = TOTAL - int(below[1])

    # Dashboard, bulletin (page, sentence, Excel), review.
    scope = {"organisation": tree.banner.pk, "period": quarter.code}
    dash = client.get(reverse("assessment:dashboard"), scope).context["ov"]
    counts["dashboard"] = dash.totals["met_quota"]
    bulletin = client.get(reverse("assessment:bulletin"), scope)
    counts["bulletin"] = bulletin.context["ov"].totals["met_quota"]
    sentence = bulletin.context["ov"].sentences.quota
    assert sentence in bulletin.content.decode()
    counts["bulletin sentence"] = int(re.search(r"中 (\d+) 名完成", sentence)[1])
    xlsx = client.get(reverse("assessment:bulletin"), {**scope, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content))["概况"]
    cells = {row[0].value: row[1].value for row in sheet.iter_rows() if len(row) > 1}
    counts["bulletin Excel"] = cells["完成联系指标（人数与领域均达标）人数"]
    review = client.get(
        reverse("assessment:review"), {"organisation": tree.banner.pk, "period": str(today.year)}
    )
    counts["year-end review"] = review.context["ov"].totals["met_quota"]

    # The ranking's export, the flags, the eligibility list.
    export = client.get(reverse("assessment:scores"), {**scope, "_export": "csv"})
    reader = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    counts["score export"] = sum(r["完成指标"] == "是" for r in reader)
    flagged = Flag.objects.filter(resolved_at__isnull=True)
    counts["flags (quota reason)"] = TOTAL - sum(
        any(r["code"] == "quota" for r in f.reasons) for f in flagged
    )
    eligibility = client.get(
        reverse("assessment:eligibility"),
        {"organisation": tree.banner.pk, "period": str(today.year)},
    )
    rows = eligibility.context["table"].data
    counts["eligibility"] = sum(
        not any(r.startswith(("联系青年", "覆盖领域")) for r in row.reasons) for row in rows
    )

    assert counts == dict.fromkeys(counts, MET), counts


def test_a_cadre_with_enough_youths_but_two_fields_is_flagged_and_not_eligible(tree, four):
    flag = Flag.objects.get(cadre=tree.cadre)
    quota_reason = next(r for r in flag.reasons if r["code"] == "quota")
    assert "100/100 名、覆盖领域 2/5 个" in quota_reason["text"]
    assert not Flag.objects.filter(cadre=four["done"], reasons__icontains="quota").exists()
