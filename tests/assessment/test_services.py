"""The score formula on hand-checked cases, idempotency, flags, supervision steps, bad input."""

from __future__ import annotations

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from assessment import services, supervision
from assessment.models import CadreScore, CaseStep, ChannelWeekStat, Flag, ScoreRun, ScoringPolicy
from assessment.periods import parse_period
from tests.assessment.conftest import TODAY, add_need, link_youths, log_contact
from tests.factories import CadreFactory, YouthFactory

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def worked(tree, quota10):
    """The hand-checked cadre: 8 youths linked from 2 fields, contacts and needs in 2026Q2."""
    cadre = tree.cadre
    youths = link_youths(cadre, 8, sectors=2)
    stranger = YouthFactory()  # contacted but not linked: not in reach or depth
    log_contact(cadre, youths[:5] + [stranger], D(2026, 4, 10), "wechat")
    log_contact(cadre, youths[:2], D(2026, 5, 5), "talk")
    log_contact(cadre, youths[5:6], D(2026, 2, 1), "visit")  # Q1: offline this year
    add_need(cadre, due=D(2026, 5, 1), answered=D(2026, 4, 30))  # on time
    add_need(cadre, due=D(2026, 6, 1), answered=D(2026, 6, 5))  # late
    add_need(cadre, due=D(2026, 6, 10))  # overdue, open
    return cadre


def _score(cadre, period="2026Q2"):
    return CadreScore.objects.get(cadre=cadre, period=period)


def test_formula_on_a_hand_checked_cadre(worked):
    run = services.scores_compute(period="2026Q2", today=TODAY)
    s = _score(worked)
    assert (s.linked, s.sectors, s.reached, s.met_offline_year) == (8, 2, 5, 3)
    assert (s.online_youths, s.converted_youths) == (6, 2)
    assert (s.needs_due, s.needs_on_time, s.needs_overdue) == (3, 1, 1)
    assert s.last_contact == D(2026, 5, 5)
    assert (s.c_quota, s.c_reach, s.c_depth, s.c_diversity) == (0.8, 0.5, 0.375, 0.5)
    assert s.c_responsiveness == pytest.approx(1 / 3)
    assert s.c_ballot is None  # not a secretary
    assert (s.confirmed_youths, s.c_confirmed) == (0, 0.0)  # no youth-side evidence
    # (25·0.8 + 20·0.5 + 15·0.375 + 10·0.5 + 10·⅓ + 10·0) / 90 × 100 = 48.84…
    assert s.score == Decimal("48.8")
    assert s.policy.version == 1 and run.is_final  # 2026Q2 is over on 15 July
    assert run.sources == {"ballots": "ok"}  # the surveys app is installed: a real source


def test_weights_come_from_the_policy_version(worked):
    services.scores_compute(period="2026Q2", today=TODAY)
    values = {
        f"w_{c}": 0
        for c in ("reach", "depth", "diversity", "responsiveness", "ballot", "confirmed")
    }
    values.update(w_quota=100, flag_score_below=60, quota_grace_days=180, no_contact_days=30)
    values["overdue_needs_max"] = 0
    v2 = services.policy_create(values=values, note="只看人数", by=None)
    services.scores_compute(period="2026Q2", today=TODAY, policy=v2)
    assert CadreScore.objects.filter(cadre=worked, period="2026Q2").count() == 2
    assert CadreScore.objects.get(cadre=worked, policy=v2).score == Decimal("80.0")


def test_secretary_ballot_counts_through_the_adapter(worked):
    worked.is_branch_secretary = True
    worked.save()
    with mock.patch(
        "assessment.sources._function",
        side_effect=lambda m, n: lambda **kw: {worked.pk: "not_satisfied"},
    ):
        run = services.scores_compute(period="2026Q2", today=TODAY)
    s = _score(worked)
    assert s.ballot == "not_satisfied" and s.c_ballot == 0.0
    assert s.score == Decimal("44.0")  # 43.958 / 100 × 100 (all seven weights apply)
    assert run.sources == {"ballots": "ok"}


def test_running_twice_gives_the_same_rows(worked):
    run = services.scores_compute(period="2026Q3", today=TODAY)
    services.contact_stats_compute(run=run, today=TODAY)
    first = list(CadreScore.objects.values_list("cadre", "period", "policy", "score", "reached"))
    stats = list(ChannelWeekStat.objects.values_list("week", "channel", "contacts"))
    services.contact_stats_compute(
        run=services.scores_compute(period="2026Q3", today=TODAY), today=TODAY
    )
    assert (
        list(CadreScore.objects.values_list("cadre", "period", "policy", "score", "reached"))
        == first
    )
    assert list(ChannelWeekStat.objects.values_list("week", "channel", "contacts")) == stats
    assert ScoreRun.objects.get(period="2026Q3").runs == 2


