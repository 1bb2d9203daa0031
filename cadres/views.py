from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin

from config.forms import add_service_errors, run_action, save_form, service_error_text
from config.history import history_records
from config.pagination import BoundedLazyPaginator, BoundedPaginator
from config.qr import qr_svg

from . import jobs, registry, services
from .auth import staff_required
from .exports import ScopedExportMixin, may_export_minors
from .filters import CadreProgressFilter, YouthFilter
from .forms import ChannelForm, RosterUploadForm, YouthAddForm
from .models import (
    Cadre,
    CadreYouth,
    ExportLog,
    LiaisonChannel,
    Organisation,
    RosterImport,
    Youth,
)
from .privacy import join_token
from .privacy_views import may_erase
from .roster import template_headers
from .roster_import import roster_preview
from .selectors import (
    cadre_progress,
    cadre_progress_list,
    channel_list,
    get_in_scope_or_404,
    get_youth_for_user,
    needs_form_url,
    organisation_list,
    scope_queryset,
    user_cadre,
    user_list,
    youth_links,
    youth_list,
)
from .tables import CadreProgressTable, YouthTable


@staff_required
def organisation_index(request: HttpRequest) -> HttpResponse:
    organisations = organisation_list(user=request.user).annotate(
        n_children=Count("children", distinct=True)
    )
    return render(request, "cadres/organisation_list.html", {"organisations": organisations})


@staff_required
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = get_in_scope_or_404(
        Organisation.objects.select_related("parent"), user=request.user, pk=pk, org_field=""
    )
    children = organisation.children.order_by("path")
    users = user_list(user=request.user).filter(organisation=organisation).order_by("username")
    return render(
        request,
        "cadres/organisation_detail.html",
        {
            "organisation": organisation,
            "children": children,
            "users": users,
            "n_cadres": organisation.cadres.count(),
        },
    )


# --- The registry: cadres and their quota progress. ---

# A cadre's own youth lists are read on a phone: name, field, unit and phone number suffice.
PHONE_YOUTH_COLUMNS_EXCLUDED = ("gender", "birth_year", "organisation", "n_cadres")


@method_decorator(staff_required, name="dispatch")
class CadreListView(ScopedExportMixin, SingleTableMixin, FilterView):
    """Staff: every cadre in scope with quota progress; sortable, filterable, exportable."""

    table_class = CadreProgressTable
    filterset_class = CadreProgressFilter
    template_name = "cadres/cadre_list.html"
    # Paginated once, by the table (a FilterView paginate_by would COUNT the list again).
    table_pagination = {"per_page": 25, "paginator_class": BoundedPaginator}
    export_name = "cadres"
    export_list_name = "cadres:list"

    def get_queryset(self):
        return cadre_progress_list(user=self.request.user)

    def get_context_data(self, **kwargs):
        from .selectors import is_programme_committee

        context = super().get_context_data(**kwargs)
        context["may_change_rules"] = is_programme_committee(self.request.user)
        return context


def _get_cadre_for_user(request: HttpRequest, pk: int) -> Cadre:
    # A cadre user sees their own record; staff their subtree; everything else is 404.
    return get_in_scope_or_404(Cadre.objects.all(), user=request.user, pk=pk, cadre_field="pk")


@login_required
def cadre_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cadre = _get_cadre_for_user(request, pk)
    progress = cadre_progress(cadre_id=cadre.pk)
    youths = YouthTable(
        youth_list(user=request.user).filter(cadre_links__cadre=cadre),
        exclude=PHONE_YOUTH_COLUMNS_EXCLUDED,
    )
    RequestConfig(
        request, paginate={"per_page": 25, "paginator_class": BoundedPaginator}
    ).configure(youths)
    return render(
        request,
        "cadres/cadre_detail.html",
        {
            "cadre": progress.cadre,
            "progress": progress,
            "youths": youths,
            "is_own": cadre.user_id == request.user.pk,
        },
    )


