"""A whole period in bounded steps (assessment/chunked.py) and the queue per period kind
(assessment/queues.py): the steps store exactly the rows of the one-transaction run, hold the
period's claim from first to last step, and a failed step leaves the period marked whole."""

from __future__ import annotations

import datetime
import time
from unittest import mock

import pytest
from django.utils import timezone

from assessment import chunked, freshness, integrity, services
from assessment.models import (
    CadreScore,
    Flag,
    IntegrityFinding,
    RecomputeClaim,
    ScoreRun,
    TouchedCadre,
)
from assessment.periods import parse_period, period_containing
from assessment.queues import QUEUES, route
from cadres.models import Cadre
from contacts.models import Contact
from tests.assessment.conftest import add_need, link_youths, log_contact
from tests.factories import CadreFactory

SCORE_FIELDS = [
    f.attname for f in CadreScore._meta.concrete_fields if f.name not in {"id", "computed_at"}
]


def _snapshot(code: str) -> dict:
    """Every row a whole run stores: scores, open flags, padding findings, the run's totals."""
    run = ScoreRun.objects.get(period=code)
    return {
        "scores": sorted(CadreScore.objects.filter(period=code).values_list(*SCORE_FIELDS)),
        "flags": sorted(
            (f.cadre_id, f.organisation_id, f.first_period, f.last_period, str(f.reasons))
            for f in Flag.objects.filter(resolved_at__isnull=True)
        ),
        "findings": sorted(
            (f.cadre_id, f.organisation_id, f.codes, str(f.signals))
            for f in IntegrityFinding.objects.filter(run__period=code)
        ),
        "run": (run.as_of, run.n_cadres, run.is_final),
    }


def _sitting(cadre, youths, day: datetime.date) -> None:
    """Twelve contacts typed thirty seconds apart: a padding burst (integrity.py)."""
    at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(8, 0)))
    for i in range(12):
        contact = log_contact(cadre, [youths[i % len(youths)]], day, "wechat")
        Contact.objects.filter(pk=contact.pk).update(
            created_at=at + datetime.timedelta(seconds=30 * i)
        )


@pytest.fixture
def world(tree, quota10):
    """Nine cadres in two townships: contacts, needs, two padding bursts, some below quota."""
    today = timezone.localdate()
    start = period_containing(today).start
    cadres = [tree.cadre] + [
        CadreFactory(organisation=org) for org in (tree.town_a, tree.town_b) * 4
    ]
    for i, cadre in enumerate(cadres):
        youths = link_youths(cadre, 3 + 2 * i, sectors=1 + i % 4)
        log_contact(cadre, youths[: 1 + i], start, channel="talk")
        if i in (2, 7):
            _sitting(cadre, youths, start)
    for cadre in cadres[:3]:
        add_need(cadre, due=start + datetime.timedelta(days=2))
    return {"cadres": cadres, "code": period_containing(today).code, "today": today}


def _whole_period_pending(code: str) -> None:
    freshness.touch([code], None)
    RecomputeClaim.objects.update_or_create(
        period=code, defaults={"pending_since": timezone.now(), "running_since": None}
    )


def test_steps_store_exactly_the_rows_of_the_one_transaction_run(world, settings):
    code, today = world["code"], world["today"]
    services.scores_compute(period=code, today=today)
    gone = world["cadres"][5]  # stored now, no longer active when the steps run
    assert CadreScore.objects.filter(cadre=gone, period=code).exists()
    Cadre.objects.filter(pk=gone.pk).update(
        active_from=datetime.date(2020, 1, 1), active_until=datetime.date(2021, 1, 1)
    )
    # Numbers the steps must put right: a wrong stored score, a lost finding, a resolved flag.
    CadreScore.objects.filter(period=code, cadre=world["cadres"][1]).update(reached=999)
    IntegrityFinding.objects.filter(cadre=world["cadres"][2]).delete()
    Flag.objects.filter(cadre=world["cadres"][3]).update(resolved_at=timezone.now())

    settings.LIANQING_RUN_CHUNK_CADRES = 3
    bounds = chunked.chunk_bounds()
    assert len(bounds) >= 3 and bounds[0][0] == 0 and bounds[-1][1] is None
    _whole_period_pending(code)
    with mock.patch.object(chunked, "run_part", wraps=chunked.run_part) as part:
        out = freshness.run_pending(period=code, today=today)

    assert out["status"] == "done" and out["chunks"] and not out["incremental"]
    assert part.call_count == len(bounds)
    claim = RecomputeClaim.objects.get(period=code)
    assert claim.running_since is None and claim.last_error == ""
    assert not TouchedCadre.objects.filter(period=code).exists()
    in_steps = _snapshot(code)
    assert not CadreScore.objects.filter(cadre=gone, period=code).exists()
    assert {f[0] for f in in_steps["findings"]} == {world["cadres"][2].pk, world["cadres"][7].pk}
    assert in_steps["flags"]  # cadres below the quota are flagged

    services.scores_compute(period=code, today=today)  # one transaction, whole period
    assert _snapshot(code) == in_steps


