"""Project-level views that belong to no single app: the health check and the error pages."""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any driver error means "unreachable" to a load balancer
        logger.exception("healthz: database check failed")
        return "error"
    return "ok"


def _broker_status() -> str:
    if not settings.REDIS_URL:
        return "in-process"  # eager tasks: no broker to be down
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
    except Exception:
        logger.exception("healthz: broker check failed")
        return "error"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """ok / degraded / error. Without the broker the site still serves (rate limits fall back
    to the process, jobs wait in the outbox): "degraded", 200, so a load balancer keeps it.
    Without the database nothing works: "error", 503."""
    checks = {"database": _database_status(), "broker": _broker_status()}
    if checks["database"] == "error":
        status = "error"
    elif checks["broker"] == "error":
        status = "degraded"
    else:
        status = "ok"
    if checks["database"] == "ok":
        from cadres.outbox import outbox_pending

        checks["outbox"] = outbox_pending()
    return JsonResponse({"status": status, **checks}, status=503 if status == "error" else 200)


def page_not_found(request: HttpRequest, exception: Exception | None = None):
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest):
    """The 500 page, rendered without context processors (they may need the database that just
    failed). A database that cannot be reached gets its own page and a 503."""
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        logger.error("database unavailable: %s", type(exc).__name__)
        return HttpResponse(loader.get_template("503.html").render(), status=503)
    return HttpResponseServerError(loader.get_template("500.html").render())
