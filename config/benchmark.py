"""What `manage.py benchmark_pages` needs inside the server it starts, and nothing else.

Enabled only when LIANQING_BENCHMARK is set (the command sets it for the gunicorn it starts; no
deployment does): a middleware that reports each response's server time and query count in
headers, and the floor page, plain Django with one sorted query, that every page is compared with.
"""

from __future__ import annotations

import time

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cadres.models import Cadre

FLOOR_ROWS = 50


class ServerTimingMiddleware:
    """First in the chain: `Server-Timing: app;dur=<ms>` covers every other middleware, the view
    and the template; `cpu;dur=<ms>` is the CPU time of the request's own thread over the same
    span (the Python of the page, without waiting for the database or for other threads: on a
    shared machine it moves far less than the wall time); `X-Queries` counts the statements
    sent to the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        t0, cpu0 = time.perf_counter(), time.thread_time()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        wall, cpu = time.perf_counter() - t0, time.thread_time() - cpu0
        response["Server-Timing"] = f"app;dur={wall * 1000:.2f}, cpu;dur={cpu * 1000:.2f}"
        response["X-Queries"] = str(queries)
        return response


def floor(request: HttpRequest) -> HttpResponse:
    """Bare Django: one query that sorts every cadre (10,000 at province scale) by name, and a
    template without the site layout. No login, no scoping: the cheapest page a Django page can
    be on this machine and database."""
    rows = Cadre.objects.order_by("name", "pk").values_list("pk", "name")[:FLOOR_ROWS]
    return render(request, "benchmark/floor.html", {"rows": rows})
