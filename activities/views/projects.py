"""Entrepreneurship projects and the support given to them."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cadres.auth import staff_required
from cadres.selectors import get_in_scope_or_404
from config.forms import save_form

from .. import selectors, services
from ..filters import ProjectFilter
from ..forms import ProjectForm, SupportForm
from ..models import EntrepreneurshipProject
from ..tables import ProjectTable
from .activity import ListPage

# --- entrepreneurship ---------------------------------------------------------------------------


class ProjectListView(ListPage):
    table_class = ProjectTable
    filterset_class = ProjectFilter
    template_name = "activities/projects.html"
    export_name = "projects"
    export_minor_field = "youth__birth_year"  # a project row names its youth

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.sees_subtree:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.project_list(user=self.request.user)


@staff_required
def project_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    project = (
        get_in_scope_or_404(EntrepreneurshipProject.objects.all(), user=request.user, pk=pk)
        if pk
        else None
    )
    form = ProjectForm(request.POST or None, instance=project, user=request.user)
    if request.method == "POST" and form.is_valid():
        project = services.project_save(project=project, by=request.user, **form.cleaned_data)
        messages.success(request, _("项目已保存。"))
        return redirect(project)
    return render(
        request,
        "activities/form.html",
        {"form": form, "title": _("编辑创业项目") if project else _("创业项目入库")},
    )


@staff_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = get_in_scope_or_404(
        EntrepreneurshipProject.objects.select_related("youth", "organisation"),
        user=request.user,
        pk=pk,
    )
    form = SupportForm(request.POST or None)
    if save_form(
        request,
        form,
        lambda: services.support_add(project=project, by=request.user, **form.cleaned_data),
    ):
        messages.success(request, _("帮扶记录已添加。"))
        return redirect(project)
    return render(
        request,
        "activities/project_detail.html",
        {
            "project": project,
            "supports": list(project.supports.select_related("partner")),
            "form": form,
        },
    )
