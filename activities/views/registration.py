"""Signing youths up and running the check-in list: one small POST view per row action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cadres.auth import staff_required
from cadres.models import Sector
from config.forms import run_action, service_error_text

from .. import selectors, services
from ..forms import ConfirmForm, HoursForm, YouthPickForm
from ..models import Registration
from .activity import _manageable

# --- registration and check-in (logged in) ------------------------------------------------------


@login_required
def register(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff or a responsible cadre signs youths up: search by name or phone, tick, register."""
    activity = _manageable(request, pk)
    form = YouthPickForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.registrations_add(
                activity=activity, youths=form.cleaned_data["youths"], by=request.user
            )
        except ValidationError as exc:
            messages.error(request, service_error_text(exc))
        else:
            messages.success(request, _("已报名 %(n)s 人。") % {"n": len(created)})
            return redirect("activities:checkin_list", pk=activity.pk)
    # NUL cannot be stored or compared by PostgreSQL (a 500): nobody types it, so drop it.
    q = request.GET.get("q", "").replace("\x00", "").strip()[:50]
    youths = selectors.youth_scope(request.user).select_related("sector")
    if q:
        youths = youths.filter(Q(name__icontains=q) | Q(phone=q) | Q(unit__icontains=q))
    elif request.user.sees_subtree:
        youths = youths.none()
    registered = set(
        activity.registrations.filter(youth__isnull=False).values_list("youth_id", flat=True)
    )
    return render(
        request,
        "activities/register.html",
        {
            "activity": activity,
            "youths": list(youths.order_by("name", "id")[:100]),
            "registered": registered,
            "q": q,
            "form": form,
        },
    )


@login_required
def checkin_list(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _manageable(request, pk)
    registrations = list(selectors.registrations_for(activity))
    sectors = list(Sector.objects.filter(is_active=True))
    for r in registrations:
        if r.youth_id is None and request.user.sees_subtree:
            r.confirm_form = ConfirmForm(auto_id=f"r{r.pk}_%s")
            r.confirm_form.fields["sector"].choices = [("", "—")] + [
                (s.pk, s.name) for s in sectors
            ]
    return render(
        request,
        "activities/checkin_list.html",
        {
            "activity": activity,
            "registrations": registrations,
            "n_attended": sum(1 for r in registrations if r.checked_in_at),
        },
    )


def _get_registration_for_user(request: HttpRequest, pk: int, rid: int) -> Registration:
    """The registration if the user may run its activity; 404 otherwise."""
    activity = _manageable(request, pk)
    registration = get_object_or_404(Registration, pk=rid, activity=activity)
    registration.activity = activity
    return registration


def _back_to_row(registration: Registration) -> HttpResponse:
    url = reverse("activities:checkin_list", args=[registration.activity_id])
    return redirect(f"{url}#r{registration.pk}")


def _registration_act(
    request: HttpRequest,
    registration: Registration,
    service: Callable[..., object],
    done: str,
    *,
    form: forms.BaseForm | None = None,
    **kwargs: Any,
) -> HttpResponse:
    """Run one check-in list action's service, say how it went, go back to the row. A `form`'s
    data is passed on with `kwargs`."""
    back = _back_to_row(registration)  # before the service: removing clears registration.pk

    def act() -> object:
        data = form.cleaned_data if form is not None else {}
        return service(registration=registration, by=request.user, **data, **kwargs)

    run_action(request, act, done, form=form)
    return back


@login_required
@require_POST
def registration_checkin(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    registration = _get_registration_for_user(request, pk, rid)
    return _registration_act(request, registration, services.checkin, _("已签到。"))


@login_required
@require_POST
def registration_undo(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    registration = _get_registration_for_user(request, pk, rid)
    done = _("已撤销签到，相应的联系记录已同步移除。")
    return _registration_act(request, registration, services.checkin_undo, done)


@login_required
@require_POST
def registration_hours(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    registration = _get_registration_for_user(request, pk, rid)
    form = HoursForm(request.POST)
    # No hours (or an over-long entry): the service counts the time since check-in, capped.
    hours = form.cleaned_data.get("hours") if form.is_valid() else None
    done = _("已登记时长。")
    return _registration_act(request, registration, services.checkout, done, hours=hours or None)


@login_required
@require_POST
def registration_remove(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    registration = _get_registration_for_user(request, pk, rid)
    return _registration_act(request, registration, services.registration_remove, _("已取消报名。"))


@staff_required
@require_POST
def registration_confirm(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    """Staff turn a walk-in sign-up (name and phone only) into a youth of the registry."""
    registration = _get_registration_for_user(request, pk, rid)
    return _registration_act(
        request,
        registration,
        services.registration_confirm,
        _("已确认并加入青年名册。"),
        form=ConfirmForm(request.POST),
        organisation=registration.activity.organisation,
    )
