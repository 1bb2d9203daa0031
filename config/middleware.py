"""Project-wide middleware."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


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
