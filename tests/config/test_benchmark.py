"""The pieces of config/benchmark.py that the benchmark server uses (the command itself starts
gunicorn against a real database: run by hand, see docs/performance.md)."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from cadres.management.commands.benchmark_pages import Result
from cadres.models import Cadre
from config.benchmark import ServerTimingMiddleware, floor
from tests.factories import CadreFactory

pytestmark = pytest.mark.django_db


def test_middleware_reports_server_time_and_the_queries_of_the_request():
    def view(request):
        list(Cadre.objects.all())
        list(Cadre.objects.all())
        return HttpResponse("ok")

    response = ServerTimingMiddleware(view)(RequestFactory().get("/"))
    assert response["X-Queries"] == "2"
    assert response["Server-Timing"].startswith("app;dur=")
    assert float(response["Server-Timing"].split("=")[1].split(",")[0]) >= 0


def test_the_cpu_time_is_the_request_threads_own_not_its_waiting():
    """`cpu;dur=`: a view that sleeps 200 ms costs ~0 CPU; one that computes costs its CPU."""
    import time

    from cadres.management.commands.benchmark_pages import _CPU, _DUR

    def sleeper(request):
        time.sleep(0.2)
        return HttpResponse("ok")

    def worker(request):
        end = time.thread_time() + 0.05
        while time.thread_time() < end:
            pass
        return HttpResponse("ok")

    slept = ServerTimingMiddleware(sleeper)(RequestFactory().get("/"))["Server-Timing"]
    assert float(_DUR.search(slept).group(1)) >= 200
    assert float(_CPU.search(slept).group(1)) < 50
    worked = ServerTimingMiddleware(worker)(RequestFactory().get("/"))["Server-Timing"]
    assert float(_CPU.search(worked).group(1)) >= 50


def test_floor_page_lists_cadres_sorted_by_name_in_one_query(django_assert_num_queries):
    CadreFactory(name="乙")
    CadreFactory(name="甲")
    with django_assert_num_queries(1):
        response = floor(RequestFactory().get("/"))
    body = response.content.decode()
    assert response.status_code == 200
    names = list(Cadre.objects.order_by("name").values_list("name", flat=True))
    assert body.index(names[0]) < body.index(names[1])


def test_percentiles_pick_from_the_sorted_samples():
    r = Result("/", server_ms=[float(v) for v in range(100, 0, -1)])
    assert r.p(0.5) == 51.0
    assert r.p(0.95) == 95.0
    assert Result("/").p(0.95) == 0.0


def test_the_second_pool_takes_the_staff_dashboards_never_a_cadre_page():
    from cadres.management.commands.benchmark_pages import CADRE_PAGES, _staff_pool

    for path in ("/assessment/", "/assessment/bulletin/?period=2026Q3", "/admin/", "/cadres/"):
        assert _staff_pool(path)
    for path in CADRE_PAGES + ["/contacts/mine/", "/contacts/ask/", "/"]:
        assert not _staff_pool(path), path


def test_the_staff_pool_can_be_started_at_a_lower_cpu_priority(monkeypatch):
    """`--staff-nice`: the second pool's gunicorn runs under nice, the main pool never does."""
    from cadres.management.commands import benchmark_pages

    started = []
    monkeypatch.setattr(
        benchmark_pages.subprocess, "Popen", lambda cmd, **kwargs: started.append(cmd)
    )
    command = benchmark_pages.Command()
    opts = {"worker_class": "gthread", "workers": 1, "threads": 2}
    command._start({}, 8001, {**opts, "nice": 10}, label="看板池")
    command._start({}, 8000, opts)
    assert started[0][:3] == ["nice", "-n", "10"] and "gunicorn" in started[0][3]
    assert "gunicorn" in started[1][0] and "nice" not in started[1]
