"""List filters (django-filter). Choices that name organisations or cadres are scoped."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cadres.filters import SubtreeFilter
from cadres.models import Organisation
from cadres.selectors import organisation_list
from config.forms import date_input

from .models import Channel, Contact, Need
from .selectors import OPEN_STATUSES


class ContactFilter(django_filters.FilterSet):
    cadre = django_filters.CharFilter(
        label=_("团干部姓名"),
        field_name="cadre__name",
        lookup_expr="startswith",
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
    )
    organisation = SubtreeFilter(
        label=_("组织（含下级）"),
        org_field="cadre__organisation",
        queryset=Organisation.objects.none(),
        empty_label=_("全部"),
    )
    channel = django_filters.ChoiceFilter(
        label=_("方式"),
        choices=Channel.choices,
        empty_label=_("全部方式"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    offline = django_filters.BooleanFilter(
        label=_("线上/线下"),
        field_name="is_offline",
        widget=forms.Select(
            attrs={"class": "form-select"},
            choices=[("", _("全部")), ("false", _("线上")), ("true", _("线下"))],
        ),
    )
    date_from = django_filters.DateFilter(
        label=_("从"), field_name="date", lookup_expr="gte", widget=date_input()
    )
    date_to = django_filters.DateFilter(
        label=_("到"), field_name="date", lookup_expr="lte", widget=date_input()
    )

    class Meta:
        model = Contact
        fields: list[str] = []

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["organisation"].queryset = organisation_list(user=user)


class NeedFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("状态"),
        choices=[("open", _("未办结（新提交、办理中）")), *Need.Status.choices],
        empty_label=_("全部状态"),
        method="filter_status",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    category = django_filters.ChoiceFilter(
        label=_("类别"),
        choices=Need.Category.choices,
        empty_label=_("全部类别"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    overdue = django_filters.BooleanFilter(
        label=_("逾期"),
        method="filter_overdue",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    organisation = SubtreeFilter(
        label=_("受理组织（含下级）"),
        queryset=Organisation.objects.none(),
        empty_label=_("全部"),
    )
    date_from = django_filters.DateFilter(
        label=_("提交自"), field_name="created_at", lookup_expr="date__gte", widget=date_input()
    )
    date_to = django_filters.DateFilter(
        label=_("提交至"), field_name="created_at", lookup_expr="date__lte", widget=date_input()
    )

    class Meta:
        model = Need
        fields: list[str] = []

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if user.sees_subtree:
            self.filters["organisation"].queryset = organisation_list(user=user)
        else:
            del self.filters["organisation"]

    def filter_status(self, qs, name, value):
        if value == "open":
            return qs.filter(status__in=OPEN_STATUSES)
        return qs.filter(status=value) if value else qs

    def filter_overdue(self, qs, name, value):
        if value:
            return qs.filter(status__in=OPEN_STATUSES, due_date__lt=timezone.localdate())
        return qs