def test_contact_stats_count_contacts_per_week_and_channel(worked):
    run = services.scores_compute(period="2026Q2", today=TODAY)
    assert services.contact_stats_compute(run=run, today=TODAY) == 2
    rows = set(ChannelWeekStat.objects.values_list("week", "channel", "contacts"))
    assert rows == {(D(2026, 4, 6), "wechat", 1), (D(2026, 5, 4), "talk", 1)}
    # A final run's statistics are frozen with it.
    log_contact(worked, [], D(2026, 5, 6), "phone")
    assert services.contact_stats_compute(run=run, today=TODAY) == 2


def test_contact_stats_rerun_rewrites_only_the_weeks_that_changed(worked):
    log_contact(worked, [], D(2026, 7, 1), "wechat")  # 2026Q3 runs on TODAY
    log_contact(worked, [], D(2026, 7, 8), "phone")
    gone = log_contact(worked, [], D(2026, 7, 9), "talk")
    run = services.scores_compute(period="2026Q3", today=TODAY)
    assert services.contact_stats_compute(run=run, today=TODAY) == 3
    before = {r.week: r for r in ChannelWeekStat.objects.filter(run=run)}
    log_contact(worked, [], D(2026, 7, 10), "phone")  # the week of 6 July changes
    gone.is_deleted = True
    gone.save()
    assert services.contact_stats_compute(run=run, today=TODAY) == 2
    after = {(r.week, r.channel): r for r in ChannelWeekStat.objects.filter(run=run)}
    assert set(after) == {(D(2026, 6, 29), "wechat"), (D(2026, 7, 6), "phone")}
    # The unchanged week keeps its row; the changed one holds the new count.
    assert after[(D(2026, 6, 29), "wechat")].pk == before[D(2026, 6, 29)].pk
    assert after[(D(2026, 7, 6), "phone")].contacts == 2


def test_crash_half_way_leaves_nothing_and_rerun_is_complete(worked):
    with (
        mock.patch.object(services, "flags_refresh", side_effect=SystemExit("worker killed")),
        pytest.raises(SystemExit),
    ):
        services.scores_compute(period="2026Q3", today=TODAY)
    assert not CadreScore.objects.exists() and not ScoreRun.objects.exists()
    services.scores_compute(period="2026Q3", today=TODAY)
    assert CadreScore.objects.filter(period="2026Q3").count() == 1


def test_closed_period_is_frozen_after_its_final_run(worked):
    services.scores_compute(period="2026Q2", today=TODAY)
    log_contact(worked, [worked.youth_links.order_by("pk")[7].youth], D(2026, 6, 1))
    run = services.scores_compute(period="2026Q2", today=TODAY)
    assert run.runs == 1  # not recomputed
    assert _score(worked).reached == 5


def test_running_quarter_is_not_final(worked):
    run = services.scores_compute(period="2026Q3", today=TODAY)
    assert not run.is_final and run.as_of == TODAY


@pytest.mark.parametrize(
    "text,message",
    [
        ("2026Q5", "季度只能是"),
        ("26Q1", "时段格式不正确"),
        ("2026-Q1", "时段格式不正确"),
        ("2026H3", "半年只能是"),
        ("", "时段格式不正确"),
    ],
)
def test_malformed_period_is_refused_in_chinese(text, message):
    with pytest.raises(ValidationError) as exc:
        parse_period(text, today=TODAY)
    assert message in exc.value.messages[0]


def test_future_period_is_refused(db):
    with pytest.raises(ValidationError, match="尚未开始"):
        services.scores_compute(period="2026Q4", today=TODAY)
    assert not ScoreRun.objects.exists()


def test_periods_parse():
    assert parse_period("2026h1", today=TODAY).end == D(2026, 6, 30)
    assert parse_period("2026", today=TODAY).start == D(2026, 1, 1)
    assert parse_period("2026Q3", today=TODAY).end == D(2026, 9, 30)


# --- Flags -----------------------------------------------------------------------------------


def test_flag_lists_every_reason_and_persists_without_duplicate(worked):
    services.scores_compute(period="2026Q2", today=TODAY)
    flag = Flag.objects.get(cadre=worked)
    assert [r["code"] for r in flag.reasons] == ["score", "quota", "no_contact", "needs"]
    assert "联系青年 8/10 名" in flag.reasons[1]["text"]
    services.scores_compute(period="2026Q3", today=TODAY)
    assert Flag.objects.filter(cadre=worked).count() == 1
    flag.refresh_from_db()
    assert (flag.first_period, flag.last_period) == ("2026Q2", "2026Q3")


