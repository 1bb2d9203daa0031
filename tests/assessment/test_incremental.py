"""The incremental recomputation (assessment/freshness.py, services.scores_compute with
`cadre_ids`): the services mark the cadres they touch, the run recomputes only those, and the
stored rows are exactly those a full run of the same data gives."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.utils import timezone

from assessment import freshness, services
from assessment.models import CadreScore, ChannelWeekStat, Flag, RecomputeClaim, TouchedCadre
from assessment.models_subtree import SubtreeScoreStat, SubtreeWeekStat
from assessment.periods import period_containing
from cadres.models import Cadre
from cadres.services import cadre_youths_link
from contacts.models import Contact
from contacts.need_services import need_answer, need_assign
from contacts.services import contact_delete, contact_log, contact_update
from tests.assessment.conftest import add_need, link_youths, log_contact
from tests.factories import CadreFactory, YouthFactory

SKIP_SCORE = {"id", "computed_at"}
SCORE_FIELDS = [f.attname for f in CadreScore._meta.concrete_fields if f.name not in SKIP_SCORE]


def _snapshot(code: str) -> dict:
    """Every stored number of the period: scores, flags, weekly statistics."""
    scores = sorted(CadreScore.objects.filter(period=code).values_list(*SCORE_FIELDS))
    flags = sorted(
        (f.cadre_id, f.organisation_id, f.first_period, f.last_period, str(f.reasons))
        for f in Flag.objects.filter(resolved_at__isnull=True)
    )
    stats = sorted(
        ChannelWeekStat.objects.filter(run__period=code).values_list(
            "run_id", "organisation_id", "week", "channel", "contacts"
        )
    )
    subtree_weeks = sorted(
        SubtreeWeekStat.objects.filter(run__period=code).values_list(
            "run_id", "organisation_id", "week", "channel", "contacts"
        )
    )
    subtree_scores = sorted(
        (r.run_id, r.organisation_id, str(r.totals), str(r.sectors))
        for r in SubtreeScoreStat.objects.filter(run__period=code)
    )
    return {
        "scores": scores,
        "flags": flags,
        "stats": stats,
        "subtree_weeks": subtree_weeks,
        "subtree_scores": subtree_scores,
    }


def _full(code: str, today: datetime.date) -> None:
    run = services.scores_compute(period=code, today=today)
    services.contact_stats_compute(run=run, today=today)


@pytest.fixture
def world(tree, quota10):
    """Twelve cadres in two townships with youths, old contacts and needs; a full run done.
    The changes touch five: under services.INCREMENTAL_MAX_SHARE."""
    today = timezone.localdate()
    start = period_containing(today).start
    cadres = [tree.cadre] + [
        CadreFactory(organisation=org) for org in (tree.town_a, tree.town_a, tree.town_b) * 4
    ][:11]
    youths = {}
    for i, cadre in enumerate(cadres):
        youths[cadre.pk] = link_youths(cadre, 6 + i, sectors=2 + i % 3)
        log_contact(cadre, youths[cadre.pk][: 2 + i], start, channel="talk")
        log_contact(cadre, youths[cadre.pk][1:3], today, channel="wechat")
    needs = [add_need(c, due=start + datetime.timedelta(days=3)) for c in cadres[:4]]
    code = period_containing(today).code
    _full(code, today)
    return {"cadres": cadres, "youths": youths, "needs": needs, "code": code, "today": today}


def _changes(world, tree, capture) -> None:
    """Changes through the real services, their after-commit marking run, no task enqueued."""
    c = world["cadres"]
    today = world["today"]
    with capture(execute=True):
        contact_log(
            cadre=c[0], youths=world["youths"][c[0].pk], channel="visit", date=today, by=None
        )
    with capture(execute=True):
        contact = log_contact(c[1], world["youths"][c[1].pk][:1], today, channel="talk")
        contact_delete(contact=contact, by=None)
    with capture(execute=True):
        need_answer(need=world["needs"][2], answer="已答复", by=tree.owner)
    with capture(execute=True):
        need_assign(need=world["needs"][3], owner_cadre=c[4], by=tree.owner)
    with capture(execute=True):
        youth = YouthFactory(organisation=c[2].organisation)
        cadre_youths_link(cadre=c[2], youths={youth.pk: today}, by=None)


def test_incremental_run_stores_exactly_the_rows_of_a_full_run(
    world, tree, django_capture_on_commit_callbacks
):
    code, today = world["code"], world["today"]
    c = world["cadres"]
    untouched = c[5]
    before = _snapshot(code)
    kept_at = CadreScore.objects.get(cadre=untouched, period=code).computed_at
    with mock.patch("assessment.tasks.refresh_period.apply_async"):
        _changes(world, tree, django_capture_on_commit_callbacks)
    touched = set(TouchedCadre.objects.filter(period=code).values_list("cadre_id", flat=True))
    assert touched == {c[0].pk, c[1].pk, c[2].pk, c[3].pk, c[4].pk}

    out = freshness.run_pending(period=code, today=today)

    assert out["status"] == "done" and out["incremental"] and out["cadres"] == 5
    assert not TouchedCadre.objects.filter(period=code).exists()  # drained
    incremental = _snapshot(code)
    assert incremental != before  # the changes moved stored numbers
    # Only the touched cadres were rewritten.
    assert CadreScore.objects.get(cadre=untouched, period=code).computed_at == kept_at
    assert CadreScore.objects.get(cadre=c[0], period=code).reached == len(world["youths"][c[0].pk])
    _full(code, today)
    assert _snapshot(code) == incremental


def test_a_cadre_who_moved_leaves_the_old_organisations_statistics(world, tree):
    code, today = world["code"], world["today"]
    mover = world["cadres"][3]  # in 乙镇
    assert mover.organisation_id == tree.town_b.pk
    Cadre.objects.filter(pk=mover.pk).update(organisation=tree.town_a)
    freshness.touch([code], [mover.pk])
    RecomputeClaim.objects.update_or_create(period=code, defaults={"pending_since": timezone.now()})
    assert freshness.run_pending(period=code, today=today)["incremental"]
    incremental = _snapshot(code)
    _full(code, today)
    assert _snapshot(code) == incremental
    assert CadreScore.objects.get(cadre=mover, period=code).organisation_id == tree.town_a.pk


def _pending(code: str) -> None:
    RecomputeClaim.objects.update_or_create(
        period=code, defaults={"pending_since": timezone.now(), "running_since": None}
    )


def test_a_new_day_or_a_whole_period_marker_gives_a_full_run(world):
    code, today = world["code"], world["today"]
    freshness.touch([code], [world["cadres"][0].pk])
    _pending(code)
    tomorrow = today + datetime.timedelta(days=1)
    if period_containing(tomorrow).code == code:  # the as-of day moved: every cadre may move
        assert not freshness.run_pending(period=code, today=tomorrow)["incremental"]
    freshness.touch([code], [world["cadres"][0].pk])
    freshness.touch([code], None)  # e.g. staff pressed 重新计算, or a policy version
    _pending(code)
    out = freshness.run_pending(period=code, today=today)
    assert out["status"] == "done" and not out["incremental"] and out["cadres"] is None


def test_a_failed_incremental_run_puts_its_markers_back(world):
    code, today = world["code"], world["today"]
    ids = [world["cadres"][0].pk, world["cadres"][1].pk]
    freshness.touch([code], ids)
    _pending(code)
    boom = mock.patch("assessment.services.flags_refresh", side_effect=RuntimeError("boom"))
    with boom, pytest.raises(RuntimeError):
        freshness.run_pending(period=code, today=today)
    assert sorted(TouchedCadre.objects.filter(period=code).values_list("cadre_id", flat=True)) == (
        sorted(ids)
    )


def test_a_run_taking_over_a_killed_one_does_the_whole_period(world):
    code, today = world["code"], world["today"]
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    RecomputeClaim.objects.update_or_create(
        period=code, defaults={"pending_since": long_ago, "running_since": long_ago}
    )
    freshness.touch([code], [world["cadres"][0].pk])
    out = freshness.run_pending(period=code, today=today)
    assert out["status"] == "done" and not out["incremental"]


def test_marking_twice_keeps_one_row_per_cadre_and_period(db):
    freshness.touch(["2026Q4", "2026"], [5, 7])
    freshness.touch(["2026Q4"], [7, 9])
    assert sorted(TouchedCadre.objects.values_list("period", "cadre_id")) == [
        ("2026", 5),
        ("2026", 7),
        ("2026Q4", 5),
        ("2026Q4", 7),
        ("2026Q4", 9),
    ]
    # Another week of the same cadre is another marker (its statistics are another row).
    freshness.touch(["2026Q4"], [7], on=datetime.date(2026, 10, 5))
    freshness.touch(["2026Q4"], [7], on=datetime.date(2026, 10, 7))
    weeks = TouchedCadre.objects.filter(period="2026Q4", cadre_id=7).values_list("week", flat=True)
    assert sorted(weeks) == sorted(
        {datetime.date(2026, 10, 5), freshness.week_of(timezone.localdate())}
    )


def _week(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


@pytest.fixture
def weeks_world(world):
    """The world with contacts in three different weeks of the year (its first day, the
    quarter's first day, today), so that a run limited to touched weeks has weeks to skip;
    a full run of the year done."""
    today = world["today"]
    year = str(today.year)
    jan = datetime.date(today.year, 1, 2)
    for cadre in world["cadres"][:6]:
        log_contact(cadre, world["youths"][cadre.pk][:2], jan, channel="phone")
    _full(year, today)
    return {**world, "year": year, "jan": jan}


def test_changes_in_several_weeks_store_the_rows_of_a_full_run(
    weeks_world, tree, django_capture_on_commit_callbacks
):
    """A contact logged today, one moved from January to today, one deleted in January: the
    year's incremental run (weekly statistics of the touched weeks only) stores what a full
    run stores, including the subtree sums."""
    w = weeks_world
    c, today, year = w["cadres"], w["today"], w["year"]
    old = log_contact(c[2], w["youths"][c[2].pk][:1], w["jan"], channel="talk")
    gone = log_contact(c[3], w["youths"][c[3].pk][:2], w["jan"], channel="visit")
    _full(year, today)
    before = _snapshot(year)
    with mock.patch("assessment.tasks.refresh_period.apply_async"):
        with django_capture_on_commit_callbacks(execute=True):
            contact_log(
                cadre=c[0], youths=w["youths"][c[0].pk][:3], channel="talk", date=today, by=None
            )
        with django_capture_on_commit_callbacks(execute=True):
            contact_update(
                contact=old,
                youths=w["youths"][c[2].pk][:1],
                channel="wechat",
                date=today,
                by=tree.owner,
            )
        with django_capture_on_commit_callbacks(execute=True):
            contact_delete(contact=gone, by=tree.owner)
    weeks = set(TouchedCadre.objects.filter(period=year).values_list("week", flat=True))
    assert weeks == {_week(today), _week(w["jan"])}

    out = freshness.run_pending(period=year, today=today)

    assert out["status"] == "done" and out["incremental"]
    incremental = _snapshot(year)
    assert incremental["stats"] != before["stats"]
    assert incremental["subtree_weeks"] != before["subtree_weeks"]
    _full(year, today)
    assert _snapshot(year) == incremental


def test_the_weekly_statistics_of_untouched_weeks_are_not_read_again(weeks_world):
    """A contact of today rewrites today's week only: a January row (spoiled here by hand) is
    left as it was by the incremental run, and only a full run restores it."""
    w = weeks_world
    c, today, year = w["cadres"], w["today"], w["year"]
    if _week(today) == _week(w["jan"]):  # pragma: no cover - only in the year's first week
        pytest.skip("today is in the year's first week")
    january = ChannelWeekStat.objects.filter(
        run__period=year, organisation=c[0].organisation, week=_week(w["jan"])
    )
    true_count = january.get().contacts
    january.update(contacts=999)
    log_contact(c[0], w["youths"][c[0].pk][:1], today, channel="talk")
    freshness.touch([year], [c[0].pk], on=today)
    _pending(year)

    out = freshness.run_pending(period=year, today=today)

    assert out["incremental"]
    assert january.get().contacts == 999  # not read: the run did not look at January
    this_week = ChannelWeekStat.objects.filter(
        run__period=year, organisation=c[0].organisation, week=_week(today), channel="talk"
    )
    assert (
        this_week.get().contacts
        == Contact.objects.filter(
            cadre__organisation=c[0].organisation,
            channel="talk",
            is_deleted=False,
            date__gte=_week(today),
        ).count()
    )
    _full(year, today)
    assert january.get().contacts == true_count


def test_a_failed_run_puts_back_the_weeks_of_its_markers(weeks_world):
    w = weeks_world
    year, today = w["year"], w["today"]
    cadre = w["cadres"][0].pk
    freshness.touch([year], [cadre], on=w["jan"])
    freshness.touch([year], [cadre], on=today)
    _pending(year)
    boom = mock.patch("assessment.services.subtree_score_stats_store", side_effect=RuntimeError)
    with boom, pytest.raises(RuntimeError):
        freshness.run_pending(period=year, today=today)
    assert sorted(TouchedCadre.objects.filter(period=year).values_list("cadre_id", "week")) == [
        (cadre, _week(w["jan"])),
        (cadre, _week(today)),
    ]


@pytest.mark.django_db(transaction=True)
def test_markers_written_after_a_commit_leave_the_session_durable():
    """Outside a transaction (numbers_changed's after-commit callback) the markers are one
    statement committed without the WAL flush; the session's later commits still wait for it."""
    from django.db import connection

    assert not connection.in_atomic_block
    freshness.touch(["2026Q4"], [5, 7], on=datetime.date(2026, 10, 7))
    assert sorted(TouchedCadre.objects.values_list("cadre_id", "week")) == [
        (5, datetime.date(2026, 10, 5)),
        (7, datetime.date(2026, 10, 5)),
    ]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
