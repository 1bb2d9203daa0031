"""Project-level views that belong to no single app: the home page (every app's panels), the
health check and the error pages."""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError, connection
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import panels

logger = logging.getLogger(__name__)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    role = "staff" if request.user.sees_subtree else "cadre"
    if (
        role == "cadre"
        and request.user.organisation_id is None
        and not hasattr(request.user, "cadre")
    ):
        raise PermissionDenied
    return render(request, f"home_{role}.html", {"panels": panels.collect(role, request)})


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


@login_required
@require_GET
def media(request: HttpRequest, path: str) -> HttpResponse:
    """Uploaded files, never public: the user must be logged in and the file's owner (today an
    activity photo) in their scope. In production nginx serves the bytes through
    X-Accel-Redirect to an `internal` location (LIANQING_MEDIA_ACCEL_PREFIX, e.g.
    "/protected-media/"); without it Django streams the file (FileResponse)."""
    from activities.selectors import photo_for_user

    if ".." in path.split("/") or path.startswith("/"):
        raise Http404
    photo = photo_for_user(user=request.user, name=path)
    prefix = settings.LIANQING_MEDIA_ACCEL_PREFIX
    if prefix:
        response = HttpResponse(content_type="")
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + photo.image.name
    else:
        try:
            response = FileResponse(photo.image.open("rb"))
        except FileNotFoundError:
            raise Http404 from None
    # Personal data: never in a shared cache.
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- The installable app (PWA): manifest and service worker. ---

# The cadre's pages the service worker keeps for use without signal (issue 14 item 4).
OFFLINE_PAGES = ("/", "/contacts/new/", "/contacts/batch/", "/cadres/me/youths/", "/contacts/mine/")


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: Lianqing installs on a phone's home screen and opens the home."""
    from django.templatetags.static import static

    data = {
        "name": "联青 · 1+100 直接联系青年",
        "short_name": "联青",
        "lang": "zh-Hans",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#f6f5f3",
        "theme_color": "#b3261e",
        "icons": [
            {"src": static("lianqing/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("lianqing/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("lianqing/icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, from this origin's root so that its scope can be the whole site.

    Served by Django rather than as a static file: a static URL lives under /static/, and a
    worker's scope cannot reach above its own path without `Service-Worker-Allowed`. It is
    revalidated on every load (no-cache) so that a deployment's new worker replaces the old one.
    """
    response = render(
        request,
        "pwa/sw.js",
        {"offline_pages": OFFLINE_PAGES, "static_prefix": settings.STATIC_URL, "version": "1"},
        content_type="text/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for whatever the page says (no 404 in the console)."""
    from django.http import HttpResponsePermanentRedirect
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("lianqing/icons/favicon.ico"))