def test_recovered_cadre_has_flag_resolved_and_case_closed(worked, tree):
    services.scores_compute(period="2026Q2", today=TODAY)
    case = supervision.case_open(flag=Flag.objects.get(cadre=worked), by=tree.county)
    # Everything a cadre can do in Q3: four more youths covering the two missing fields (the
    # quota is youths AND fields, cadres/quota.py), all met, needs answered.
    youths = list(worked.youth_links.values_list("youth", flat=True)) + [
        y.pk for y in link_youths(worked, 4, sectors=4, linked_on=D(2026, 7, 1))
    ]
    from cadres.models import Youth

    log_contact(worked, list(Youth.objects.filter(pk__in=youths)), D(2026, 7, 10), "talk")
    from contacts.models import Need

    Need.objects.update(
        status="answered", answered_at=datetime.datetime(2026, 7, 1, tzinfo=datetime.UTC)
    )
    services.scores_compute(period="2026Q3", today=TODAY)
    assert Flag.objects.get(cadre=worked).resolved_at is not None
    case.refresh_from_db()
    assert case.status == "recovered"


def test_old_quarter_does_not_overwrite_flags_of_a_later_one(worked):
    services.scores_compute(period="2026Q3", today=TODAY)
    Flag.objects.all().delete()
    ScoreRun.objects.filter(period="2026Q2").delete()
    services.scores_compute(period="2026Q2", today=TODAY)
    assert not Flag.objects.exists()


# --- Policy ---------------------------------------------------------------------------------


def _values(**overrides):
    values = {
        "w_quota": 30,
        "w_reach": 25,
        "w_depth": 15,
        "w_diversity": 10,
        "w_responsiveness": 10,
        "w_ballot": 10,
        "w_confirmed": 0,
        "flag_score_below": 60,
        "quota_grace_days": 180,
        "no_contact_days": 30,
        "overdue_needs_max": 0,
    }
    values.update(overrides)
    return values


def test_policy_change_is_a_new_version(db):
    services.policy_current()
    v2 = services.policy_create(values=_values(w_quota=40, w_reach=15), note="调整", by=None)
    assert v2.version == 2 and ScoringPolicy.objects.count() == 2
    assert services.policy_current() == v2


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"w_quota": 31}, "之和必须等于 100，现在是 101"),
        ({"w_quota": -5, "w_reach": 60}, "不小于 0"),
    ],
)
def test_bad_policy_is_refused(db, overrides, message):
    with pytest.raises(ValidationError) as exc:
        services.policy_create(values=_values(**overrides), by=None)
    assert message in " ".join(exc.value.messages)
    assert not ScoringPolicy.objects.exists()


def test_database_refuses_weights_not_summing_to_100(db):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ScoringPolicy.objects.create(version=9, w_quota=50)


# --- Supervision ------------------------------------------------------------------------------


@pytest.fixture
def case(worked, tree):
    services.scores_compute(period="2026Q2", today=TODAY)
    return supervision.case_open(flag=Flag.objects.get(cadre=worked), by=tree.county)


def _step(case, kind, day, by, follow=None):
    return supervision.case_step_add(
        case=case,
        kind=kind,
        date=day,
        conducted_by="王书记",
        notes="谈话",
        agreed_actions="每周联系 10 名青年",
        follow_up_on=follow or day + datetime.timedelta(30),
        by=by,
    )


def test_case_steps_in_order(case, tree):
    for kind in (1, 2, 3):
        _step(case, kind, D(2026, 7, kind), tree.county)
    assert list(case.steps.values_list("kind", flat=True)) == [1, 2, 3]
    with pytest.raises(ValidationError, match="诫勉已是最后一步"):
        _step(case, 3, D(2026, 7, 9), tree.county)


def test_step_out_of_order_is_refused_in_chinese(case, tree):
    with pytest.raises(ValidationError) as exc:
        _step(case, CaseStep.Kind.TALK, D(2026, 7, 1), tree.county)
    assert "下一步应为“提醒”" in exc.value.messages[0]
    assert not CaseStep.objects.exists()


def test_step_dates_must_move_forward(case, tree):
    _step(case, 1, D(2026, 7, 5), tree.county)
    with pytest.raises(ValidationError, match="不能早于上一步"):
        _step(case, 2, D(2026, 7, 1), tree.county)
    with pytest.raises(ValidationError, match="回访日期不能早于"):
        _step(case, 2, D(2026, 7, 6), tree.county, follow=D(2026, 7, 1))


def test_closed_case_takes_no_more_steps(case, tree):
    supervision.case_close(case=case, note="经研究决定结案", by=tree.county)
    case.refresh_from_db()
    assert case.status == "decided"
    with pytest.raises(ValidationError, match="已结案"):
        _step(case, 1, D(2026, 7, 5), tree.county)


def test_one_open_case_per_cadre(case, tree):
    again = supervision.case_open(flag=case.flag, by=tree.county)
    assert again == case


def test_inactive_cadre_is_not_scored(tree, quota10):
    CadreFactory(organisation=tree.town_a, active_until=D(2025, 12, 31))
    services.scores_compute(period="2026Q2", today=TODAY)
    assert CadreScore.objects.count() == 1
