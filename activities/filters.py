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


def _search(field: str, label: str) -> django_filters.CharFilter:
    return django_filters.CharFilter(
        field_name=field,
        lookup_expr="icontains",
        label=label,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )


def _choice(choices, label: str, empty_label: str) -> django_filters.ChoiceFilter:
    return django_filters.ChoiceFilter(
        choices=choices,
        label=label,
        empty_label=empty_label,
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class ActivityFilter(django_filters.FilterSet):
    q = _search("title", _("名称"))
    category = _choice(Activity.Category.choices, _("类别"), _("全部类别"))
    organisation = SubtreeFilter(
        queryset=_org_choices, label=_("主办组织（含下级）"), empty_label=_("全部组织")
    )
    status = _choice(Activity.Status.choices, _("状态"), _("全部状态"))
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
    q = _search("name", _("名称"))
    stage = _choice(EntrepreneurshipProject.Stage.choices, _("阶段"), _("全部阶段"))
    organisation = SubtreeFilter(
        queryset=_org_choices, label=_("联系团组织（含下级）"), empty_label=_("全部组织")
    )

    class Meta:
        model = EntrepreneurshipProject
        fields = ["q", "stage", "organisation"]
