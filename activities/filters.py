"""List filters of the activities app; organisation choices come from the scoping selector."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from cadres.filters import SubtreeFilter
from cadres.models import Organisation
from cadres.selectors import organisation_list

from .models import Activity, EntrepreneurshipProject

DATE = forms.DateInput(attrs={"type": "date", "class": "form-control"})


def _org_choices(request):
    if request is None:
        return Organisation.objects.none()
    return organisation_list(user=request.user)


class ActivityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="title",
        lookup_expr="icontains",
        label=_("名称"),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    category = django_filters.ChoiceFilter(
        choices=Activity.Category.choices,
        label=_("类别"),
        empty_label=_("全部类别"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    organisation = SubtreeFilter(
        queryset=_org_choices, label=_("主办组织（含下级）"), empty_label=_("全部组织")
    )
    status = django_filters.ChoiceFilter(
        choices=Activity.Status.choices,
        label=_("状态"),
        empty_label=_("全部状态"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    start = django_filters.DateFilter(
        field_name="starts_at", lookup_expr="date__gte", label=_("起始日期"), widget=DATE
    )
    end = django_filters.DateFilter(
        field_name="starts_at", lookup_expr="date__lte", label=_("截止日期"), widget=DATE
    )

    class Meta:
        model = Activity
        fields = ["q", "category", "organisation", "status", "start", "end"]


class ProjectFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        label=_("名称"),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    stage = django_filters.ChoiceFilter(
        choices=EntrepreneurshipProject.Stage.choices,
        label=_("阶段"),
        empty_label=_("全部阶段"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    organisation = SubtreeFilter(
        queryset=_org_choices, label=_("联系团组织（含下级）"), empty_label=_("全部组织")
    )

    class Meta:
        model = EntrepreneurshipProject
        fields = ["q", "stage", "organisation"]
