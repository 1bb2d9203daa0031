"""The adapter to ballots and activities, the compute_scores command, the compute button, demo."""

from __future__ import annotations

import io
import sys
import types

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from assessment import sources
from assessment.models import CadreScore, CaseStep, ScoreRun, SupervisionCase

pytestmark = pytest.mark.django_db


def test_missing_sources_are_reported_not_faked(monkeypatch):
    monkeypatch.setitem(sys.modules, "surveys.selectors", types.ModuleType("surveys.selectors"))
    monkeypatch.setitem(
        sys.modules, "activities.selectors", types.ModuleType("activities.selectors")
    )
    result = sources.ballot_outcomes(year=2026)
    assert not result.available and result.status == "not available" and result.data == {}
    assert not sources.activity_totals(user=None, organisation=None, start=None, end=None).available


def test_sources_read_through_the_other_apps_selectors(monkeypatch):
    surveys = types.ModuleType("surveys.selectors")
    surveys.secretary_outcomes = lambda *, year, cadre_ids=None: {
        "3": "satisfied",
        4: "bogus",
        5: "invalid",
    }
    activities = types.ModuleType("activities.selectors")
    activities.activity_totals = lambda *, user, organisation, start, end: {
        "activities": 4,
        "volunteer_hours": 12.5,
    }
    monkeypatch.setitem(sys.modules, "surveys.selectors", surveys)
    monkeypatch.setitem(sys.modules, "activities.selectors", activities)
    assert sources.ballot_outcomes(year=2026).data == {3: "satisfied", 5: "invalid"}
    totals = sources.activity_totals(user=None, organisation=None, start=None, end=None)
    assert totals.available and totals.data == {
        "activities": 4,
        "participants": 0,
        "attendances": 0,
        "volunteer_hours": 12.5,
    }


def test_command_shows_progress_and_refuses_bad_periods(tree, quota10):
    out = io.StringIO()
    call_command("compute_scores", period="2026Q3", stdout=out)
    text = out.getvalue()
    assert "[######] 6/6" in text and "2026Q3：1 名团干部" in text
    assert CadreScore.objects.filter(period="2026Q3").count() == 1
    assert "按周、按方式汇总联系次数" in text
    with pytest.raises(CommandError, match="时段格式不正确"):
        call_command("compute_scores", period="Q3-2026")
    with pytest.raises(CommandError, match="尚未开始"):
        call_command("compute_scores", period="2099")


def test_compute_button_queues_the_task_for_staff_not_cadres(
    client, tree, quota10, django_capture_on_commit_callbacks
):
    # Issue 17: any supervising staff may press 重新计算 (it changes no rule, only refreshes the
    # numbers; rate-limited and coalesced); a cadre may not.
    client.force_login(tree.cadre_user)
    assert client.post(reverse("assessment:compute"), {"period": "2026Q3"}).status_code == 404
    client.force_login(tree.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("assessment:compute"), {"period": "2026Q3"})
    assert response.status_code == 302
    assert ScoreRun.objects.filter(period="2026Q3").exists()  # eager in tests


def test_demo_has_scores_flags_and_cases_at_each_step(demo_rows):
    assert ScoreRun.objects.filter(period__contains="Q").count() >= 4
    steps = sorted(
        SupervisionCase.objects.filter(status="open").values_list("id", flat=True).distinct()
    )
    # The demo's one integrity verification (属实) opened a case of its own, with no step yet.
    from assessment.models import IntegrityFinding, IntegrityReview

    verified = set(IntegrityReview.objects.exclude(case=None).values_list("case_id", flat=True))
    assert len(verified) == 1 and verified <= set(steps)
    kinds = {
        case: CaseStep.objects.filter(case_id=case).count()
        for case in steps
        if case not in verified
    }
    assert sorted(kinds.values()) == [0, 1, 2, 3]
    codes = {c for f in IntegrityFinding.objects.all() for c in f.codes.split(";")}
    assert {"burst", "same_text", "batch_log"} <= codes
    assert SupervisionCase.objects.filter(status="decided").exists()
