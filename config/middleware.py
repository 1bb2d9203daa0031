"""Project-wide middleware."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


# The longest query string a request may carry, in bytes as sent (percent-encoded). In production
# gunicorn refuses a request line over 4,094 bytes and nginx over 8 KB, so a longer one never
# reaches Django; answering the same here keeps that contract for every deployment and lets the
# tests see what production does (a 1.3 MB query string used to be re-encoded by the login
# redirect into a 3.9 MB `next`).
MAX_QUERY_STRING_BYTES = 8192


class QueryStringLimitMiddleware:
    """First in MIDDLEWARE: a query string over MAX_QUERY_STRING_BYTES answers 414 with a short
    Chinese page before sessions, authentication or any view see the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # WSGI hands QUERY_STRING over as latin-1 text: one character per byte on the wire.
        if len(request.META.get("QUERY_STRING", "")) > MAX_QUERY_STRING_BYTES:
            title = escape(_("请求地址过长"))
            hint = escape(_("链接中的参数太多或太长，请返回上一页重新操作。"))
            body = (
                '<!doctype html><html lang="zh-hans"><meta charset="utf-8">'
                f"<title>{title}</title><h1>{title}</h1><p>{hint}</p></html>"
            )
            return HttpResponse(body, status=414, content_type="text/html; charset=utf-8")
        return self.get_response(request)


def _row_vanished(exc: Exception) -> bool:
    # Model.save(update_fields=…) on a row deleted meanwhile raises exactly this DatabaseError.
    return isinstance(exc, ObjectDoesNotExist) or (
        isinstance(exc, DatabaseError) and "did not affect any rows" in str(exc)
    )


class VanishedRowMiddleware:
    """An action on a row that someone else just deleted (a check-in racing a removal, a
    double-clicked delete, two tabs) answers a clear message, not a 500.

    Views resolve their object with a scoped 404 first; this catches the row that vanished
    between that lookup and the service's write. A POST goes back to the page it came from with
    the message; anything else gets the 404 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not _row_vanished(exc):
            return None
        logger.info("vanished row on %s: %s", request.method, type(exc).__name__)
        message = _("这条记录刚刚已被删除或已不存在（可能是其他人操作的），请刷新页面后重试。")
        referer = request.META.get("HTTP_REFERER", "")
        if request.method == "POST" and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            messages.warning(request, message)
            return redirect(referer)
        return render(request, "404.html", {"message": message}, status=404)