@login_required
def cadre_card(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable contact card (亮明身份和联系方式) with a QR code to the needs desk."""

    cadre = _get_cadre_for_user(request, pk)
    url = needs_form_url(cadre=cadre, request=request)
    # The second code: a youth adds themself to this cadre's list, with consent (加入联系).
    join_url = request.build_absolute_uri(reverse("join", args=[join_token(cadre)]))

    size = "a4" if request.GET.get("size") == "a4" else "a6"
    return render(
        request,
        "cadres/cadre_card.html",
        {
            "cadre": cadre,
            "ask_url": url,
            "qr_svg": qr_svg(url),
            "join_url": join_url,
            "join_qr_svg": qr_svg(join_url),
            "size": size,
        },
    )


@staff_required
def cadre_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Who changed what, when: the cadre record, their channels and their youth links."""
    cadre = _get_cadre_for_user(request, pk)
    records = history_records(
        cadre.history.select_related("history_user"),
        LiaisonChannel.history.filter(cadre_id=cadre.pk).select_related("history_user"),
        CadreYouth.history.filter(cadre_id=cadre.pk).select_related("history_user", "youth"),
    )
    return render(
        request,
        "cadres/history.html",
        {"subject": cadre, "records": records, "back": ("cadres:detail", cadre.pk)},
    )


# --- Youths. ---


@method_decorator(staff_required, name="dispatch")
class YouthListView(ScopedExportMixin, SingleTableMixin, FilterView):
    """Staff: youths of the subtree, with how many cadres hold each (duplicates)."""

    table_class = YouthTable
    filterset_class = YouthFilter
    template_name = "cadres/youth_list.html"
    # Paginated once, by the table (a FilterView paginate_by would COUNT the list again).
    table_pagination = {"per_page": 50, "paginator_class": BoundedLazyPaginator}
    export_name = "youths"
    export_list_name = "cadres:youth_list"
    export_minor_field = "birth_year"

    def get_queryset(self):
        return youth_list(user=self.request.user)

    def export_rows(self, table):
        # The province's list is a million rows: plain values, not the table's per-cell calls.
        data = table.data.data
        rows = table.export_values(data) if isinstance(data, QuerySet) else None
        if rows is None:
            return super().export_rows(table)
        headers = [c.header for c in table.columns.iterall() if not c.column.exclude_from_export]
        return [str(h) for h in headers], rows

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_export_minors"] = may_export_minors(self.request.user)
        return context


@method_decorator(login_required, name="dispatch")
class MyYouthsView(SingleTableMixin, FilterView):
    """A cadre's own youths, with their quota progress on top."""

    table_class = YouthTable
    filterset_class = YouthFilter
    template_name = "cadres/my_youths.html"
    # Paginated once, by the table (a FilterView paginate_by would COUNT the list again).
    table_pagination = {"per_page": 50, "paginator_class": BoundedPaginator}

    def dispatch(self, request, *args, **kwargs):
        self.cadre = user_cadre(request.user) if request.user.is_authenticated else None
        if request.user.is_authenticated and self.cadre is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return youth_list(user=self.request.user).filter(cadre_links__cadre=self.cadre)

    def get_table_kwargs(self):
        return {"exclude": PHONE_YOUTH_COLUMNS_EXCLUDED}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["progress"] = cadre_progress(cadre_id=self.cadre.pk)
        return context


@login_required
def youth_detail(request: HttpRequest, pk: int) -> HttpResponse:
    youth = get_youth_for_user(user=request.user, pk=pk)
    history = []
    if request.user.sees_subtree:
        history = youth.history.select_related("history_user")[:50]
    return render(
        request,
        "cadres/youth_detail.html",
        {
            "youth": youth,
            "links": youth_links(youth=youth, user=request.user),
            "history": history,
            "consents": youth.consents.select_related("cadre")[:20],
            "may_erase": may_erase(request.user),
        },
    )


# --- Roster import. ---


@staff_required
def roster_import(request: HttpRequest) -> HttpResponse:
    form = RosterUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = jobs.roster_check_queue(
                data=upload.read(),
                filename=upload.name,
                organisation=form.cleaned_data["organisation"],
                cadre=form.cleaned_data["cadre"],
                by=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("cadres:import_detail", record.pk)
    recent = _imports_for_user(request)[:10]
    return render(request, "cadres/import.html", {"form": form, "recent": recent})


def _imports_for_user(request: HttpRequest):
    return scope_queryset(
        RosterImport.objects.select_related("organisation", "cadre", "created_by").defer(
            "rows", "upload"
        ),
        user=request.user,
    )


@staff_required
def roster_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_in_scope_or_404(_imports_for_user(request), user=request.user, pk=pk)
    preview, n_rows = [], 0
    if record.status == RosterImport.Status.PREVIEW:
        # 20 rows and the count, not the 100,000 rows a large import keeps.
        preview, n_rows = roster_preview(record.pk)
    sectors = dict(services.Sector.objects.values_list("pk", "name"))
    preview_rows = [{**r, "sector": sectors.get(r["sector_id"], "")} for r in preview]
    return render(
        request,
        "cadres/import_detail.html",
        {"record": record, "preview": preview_rows, "n_rows": n_rows},
    )


@staff_required
@require_POST
def roster_import_commit(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_in_scope_or_404(_imports_for_user(request), user=request.user, pk=pk)
    try:
        record = jobs.roster_commit_queue(roster_import=record, by=request.user)
    except ValidationError as exc:
        messages.error(request, service_error_text(exc))
        return redirect("cadres:import_detail", record.pk)
    if record.status == RosterImport.Status.DONE:  # ran in-process (no broker)
        messages.success(
            request,
            _(
                "导入完成：新增青年 %(new)s 名，匹配已有青年 %(matched)s 名，新增联系关系 %(linked)s 条。"
            )
            % {"new": record.n_new, "matched": record.n_matched, "linked": record.n_linked},
        )
    elif record.failure:
        messages.error(request, record.failure)
    return redirect("cadres:import_detail", record.pk)


@staff_required
def roster_import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by the import's page while its commit runs in the background."""
    record = get_in_scope_or_404(_imports_for_user(request), user=request.user, pk=pk)
    return JsonResponse(jobs.roster_progress(roster_import=record))


@staff_required
def roster_template(request: HttpRequest) -> HttpResponse:
    """A CSV template with the expected header (UTF-8 with BOM, so Excel opens it in Chinese)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="roster-template.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(template_headers())
    writer.writerow(
        ["张三", "男", "1998", "企业青年", "天山镇物流园", "13812345678", "", "", "2024-05-01"]
    )
    return response


@staff_required
def export_log_list(request: HttpRequest) -> HttpResponse:
    logs = scope_queryset(
        ExportLog.objects.select_related("user"), user=request.user, org_field="user__organisation"
    )[:200]
    return render(request, "cadres/export_log.html", {"logs": logs})


# --- A youth met in the field. ---


def _youth_add_done(request: HttpRequest, added: registry.YouthAdded) -> HttpResponse:
    youth = added.youth
    if added.created:
        text = _("已登记 %(name)s 并加入联系名单。") % {"name": youth.name}
    else:
        text = _("已将 %(name)s 加入联系名单。") % {"name": youth.name}
    if youth.is_minor:
        text += _("（未满 14 周岁，已标注）")
    messages.success(request, text)
    if request.POST.get("next") == "quick_log" and user_cadre(request.user) is not None:
        return redirect(f"{reverse('contacts:quick_log')}?youth={youth.pk}")
    if user_cadre(request.user) is not None:
        return redirect("cadres:my_youths")
    return redirect("cadres:youth_detail", youth.pk)


@login_required
def youth_new(request: HttpRequest) -> HttpResponse:
    """Add a youth met in the field and link them, in one step (from quick log, from "我的青年"):
    a cadre to their own list; staff to a cadre of their subtree."""
    own = user_cadre(request.user)
    if own is None and not request.user.sees_subtree:
        raise Http404
    form = YouthAddForm(request.POST or None, user=request.user, own_cadre=own)
    candidates: list = []
    same_phone = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        cadre = own or data["cadre"]
        existing = None
        if data["link_existing"]:
            # Any id: the linking rule refuses one outside the cadre's subtree (or of no youth)
            # with one message that does not tell which.
            existing = Youth.objects.filter(pk=data["link_existing"]).first() or Youth(
                pk=data["link_existing"]
            )
        try:
            added = registry.youth_add_for_cadre(
                cadre=cadre,
                name=data["name"],
                birth_year=data["birth_year"],
                sector=data["sector"],
                phone=data["phone"],
                unit=data["unit"],
                gender=data["gender"],
                guardian_consent=data["guardian_consent"],
                link_existing=existing,
                confirm_new=data["confirm_new"],
                by=request.user,
            )
        except registry.PossibleDuplicate as exc:
            candidates, same_phone = exc.candidates, exc.same_phone
        except ValidationError as exc:
            add_service_errors(form, exc, rename={"youths": "__all__"})
        else:
            return _youth_add_done(request, added)
    year = timezone.localdate().year
    return render(
        request,
        "cadres/youth_new.html",
        {
            "form": form,
            "candidates": candidates,
            "same_phone": same_phone,
            "next": request.POST.get("next") or request.GET.get("next", ""),
            "minor_floor": year - 14,
        },
    )


# --- Liaison channels of a cadre: the cadre's own, or staff for their subtree. ---


def _get_channel_for_user(request: HttpRequest, pk: int) -> LiaisonChannel:
    # A cadre their own channels; staff those of their subtree's cadres; else 404.
    return get_in_scope_or_404(
        LiaisonChannel.objects.select_related("cadre"),
        user=request.user,
        pk=pk,
        org_field="cadre__organisation",
        cadre_field="cadre",
    )


def _channel_fields(form: ChannelForm) -> dict:
    data = form.cleaned_data
    return {
        "kind": data["kind"],
        "name": data["name"],
        "established_on": data["established_on"],
        "shows_identity": data["shows_identity"],
        "notes": data["notes"],
    }


@login_required
def channels(request: HttpRequest, pk: int) -> HttpResponse:
    """The cadre's liaison channels: those held, those still missing, a form to add one."""
    cadre = _get_cadre_for_user(request, pk)
    form = ChannelForm(request.POST or None, initial=_channel_initial(request))
    channel = save_form(
        request,
        form,
        lambda: registry.channel_create(cadre=cadre, by=request.user, **_channel_fields(form)),
    )
    if channel is not None:
        messages.success(request, _("已建立联系渠道：%(c)s。") % {"c": channel})
        return redirect("cadres:channels", cadre.pk)
    progress = cadre_progress(cadre_id=cadre.pk)
    every = list(channel_list(user=request.user, cadre=cadre))
    return render(
        request,
        "cadres/channels.html",
        {
            "cadre": progress.cadre,
            "progress": progress,
            "held": [c for c in every if c.ended_on is None],
            "ended": [c for c in every if c.ended_on is not None],
            "form": form,
            "is_own": cadre.user_id == request.user.pk,
        },
    )


def _channel_initial(request: HttpRequest) -> dict:
    # From a "missing channel" link: ?kind=grassroots_point preselects the kind.
    kind = request.GET.get("kind", "")
    return {"kind": kind} if kind in LiaisonChannel.Kind.values else {}


@login_required
def channel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _get_channel_for_user(request, pk)
    cadre = channel.cadre
    if channel.ended_on is not None:
        raise Http404
    initial = {
        "kind": channel.kind,
        "name": channel.name,
        "established_on": channel.established_on,
        "shows_identity": channel.shows_identity,
        "notes": channel.notes,
    }
    form = ChannelForm(request.POST or None, initial=initial)
    saved = save_form(
        request,
        form,
        lambda: registry.channel_update(channel=channel, by=request.user, **_channel_fields(form)),
    )
    if saved is not None:
        messages.success(request, _("联系渠道已修改。"))
        return redirect("cadres:channels", cadre.pk)
    return render(
        request, "cadres/channel_edit.html", {"cadre": cadre, "channel": channel, "form": form}
    )


@login_required
@require_POST
def channel_end(request: HttpRequest, pk: int) -> HttpResponse:
    channel = _get_channel_for_user(request, pk)
    cadre = channel.cadre
    run_action(
        request,
        lambda: registry.channel_end(channel=channel, by=request.user),
        _("联系渠道已结束（仍可在记录中查到）：%(c)s。") % {"c": channel},
    )
    return redirect("cadres:channels", cadre.pk)
