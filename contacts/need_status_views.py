"""The asker's status page for a need (contacts/need_status.py): public, by signed link."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from config import ratelimit
from config.forms import service_error_text

from .need_status import need_feedback_record, need_from_token

# Feedback posts per address per hour: enough for a family sharing a phone, not for a script.
FEEDBACK_RATE = 20


@never_cache
def need_status(request: HttpRequest, token: str) -> HttpResponse:
    need = need_from_token(token)
    if need is None:
        raise Http404
    response = render(request, "contacts/need_status.html", {"need": need, "token": token})
    response["X-Robots-Tag"] = "noindex"
    # The link is the key: never sent to another site. Not "no-referrer": Chromium then sends
    # the feedback form's POST with "Origin: null", which Django's CSRF check refuses.
    response["Referrer-Policy"] = "same-origin"
    return response


@require_POST
def need_status_feedback(request: HttpRequest, token: str) -> HttpResponse:
    need = need_from_token(token)
    if need is None:
        raise Http404
    if ratelimit.hit(request, "need-feedback", limit=FEEDBACK_RATE, window=3600):
        messages.error(request, _("提交太频繁了，请稍后再试。"))
        return redirect("contacts:need_status", token=token)
    helped = request.POST.get("helped")
    if helped not in ("yes", "no"):
        messages.error(request, _("请选择“解决了”或“没有解决”。"))
        return redirect("contacts:need_status", token=token)
    try:
        need_feedback_record(need=need, helped=helped == "yes")
    except ValidationError as exc:
        messages.info(request, service_error_text(exc))
    else:
        messages.success(request, _("谢谢您的反馈！"))
    return redirect("contacts:need_status", token=token)