def test_detection_by_cadre_range_equals_the_whole_detection(world):
    period = parse_period(world["code"], today=world["today"])
    as_of = period.as_of(world["today"])
    whole = integrity.detect(period=period, as_of=as_of, thresholds={})
    split_at = world["cadres"][4].pk
    parts = {
        **integrity.detect(period=period, as_of=as_of, thresholds={}, cadre_range=(0, split_at)),
        **integrity.detect(period=period, as_of=as_of, thresholds={}, cadre_range=(split_at, None)),
    }
    assert set(whole) == {world["cadres"][2].pk, world["cadres"][7].pk}

    def _json(found: dict) -> dict:
        return {cid: [s.as_json() for s in signals] for cid, signals in found.items()}

    assert _json(parts) == _json(whole)


def test_the_claim_is_held_from_first_to_last_step(world, settings):
    """A change during the steps waits for the next run: no second run of the period starts."""
    code, today = world["code"], world["today"]
    services.scores_compute(period=code, today=today)
    settings.LIANQING_RUN_CHUNK_CADRES = 4
    _whole_period_pending(code)
    seen = []

    def meanwhile(**kwargs):
        freshness.touch([code], [world["cadres"][0].pk])
        RecomputeClaim.objects.filter(period=code).update(pending_since=timezone.now())
        with mock.patch("assessment.tasks.refresh_period.apply_async"):
            seen.append(freshness.run_pending(period=code, today=today)["status"])
        return original(**kwargs)

    original = chunked.run_part
    with mock.patch.object(chunked, "run_part", side_effect=meanwhile):
        assert freshness.run_pending(period=code, today=today)["status"] == "done"
    assert seen and set(seen) == {"busy"}
    claim = RecomputeClaim.objects.get(period=code)
    assert claim.running_since is None and claim.pending_since is not None  # the next run's
    assert TouchedCadre.objects.filter(period=code, cadre_id=world["cadres"][0].pk).exists()


def test_a_failed_step_marks_the_whole_period_and_releases_the_claim(world, settings):
    code, today = world["code"], world["today"]
    services.scores_compute(period=code, today=today)
    finished = ScoreRun.objects.get(period=code).finished_at
    settings.LIANQING_RUN_CHUNK_CADRES = 3
    _whole_period_pending(code)
    calls = []

    def second_fails(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return original(**kwargs)

    original = services.flags_refresh
    with (
        mock.patch("assessment.services.flags_refresh", side_effect=second_fails),
        mock.patch("assessment.tasks.refresh_period.apply_async") as enqueue,
        pytest.raises(RuntimeError),
    ):
        freshness.run_pending(period=code, today=today)
    claim = RecomputeClaim.objects.get(period=code)
    assert claim.running_since is None and claim.last_error == "boom"
    assert TouchedCadre.objects.filter(period=code, cadre_id=freshness.WHOLE_PERIOD).exists()
    assert ScoreRun.objects.get(period=code).finished_at == finished  # not finished
    # In-process (eager) no run is started again inside the failure: with a broker a new run
    # follows after the debounce; here the whole-period marker waits for the next change.
    assert not enqueue.called


def test_a_step_of_a_superseded_chain_writes_nothing(world):
    code, today = world["code"], world["today"]
    run = services.scores_compute(period=code, today=today)
    RecomputeClaim.objects.update_or_create(
        period=code, defaults={"running_since": timezone.now(), "pending_since": None}
    )
    before = _snapshot(code)
    old_claim = (timezone.now() - datetime.timedelta(hours=1)).isoformat()
    args = {"period": code, "today": today.isoformat(), "policy_id": run.policy_id}
    assert chunked.run_part(**args, claim_since=old_claim, lo=0, hi=None)["status"] == (
        "superseded"
    )
    assert chunked.run_finish(**args, claim_since=old_claim, started=0.0)["status"] == (
        "superseded"
    )
    assert _snapshot(code) == before
    assert RecomputeClaim.objects.get(period=code).running_since is not None  # not ours


def test_a_small_deployment_keeps_one_transaction(world):
    """Fewer cadres than one step: the whole period stays one task and one transaction."""
    code, today = world["code"], world["today"]
    _whole_period_pending(code)
    with mock.patch.object(chunked, "start") as start:
        out = freshness.run_pending(period=code, today=today)
    assert out["status"] == "done" and not start.called


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "queue"),
    [
        ("assessment.refresh_period", ["2026Q4"], {}, QUEUES["quarter"]),
        ("assessment.refresh_period", ["2026H2"], {}, QUEUES["half"]),
        ("assessment.refresh_period", ["2026"], {}, QUEUES["year"]),
        ("assessment.refresh_part", [], {"period": "2026", "lo": 0}, QUEUES["year"]),
        ("assessment.refresh_finish", [], {"period": "2026Q4"}, QUEUES["quarter"]),
        ("assessment.compute_contact_stats", [7, None], {"period": "2026H1"}, QUEUES["half"]),
        ("assessment.compute_contact_stats", [7, None], {}, "celery"),
        ("cadres.flush_outbox", [], {}, "celery"),
    ],
)
def test_each_period_kind_has_its_own_queue(name, args, kwargs, queue):
    from config.celery_app import app

    assert route(name, args, kwargs, {}) == (None if queue == "celery" else {"queue": queue})
    # The app's own router, as apply_async and the outbox's send_task use it.
    assert app.amqp.router.route({}, name, args, kwargs)["queue"].name == queue


