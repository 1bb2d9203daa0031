"""Staff pages for the registry that used to need Django admin (issue 15 item 2): the cadre
handover, a youth's entry corrected, a youth who moved away. Thin: resolve in scope → form →
service → redirect."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from config.forms import add_service_errors, run_action

from . import registry
from .auth import staff_required
from .forms import MoveAwayForm, YouthEditForm
from .handover import cadre_handover, handover_successors
from .models import Cadre, CadreYouth, Youth
from .scoping import get_in_scope_or_404
from .selectors import get_youth_for_user


class SuccessorChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Cadre) -> str:  # type: ignore[override]
        # Namesakes exist (two 托雅 in different organisations): the organisation tells them apart.
        return f"{obj.name} · {obj.organisation.name}"


class HandoverForm(forms.Form):
    successor = SuccessorChoice(
        label=gettext_lazy("接任者"),
        queryset=Cadre.objects.none(),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    on = forms.DateField(
        label=gettext_lazy("交接日期（接任者接手之日，离任者任职到前一天）"),
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}, format="%Y-%m-%d"),
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
    if request.method == "POST" and form.is_valid():
        try:
            done = cadre_handover(
                cadre=cadre,
                successor=form.cleaned_data["successor"],
                on=form.cleaned_data["on"],
                by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
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
