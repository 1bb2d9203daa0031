"""Public pages (no login, rate-limited): the sign-up link and the venue check-in code."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from config import ratelimit
from config.forms import add_service_errors, save_form

from .. import services
from ..forms import CheckinCodeForm, CheckinForm, PublicRegistrationForm
from ..models import Activity

# --- public pages (no login): sign-up link and check-in code ------------------------------------

# Per client address and minute. Check-in is generous: a whole event may share one venue Wi-Fi
# (one NAT address), 200 people in a few minutes; sign-up and code entry are tighter.
PUBLIC_LIMITS = {"register": 20, "checkin": 240, "checkin-code": 20}


def _too_many(request: HttpRequest, scope: str) -> HttpResponse | None:
    if request.method == "POST" and ratelimit.hit(
        request, f"activities-{scope}", limit=PUBLIC_LIMITS[scope], window=60
    ):
        return render(request, "activities/too_many.html", status=429)
    return None


def public_register(request: HttpRequest, code: str) -> HttpResponse:
    activity = get_object_or_404(
        Activity.objects.select_related("organisation"), register_code=code.upper()
    )
    if (refused := _too_many(request, "register")) is not None:
        return refused
    form = PublicRegistrationForm(request.POST or None)
    done = save_form(
        request,
        form,
        lambda: services.registration_public(activity=activity, **form.cleaned_data),
    )
    return render(
        request,
        "activities/public_register.html",
        {"activity": activity, "form": form, "done": done},
    )


def checkin_enter(request: HttpRequest) -> HttpResponse:
    """Type the code from the poster (for phones that cannot scan)."""
    if (refused := _too_many(request, "checkin-code")) is not None:
        return refused
    form = CheckinCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if Activity.objects.filter(checkin_code=form.cleaned_data["code"]).exists():
            return redirect("activities:public_checkin", code=form.cleaned_data["code"])
        form.add_error("code", _("签到码不正确，请核对海报上的 8 位签到码。"))
    return render(request, "activities/checkin_enter.html", {"form": form})


def public_checkin(request: HttpRequest, code: str) -> HttpResponse:
    activity = get_object_or_404(
        Activity.objects.select_related("organisation"), checkin_code=code.upper()
    )
    if (refused := _too_many(request, "checkin")) is not None:
        return refused
    form = CheckinForm(request.POST or None)
    done, need_name = None, False
    if request.method == "POST" and form.is_valid():
        try:
            done = services.checkin_by_code(activity=activity, **form.cleaned_data)
        except ValidationError as exc:
            need_name = getattr(exc, "code", None) == "need_name"
            add_service_errors(form, exc)
    display = ""
    if done is not None:
        name = done.youth.name if done.youth_id else done.name
        display = name[:1] + "*" * max(len(name) - 1, 1)
    return render(
        request,
        "activities/public_checkin.html",
        {
            "activity": activity,
            "form": form,
            "done": done,
            "display": display,
            "need_name": need_name,
        },
    )
