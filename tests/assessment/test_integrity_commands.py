"""detect_padding (CSV of flagged cadres) and benchmark_integrity (planted padding, recall /
precision / false-flag rate) on small data."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.core.management import CommandError, call_command

from assessment import padding_bench
from cadres.models import Cadre
from tests.assessment.conftest import link_youths, log_contact
from tests.factories import CadreFactory

pytestmark = pytest.mark.django_db


def _detect(**kwargs) -> list[str]:
    out = io.StringIO()
    call_command("detect_padding", stdout=out, **kwargs)
    return out.getvalue().splitlines()


def test_detect_padding_prints_flagged_cadres_as_csv(tree):
    youths = link_youths(tree.cadre, 21, sectors=1)
    log_contact(tree.cadre, youths, datetime.date(2026, 8, 3), "talk")
    CadreFactory(organisation=tree.town_b)  # nothing to flag
    lines = _detect(period="2026Q3", format="csv")
    assert lines[0] == "cadre_id,signals"
    assert lines[1:] == [f"{tree.cadre.pk},ghost_youths;batch_log"]
    assert _detect(period="2026Q3", organisation=tree.town_a.pk)[1:] == lines[1:]
    assert _detect(period="2026Q3", organisation=tree.town_b.pk) == ["cadre_id,signals"]


@pytest.mark.parametrize(
    "kwargs", [{"period": "2026Q9"}, {"period": "2026"}, {"period": "2026Q3", "organisation": 0}]
)
def test_detect_padding_refuses_bad_arguments(db, kwargs):
    with pytest.raises(CommandError):
        _detect(**kwargs)


def test_benchmark_plants_padding_and_reports_the_figures(db):
    out = io.StringIO()
    call_command("benchmark_integrity", seed=3, cadres=20, period="2026Q3", stdout=out)
    text = out.getvalue()
    assert re.search(
        r"^recall [01]\.\d\d precision [01]\.\d\d false_flag_rate 0\.\d{3}$", text, re.M
    )
    assert "活跃度计算" in text and "真实性核查" in text
    # The bulk-written dataset keeps the invariants of the services: every cadre has its stored
    # progress, counted from its links (the cadre list joins it, the rollups sum it).
    from collections import Counter

    from cadres.models import CadreProgress, CadreYouth

    progress = dict(CadreProgress.objects.values_list("cadre_id", "youth_count"))
    assert set(progress) == set(Cadre.objects.values_list("pk", flat=True))
    links = Counter(CadreYouth.objects.values_list("cadre_id", flat=True))
    assert links and {c: progress[c] for c in links} == dict(links)
    n_before = Cadre.objects.count()
    # A second run replaces the first dataset instead of adding to it.
    call_command("benchmark_integrity", seed=4, cadres=20, period="2026Q3", stdout=io.StringIO())
    assert Cadre.objects.count() == n_before


def test_compare_scoring_times_both_on_the_current_data_and_writes_nothing(tree):
    from assessment.models import CadreScore, IntegrityFinding

    youths = link_youths(tree.cadre, 21, sectors=1)
    log_contact(tree.cadre, youths, datetime.date(2026, 8, 3), "talk")
    n_cadres = Cadre.objects.count()
    out = io.StringIO()
    call_command("benchmark_integrity", compare_scoring=True, period="2026Q3", repeat=2, stdout=out)
    text = out.getvalue()
    assert text.count("活跃度计算") == 2
    assert "全库 1 名团干部被标记" in text
    assert re.search(r"^scoring_s \d+\.\d{3} detection_s \d+\.\d{3} ratio \d+\.\d\d ", text, re.M)
    # Nothing built, nothing stored: the timings ran in a transaction rolled back.
    assert Cadre.objects.count() == n_cadres
    assert not CadreScore.objects.exists() and not IntegrityFinding.objects.exists()


def test_compare_scoring_really_computes_a_final_quarter_and_leaves_it_final(tree):
    from assessment import services

    youths = link_youths(tree.cadre, 21, sectors=1)
    log_contact(tree.cadre, youths, datetime.date(2026, 8, 3), "talk")
    run = services.scores_compute(period="2026Q3", today=datetime.date(2026, 10, 15))
    assert run.is_final and run.runs == 1
    out = io.StringIO()
    call_command("benchmark_integrity", compare_scoring=True, period="2026Q3", stdout=out)
    assert "全库 1 名团干部被标记" in out.getvalue()
    run.refresh_from_db()
    assert run.is_final and run.runs == 1  # computed again, but rolled back


@pytest.mark.parametrize("kwargs", [{"repeat": 0}, {"repeat": 21}, {"period": "2026"}])
def test_compare_scoring_refuses_bad_arguments(db, kwargs):
    with pytest.raises(CommandError):
        call_command("benchmark_integrity", compare_scoring=True, stdout=io.StringIO(), **kwargs)


def test_score_counts_recall_precision_and_false_flags():
    truth = padding_bench.Truth(root=None, cadre_ids=list(range(10)), padded={1: ["x"], 2: ["y"]})  # type: ignore[arg-type]
    m = padding_bench.score(truth, {1, 5, 99})
    assert m == {"recall": 0.5, "precision": 0.5, "false_flag_rate": 0.125}
