"""Annual work plans at /activities/plans/ (issue 15 item 1): the subtree overview for a year
(which organisation has a plan, which has none by the committee's date), one plan with its
items and planned vs done per quarter, item forms, handing in, the committee's date, history.

Reads through activities/plans.py (scoped; the one completion function), writes through
activities/services/plans.py. Outside scope is 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cadres.auth import staff_required
from cadres.models import Organisation
from cadres.selectors import get_in_scope_or_404, organisation_list
from config.forms import run_action, save_form
from config.history import history_records

from .. import services
from ..forms import (
    PlanCreateForm,
    PlanDeadlineForm,
    PlanItemForm,
    PlanScopeForm,
    PlanSummaryForm,
)
from ..models import Activity, PlanItem, WorkPlan
from ..plans import plan_completion, plan_item_scope, plan_overview, plan_scope


def _plan_or_404(request: HttpRequest, pk: int) -> WorkPlan:
    # plan_scope is cadres.scoping's rule for plans; a pk outside it is 404, never 403.
    plan = plan_scope(request.user).filter(pk=pk).first()
    if plan is None:
        raise Http404
    return plan


def _item_or_404(request: HttpRequest, pk: int) -> PlanItem:
    item = plan_item_scope(request.user).filter(pk=pk).first()
    if item is None:
        raise Http404
    return item


def _may_write(request: HttpRequest) -> bool:
    # Staff who see a plan may write it (their subtree); cadres read their organisation's.
    return bool(request.user.sees_subtree)


@login_required
def plan_index(request: HttpRequest) -> HttpResponse:
    """Staff: the subtree's plans for a year and who has none by the date; a cadre: the plans of
    their own organisation."""
    today = timezone.localdate()
    if not request.user.sees_subtree:
        plans = plan_scope(request.user).order_by("-year")
        return render(request, "activities/plans/index.html", {"own_plans": list(plans[:20])})
    scope_form = PlanScopeForm(request.GET or None, user=request.user)
    organisation = request.user.organisation
    year = today.year
    if scope_form.is_valid():
        organisation = scope_form.cleaned_data.get("organisation") or organisation
        year = scope_form.cleaned_data.get("year") or year
    if organisation is None:  # a superuser without an organisation: the top of the tree
        organisation = organisation_list(user=request.user).first()
    if organisation is None:
        raise Http404
    overview = plan_overview(user=request.user, organisation=organisation, year=year, as_of=today)
    return render(
        request,
        "activities/plans/index.html",
        {
            "scope_form": scope_form,
            "overview": overview,
            "organisation": organisation,
            "year": year,
            "today": today,
            "create_form": PlanCreateForm(
                user=request.user, initial={"organisation": organisation.pk, "year": year}
            ),
            "deadline_form": PlanDeadlineForm(
                initial={"due_on": overview.deadline.due_on if overview.deadline else None}
            ),
        },
    )


@staff_required
def plan_create(request: HttpRequest) -> HttpResponse:
    form = PlanCreateForm(request.POST or None, user=request.user)
    plan = save_form(
        request,
        form,
        lambda: services.plan_create(by=request.user, **form.cleaned_data),
    )
    if plan is not None:
        messages.success(request, _("年度工作计划已创建，请添加工作事项。"))
        return redirect(plan)
    return render(request, "activities/plans/create.html", {"form": form})


@staff_required
@require_POST
def plan_deadline(request: HttpRequest, org_id: int, year: int) -> HttpResponse:
    if not 2000 <= year <= 2100:
        raise Http404
    organisation = get_in_scope_or_404(
        Organisation.objects.all(), user=request.user, pk=org_id, org_field=""
    )
    form = PlanDeadlineForm(request.POST)
    back = reverse("activities:plans") + f"?organisation={organisation.pk}&year={year}"

    def act() -> object:
        return services.plan_deadline_set(
            organisation=organisation, year=year, by=request.user, **form.cleaned_data
        )

    run_action(request, act, _("已设定计划提交截止日期。"), form=form)
    return redirect(back)


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(request, pk)
    writable = _may_write(request)
    item_form = (
        PlanItemForm(request.POST or None, plan=plan, user=request.user, prefix="item")
        if writable
        else None
    )
    if item_form is not None and request.method == "POST":
        saved = save_form(
            request,
            item_form,
            lambda: services.plan_item_save(plan=plan, by=request.user, **item_form.cleaned_data),
        )
        if saved is not None:
            messages.success(request, _("已添加计划事项。"))
            return redirect(plan)
    elif request.method == "POST":
        raise Http404
    figures = plan_completion(plans=[plan], as_of=timezone.localdate())[plan.pk]
    items = {
        i.pk: i for i in PlanItem.objects.filter(plan=plan).prefetch_related("responsible_cadres")
    }
    for entry in figures.items:
        entry.item = items.get(entry.item.pk, entry.item)
    activities = list(
        Activity.objects.filter(plan_item__plan=plan)
        .order_by("starts_at", "id")
        .only("id", "title", "starts_at", "status", "plan_item_id")
    )
    return render(
        request,
        "activities/plans/detail.html",
        {
            "plan": plan,
            "figures": figures,
            "activities": activities,
            "item_form": item_form,
            "summary_form": PlanSummaryForm(initial={"summary": plan.summary}),
            "writable": writable,
        },
    )


@staff_required
def plan_item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    form = PlanItemForm(request.POST or None, instance=item, plan=item.plan, user=request.user)
    saved = save_form(
        request,
        form,
        lambda: services.plan_item_save(
            plan=item.plan,
            by=request.user,
            item=PlanItem.objects.get(pk=item.pk),
            **form.cleaned_data,
        ),
    )
    if saved is not None:
        messages.success(request, _("计划事项已保存。"))
        return redirect(item.plan)
    return render(request, "activities/plans/item_form.html", {"form": form, "item": item})


@staff_required
@require_POST
def plan_item_delete(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item_or_404(request, pk)
    plan = item.plan
    run_action(
        request,
        lambda: services.plan_item_delete(item=item, by=request.user),
        _("已删除计划事项；关联的活动保留。"),
    )
    return redirect(plan)


@staff_required
@require_POST
def plan_submit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(request, pk)
    run_action(
        request,
        lambda: services.plan_submit(plan=plan, by=request.user),
        _("计划已提交。"),
    )
    return redirect(plan)


@staff_required
@require_POST
def plan_summary(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(request, pk)
    form = PlanSummaryForm(request.POST)
    run_action(
        request,
        lambda: services.plan_update(plan=plan, by=request.user, **form.cleaned_data),
        _("总体目标已保存。"),
        form=form,
    )
    return redirect(plan)


@login_required
def plan_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Who changed the plan and its items, when (items removed since included)."""
    plan = _plan_or_404(request, pk)
    records = history_records(
        plan.history.select_related("history_user"),
        PlanItem.history.filter(plan_id=plan.pk).select_related("history_user"),
    )
    return render(request, "activities/plans/history.html", {"plan": plan, "records": records})