def test_a_worker_without_q_consumes_every_queue():
    from config.celery_app import app

    names = {q.name for q in app.conf.task_queues}
    assert names == {"celery", *QUEUES.values()}


def test_the_nightly_run_only_schedules_each_period_whole(db):
    from assessment.tasks import compute_current

    with mock.patch("assessment.tasks.refresh_period.apply_async") as enqueue:
        out = compute_current()
    today = timezone.localdate()
    current = period_containing(today)
    codes = [
        current.previous().code,
        current.code,
        period_containing(today, kind="half").code,
        period_containing(today, kind="year").code,
    ]
    assert [r["period"] for r in out] == codes and all(r["scheduled"] for r in out)
    assert sorted(c.args[0][0] for c in enqueue.call_args_list) == sorted(codes)
    assert sorted(
        TouchedCadre.objects.filter(cadre_id=freshness.WHOLE_PERIOD).values_list(
            "period", flat=True
        )
    ) == sorted(codes)
    assert not ScoreRun.objects.exists()  # the work is the runs', each on its own queue


# One broker queue for every xdist worker: tests with a real Celery worker run in one group.
@pytest.mark.xdist_group("celery-worker")
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_a_whole_period_in_steps_and_releases_the_claim(world, settings):
    """Redis + a real worker: the steps travel as a chain of tasks on the quarter's queue and
    leave the rows of the one-transaction run."""
    from celery.contrib.testing.worker import start_worker

    from tests.celery_helpers import own_broker

    code, today = world["code"], world["today"]
    services.scores_compute(period=code, today=today)
    reference = _snapshot(code)
    CadreScore.objects.filter(period=code).update(reached=999)
    runs = ScoreRun.objects.get(period=code).runs
    settings.LIANQING_RUN_CHUNK_CADRES = 4
    with (
        own_broker(10) as app,
        start_worker(app, pool="solo", perform_ping_check=False, loglevel="error"),
    ):
        assert not chunked.inline()
        freshness.touch([code], None)
        freshness.schedule([code], countdown=0)
        deadline = time.monotonic() + 120
        while True:
            claim = RecomputeClaim.objects.get(period=code)
            run = ScoreRun.objects.get(period=code)
            if run.runs > runs and claim.running_since is None:
                break
            assert time.monotonic() < deadline, "the steps did not finish in 120 s"
            time.sleep(0.3)
    assert claim.last_error == "" and claim.pending_since is None
    assert _snapshot(code) == reference


@pytest.mark.xdist_group("celery-worker")
@pytest.mark.redis
def test_on_redis_each_job_lands_in_exactly_one_queue(db):
    """The queues share Celery's default exchange: with every queue's binding declared (as
    workers do), a routed job and a default one still land in one list each, never in all."""
    import redis

    from tests.celery_helpers import own_broker

    with own_broker(11) as app:
        with app.connection_for_write() as conn:
            for queue in app.conf.task_queues:
                queue.bind(conn.default_channel).declare()
        app.send_task("assessment.refresh_period", args=["2026H2"], ignore_result=True)
        app.send_task("assessment.refresh_period", args=["2026Q4"], ignore_result=True)
        app.send_task("cadres.flush_outbox", ignore_result=True)
        broker = redis.Redis.from_url(app.conf.broker_url)
        lengths = {q.name: broker.llen(q.name) for q in app.conf.task_queues}
        broker.flushdb()
    assert lengths == {"celery": 1, QUEUES["quarter"]: 1, QUEUES["half"]: 1, QUEUES["year"]: 0}
