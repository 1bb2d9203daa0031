"""青年确认: the score component of youth-side evidence, its version, explanation and next step."""

from __future__ import annotations

import datetime

import pytest

from assessment import scoring, services
from assessment.models import CadreScore, ScoringPolicy
from contacts.models import Confirmation
from tests.assessment.conftest import TODAY, link_youths, log_contact

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def met(tree, quota10):
    """8 linked youths, 5 reached in 2026Q2; 2 of them confirmed, 1 only from the cadre's phone,
    1 denied."""
    youths = link_youths(tree.cadre, 8, sectors=2)
    contact = log_contact(tree.cadre, youths[:5], D(2026, 4, 10), "talk")
    for youth, outcome, same in (
        (youths[0], "confirmed", False),
        (youths[1], "confirmed", False),
        (youths[2], "confirmed", True),
        (youths[3], "denied", False),
    ):
        Confirmation.objects.create(
            contact=contact,
            cadre=tree.cadre,
            youth=youth,
            kind="share",
            outcome=outcome,
            day=contact.date,
            same_device=same,
        )
    return tree.cadre


def test_component_is_share_of_reached_youths_with_evidence(met):
    services.scores_compute(period="2026Q2", today=TODAY)
    s = CadreScore.objects.get(cadre=met, period="2026Q2")
    assert (s.reached, s.confirmed_youths, s.c_confirmed) == (5, 2, 0.4)
    assert s.policy.w_confirmed == 10
    assert sum(s.policy.weights().values()) == 100


def test_explanation_shows_raw_numbers_and_next_step(met):
    services.scores_compute(period="2026Q2", today=TODAY)
    s = CadreScore.objects.get(cadre=met, period="2026Q2")
    weights = s.policy.weights()
    line = next(x for x in scoring.explain(s, weights, "本季度") if x.code == "confirmed")
    assert line.label == "青年确认" and "5 名青年中，2 名" in line.raw
    assert line.points == pytest.approx(round(line.possible * 0.4, 1))
    steps = [step.text for step in scoring.next_steps(s, weights, limit=10)]
    assert any("请你见过的青年扫一扫你的见面码" in t and "3 名" in t for t in steps)


def test_old_scores_keep_their_version_and_its_weights(met):
    # A database that had version 1 before the component existed (weights without it).
    ScoringPolicy.objects.all().delete()
    old = ScoringPolicy.objects.create(
        version=1, w_quota=30, w_reach=25, w_confirmed=0, note="旧版"
    )
    services.scores_compute(period="2026Q2", today=TODAY, policy=old)
    old_score = CadreScore.objects.get(cadre=met, policy=old)
    from importlib import import_module

    from django.apps import apps

    migration = import_module("assessment.migrations.0003_youth_confirmation")
    migration.add_default_version(apps, None)
    new = services.policy_current()
    assert new.version == 2 and new.w_confirmed == 10 and new.w_quota == 25
    assert new.flag_score_below == old.flag_score_below
    services.scores_compute(period="2026Q3", today=TODAY)
    assert CadreScore.objects.get(pk=old_score.pk).policy == old  # untouched
    assert CadreScore.objects.get(pk=old_score.pk).score == old_score.score
    # An old score explained with its own weights: 青年确认 weighs nothing there.
    line = next(x for x in scoring.explain(old_score, old.weights(), "") if x.code == "confirmed")
    assert line.weight == 0 and line.possible == 0
    # Running the migration's step again adds nothing.
    migration.add_default_version(apps, None)
    assert ScoringPolicy.objects.count() == 2


def test_metrics_query_count_does_not_grow_with_cadres(met, tree, django_assert_max_num_queries):
    from assessment import metrics
    from assessment.periods import parse_period

    window = metrics.Window.for_period(parse_period("2026Q2", today=TODAY), TODAY)
    with django_assert_max_num_queries(1):
        rows = metrics.cadre_metrics(window)
    assert {r["cadre_id"]: r["confirmed"] for r in rows}[met.pk] == 2
