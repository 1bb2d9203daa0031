"""Staff pages for the registry that used to need Django admin (issue 15 item 2): the cadre
handover, a youth's entry corrected, a youth who moved away. Thin: resolve in scope → form →
service → redirect."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from config.forms import add_service_errors, date_input, run_action, save_form
from config.pickers import PickerField

from . import merge, registry
from . import rules as rules_service
from .auth import staff_required
from .forms import (
    CadreForm,
    MoveAwayForm,
    QuotaRuleForm,
    SectorForm,
    YouthEditForm,
    YouthMergeForm,
)
from .handover import cadre_handover, handover_successors
from .merge import merge_candidates
from .models import Cadre, CadreType, CadreYouth, QuotaRule, Sector, Youth
from .scoping import get_in_scope_or_404
from .selectors import get_youth_for_user, is_programme_committee


class HandoverForm(forms.Form):
    # Namesakes exist (two 托雅 in different organisations): the picker shows type and
    # organisation, and accepts only the successors `handover_successors` allows.
    successor = PickerField(kind="cadre", label=gettext_lazy("接任者"))
    on = forms.DateField(
        label=gettext_lazy("交接日期（接任者接手之日，离任者任职到前一天）"),
        widget=date_input(),
    )

    def __init__(self, *args, successors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["successor"].queryset = successors  # type: ignore[attr-defined]


@staff_required
def cadre_handover_view(request: HttpRequest, pk: int) -> HttpResponse:
    """/cadres/<id>/handover/: move a leaving cadre's youths and open needs to a successor and
    end the office, in one step (cadres/handover.py)."""
    from contacts.selectors import open_needs_owned_count

    cadre = get_in_scope_or_404(
        Cadre.objects.select_related("organisation"), user=request.user, pk=pk, cadre_field="pk"
    )
    successors = handover_successors(user=request.user, cadre=cadre)
    form = HandoverForm(
        request.POST or None, successors=successors, initial={"on": timezone.localdate()}
    )
    done = save_form(
        request,
        form,
        lambda: cadre_handover(
            cadre=cadre,
            successor=form.cleaned_data["successor"],
            on=form.cleaned_data["on"],
            by=request.user,
        ),
    )
    if done is not None:
        messages.success(
            request,
            _("交接完成：%(y)s 名青年、%(n)s 件未办结需求已交给%(name)s，%(old)s 已离任。")
            % {
                "y": done.youths_moved + done.youths_already_linked,
                "n": done.needs_moved,
                "name": form.cleaned_data["successor"].name,
                "old": cadre.name,
            },
        )
        return redirect("cadres:detail", pk=form.cleaned_data["successor"].pk)
    return render(
        request,
        "cadres/cadre_handover.html",
        {
            "cadre": cadre,
            "form": form,
            "n_youths": CadreYouth.objects.filter(cadre=cadre).count(),
            "n_needs": open_needs_owned_count(cadre_id=cadre.pk),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- A youth's entry corrected, and a youth who moved away. ---


def _youth_for_staff(request: HttpRequest, pk: int) -> Youth:
    # Staff of the youth's subtree (a cadre got 404 from staff_required); else 404.
    return get_youth_for_user(user=request.user, pk=pk)


@staff_required
def youth_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """/cadres/youths/<id>/edit/: fix a phone number, a unit, the field (history kept)."""
    youth = _youth_for_staff(request, pk)
    initial = {
        f: getattr(youth, f)
        for f in ("name", "phone", "unit", "birth_year", "gender", "wechat_id", "notes")
    }
    form = YouthEditForm(request.POST or None, initial={**initial, "sector": youth.sector_id})
    held_by = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            registry.youth_update(youth=youth, by=request.user, **data)
        except registry.PhoneHeldBy as exc:
            add_service_errors(form, exc)
            held_by = exc.other
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存 %(name)s 的信息。") % {"name": data["name"]})
            return redirect("cadres:youth_detail", pk=youth.pk)
    return render(
        request,
        "cadres/youth_edit.html",
        {
            "youth": youth,
            "form": form,
            "held_by": held_by,
            "move_form": MoveAwayForm(initial={"on": timezone.localdate()}),
        },
        status=400 if request.method == "POST" else 200,
    )


@staff_required
@require_POST
def youth_move_away(request: HttpRequest, pk: int) -> HttpResponse:
    """POST: the youth left; their links end, the record and its history stay."""
    youth = _youth_for_staff(request, pk)
    form = MoveAwayForm(request.POST)

    def act() -> None:
        _youth, ended = registry.youth_move_away(
            youth=youth, on=form.cleaned_data["on"], by=request.user
        )
        done.append(ended)

    done: list[int] = []
    run_action(request, act, _("已标记为迁出。"), form=form)
    if done:
        messages.info(request, _("已解除 %(n)s 名团干部的联系。") % {"n": done[0]})
    return redirect("cadres:youth_detail", pk=youth.pk)


@staff_required
def youth_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """/cadres/youths/<id>/merge/: this record is kept; the chosen duplicate's links, contacts,
    attendances, needs and confirmations move to it (cadres/merge.py), in one step."""
    youth = _youth_for_staff(request, pk)
    q = (request.POST.get("q") or request.GET.get("q") or "").strip()[:50]
    also = request.POST.get("also") or request.GET.get("other")
    candidates = merge_candidates(user=request.user, youth=youth, q=q, also=also)
    initial = {"other": also} if also else {}
    form = YouthMergeForm(request.POST or None, candidates=candidates, initial=initial)
    if request.method == "POST" and form.is_valid():
        other = form.cleaned_data["other"]
        try:
            done = merge.youth_merge(kept=youth, duplicate=other, by=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("已合并：%(name)s 的另一条登记记录已并入本记录（联系关系 %(n)s 条）。")
                % {"name": youth.name, "n": done.moved.get("cadres.CadreYouth.youth", 0)},
            )
            return redirect("cadres:youth_detail", pk=youth.pk)
    return render(
        request,
        "cadres/youth_merge.html",
        {"youth": youth, "form": form, "q": q, "also": also or ""},
        status=400 if request.method == "POST" else 200,
    )


# --- Cadres: created and changed by staff. ---


def _cadre_data(form: CadreForm) -> dict:
    fields = (*registry.CADRE_FIELDS, "organisation")
    return {f: form.cleaned_data[f] for f in fields}


@staff_required
def cadre_new(request: HttpRequest) -> HttpResponse:
    """/cadres/new/: a cadre record in an organisation of the user's subtree."""
    form = CadreForm(request.POST or None, user=request.user)
    cadre = save_form(
        request,
        form,
        lambda: registry.cadre_create(
            **_cadre_data(form), active_from=form.cleaned_data["active_from"], by=request.user
        ),
    )
    if cadre is not None:
        messages.success(request, _("已新增团干部 %(name)s。") % {"name": cadre.name})
        return redirect("cadres:detail", pk=cadre.pk)
    return render(
        request,
        "cadres/cadre_edit.html",
        {"form": form, "cadre": None},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
def cadre_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """/cadres/<id>/edit/: change type, organisation, position, contact card (history kept)."""
    cadre = get_in_scope_or_404(
        Cadre.objects.select_related("organisation"), user=request.user, pk=pk, cadre_field="pk"
    )
    initial = {f: getattr(cadre, f) for f in registry.CADRE_FIELDS}
    form = CadreForm(
        request.POST or None,
        user=request.user,
        editing=True,
        initial={**initial, "organisation": cadre.organisation_id},
    )
    saved = save_form(
        request,
        form,
        lambda: registry.cadre_update(cadre=cadre, **_cadre_data(form), by=request.user),
    )
    if saved is not None:
        messages.success(request, _("已保存 %(name)s 的信息。") % {"name": cadre.name})
        return redirect("cadres:detail", pk=cadre.pk)
    return render(
        request,
        "cadres/cadre_edit.html",
        {"form": form, "cadre": cadre},
        status=400 if request.method == "POST" else 200,
    )


# --- The programme's rules: quota per cadre type, the field list (committee only). ---


def _committee_or_404(request: HttpRequest) -> None:
    if not is_programme_committee(request.user):
        raise Http404  # as for anything a user may not reach


@staff_required
def programme_rules(request: HttpRequest) -> HttpResponse:
    """/cadres/rules/: the quota of each cadre type and the field list; POST saves one form
    (`form=quota` with a cadre type, or `form=sector` with an optional sector)."""
    from .quota import DEFAULT_RULE

    _committee_or_404(request)
    rules = {r.cadre_type: r for r in QuotaRule.objects.all()}
    posted = request.POST.get("form") if request.method == "POST" else None
    quota_forms = []
    for value, label in CadreType.choices:
        rule = rules.get(value) or DEFAULT_RULE
        initial = {
            "cadre_type": value,
            "quota": rule.quota,
            "min_sectors": rule.min_sectors,
            "min_channels": rule.min_channels,
        }
        bound = posted == "quota" and request.POST.get("cadre_type") == value
        quota_forms.append(
            (label, QuotaRuleForm(request.POST if bound else None, initial=initial, prefix=value))
        )
    sectors = list(Sector.objects.order_by("sort_order", "id"))
    editing = None
    if posted == "sector" and request.POST.get("sector"):
        editing = next((s for s in sectors if str(s.pk) == request.POST["sector"]), None)
        if editing is None:
            raise Http404
    sector_form = SectorForm(request.POST if posted == "sector" else None)
    if posted == "quota":
        form = next((f for _label, f in quota_forms if f.is_bound), None)
        if form is not None and form.is_valid():
            try:
                rules_service.quota_rule_set(by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("已保存联系指标，统计数据将在一分钟内更新。"))
                return redirect("cadres:rules")
    elif posted == "sector" and sector_form.is_valid():
        try:
            rules_service.sector_save(sector=editing, by=request.user, **sector_form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(sector_form, exc)
        else:
            messages.success(request, _("已保存领域。"))
            return redirect("cadres:rules")
    return render(
        request,
        "cadres/rules.html",
        {
            "quota_forms": quota_forms,
            "sectors": sectors,
            "sector_form": sector_form,
            "editing": editing,
        },
        status=400 if request.method == "POST" else 200,
    )
