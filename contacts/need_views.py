"""The needs desk's staff and cadre pages (有问必答 有求必应): detail, answer, assign, close,
new, groups. Thin: resolve in scope → form → service → redirect."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from cadres.auth import staff_required
from cadres.selectors import cadre_list, get_in_scope_or_404, in_subtree
from config.forms import save_form

from . import need_services, selectors
from .forms import (
    NeedAnswerForm,
    NeedAssignForm,
    VenueNeedForm,
)
from .models import Need


def _need_for_user(request: HttpRequest, pk: int) -> Need:
    return get_in_scope_or_404(
        Need.objects.select_related(
            "organisation", "owner_cadre", "owner_user", "youth", "contact", "activity"
        ),
        user=request.user,
        pk=pk,
        org_field="organisation",
        cadre_field="owner_cadre",
    )


def _assign_form(request, need, data=None):
    if not request.user.sees_subtree:
        return None
    cadres = in_subtree(cadre_list(user=request.user), organisation=need.organisation)
    return NeedAssignForm(
        data,
        cadres=cadres,
        initial={"owner_cadre": need.owner_cadre_id, "due_date": need.due_date},
    )


def _need_page(
    request: HttpRequest,
    need: Need,
    *,
    answer_form: NeedAnswerForm | None = None,
    assign_form: NeedAssignForm | None = None,
) -> HttpResponse:
    """The need's page; an action whose form did not pass shows that form, bound, with errors."""
    if answer_form is None:
        answer_form = NeedAnswerForm(initial={"answer": need.answer})
    if assign_form is None:
        assign_form = _assign_form(request, need)  # None for a cadre: only staff assign
    history = need.history.select_related("history_user").order_by("-history_date")[:20]
    return render(
        request,
        "contacts/need_detail.html",
        {"need": need, "answer_form": answer_form, "assign_form": assign_form, "history": history},
    )


@login_required
@require_safe
def need_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _need_page(request, _need_for_user(request, pk))


@login_required
@require_POST
def need_answer(request: HttpRequest, pk: int) -> HttpResponse:
    need = _need_for_user(request, pk)
    form = NeedAnswerForm(request.POST)
    saved = save_form(
        request,
        form,
        lambda: need_services.need_answer(
            need=need, answer=form.cleaned_data["answer"], by=request.user
        ),
    )
    if saved is not None:
        messages.success(request, _("已答复。"))
        return redirect("contacts:need_detail", pk=need.pk)
    return _need_page(request, need, answer_form=form)


@staff_required
@require_POST
def need_assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff give the need an owner: a cadre of its subtree, or (none chosen) themselves."""
    need = _need_for_user(request, pk)
    form = _assign_form(request, need, request.POST)
    saved = save_form(
        request,
        form,
        lambda: need_services.need_assign(
            need=need,
            owner_cadre=form.cleaned_data["owner_cadre"],
            owner_user=None if form.cleaned_data["owner_cadre"] else request.user,
            due_date=form.cleaned_data["due_date"],
            by=request.user,
        ),
    )
    if saved is not None:
        messages.success(request, _("已指派。"))
        return redirect("contacts:need_detail", pk=need.pk)
    return _need_page(request, need, assign_form=form)


@login_required
@require_POST
def need_close(request: HttpRequest, pk: int) -> HttpResponse:
    need = _need_for_user(request, pk)
    need_services.need_close(need=need, by=request.user)
    messages.success(request, _("需求已关闭。"))
    return redirect("contacts:need_detail", pk=need.pk)


@staff_required
def need_new(request: HttpRequest) -> HttpResponse:
    """Staff at the venue record a need brought in person (owner: themselves)."""
    organisation = request.user.organisation
    if organisation is None:
        raise Http404
    form = VenueNeedForm(request.POST or None)
    need = save_form(
        request,
        form,
        lambda: need_services.need_submit_venue(
            organisation=organisation, by=request.user, **form.cleaned_data
        ),
    )
    if need is not None:
        messages.success(request, _("需求已登记。"))
        return redirect("contacts:need_detail", pk=need.pk)
    return render(request, "contacts/need_new.html", {"form": form, "organisation": organisation})


@staff_required
def need_groups(request: HttpRequest) -> HttpResponse:
    """Needs of one category in a period, to turn into a planned lecture or training."""
    today = timezone.localdate()
    try:
        days = max(7, min(int(request.GET.get("days", 90)), 366))
    except ValueError:
        days = 90
    groups = selectors.need_groups(
        user=request.user, start=today - datetime.timedelta(days=days), end=today
    )
    for group in groups:
        # The activities app builds the page that creates the activity from these needs.
        group["activity_url"] = "/activities/new/from-needs/?needs=" + ",".join(
            str(i) for i in group["ids"]
        )
    return render(request, "contacts/need_groups.html", {"groups": groups, "days": days})
