"""List filters. Every choice list (organisations, cadres) is scoped like the list itself."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Count, F, Q, QuerySet
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from .models import Cadre, CadreType, CadreYouth, Organisation, Sector, Youth
from .selectors import in_subtree, organisation_list

_SELECT = {"class": "form-select"}
_TEXT = {"class": "form-control"}


class _VisibleChoiceIterator(ModelChoiceIterator):
    """Iterates the field's short visible list instead of every organisation in scope.

    Read when the choices are rendered, not when the iterator is made: setting a field's
    `queryset` builds the widget's iterator at once, before the caller sets `visible_queryset`,
    and the dashboards then rendered all 2,514 organisations of a province (130 KB of options)."""

    @property  # type: ignore[override]
    def queryset(self):
        visible = getattr(self.field, "visible_queryset", None)
        return visible if visible is not None else self.field.queryset

    @queryset.setter
    def queryset(self, value) -> None:
        pass  # ModelChoiceIterator.__init__ copies field.queryset: read it live instead

    def __iter__(self):
        """The short list read once per form: the Select widget iterates its choices twice
        (the first choice for the `required` attribute, then every option), and each pass
        was a query through a server-side cursor (DECLARE … WITH HOLD, fetch, close)."""
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        queryset = self.queryset
        cached = getattr(self.field, "_visible_rows", None)
        if cached is None or cached[0] is not queryset:
            cached = (queryset, list(queryset))
            self.field._visible_rows = cached
        for obj in cached[1]:
            yield self.choice(obj)


class SubtreeChoiceField(forms.ModelChoiceField):
    """Accepts any organisation in scope, but lists only a short, drillable part of the tree.

    A city-level user has thousands of organisations in scope: one <select> of all of them is
    slow to render and useless on a phone. The list shows the top of the user's scope and one
    level below it, plus the selected organisation, its parent and its children, indented by
    depth; choosing an organisation and filtering opens the next level.
    """

    iterator = _VisibleChoiceIterator
    visible_queryset = None
    base_depth = 0

    def label_from_instance(self, obj: Organisation) -> str:
        return "\u3000" * max(obj.depth - self.base_depth, 0) + obj.name


def organisation_window(qs: QuerySet, *, user, selected) -> tuple[int, QuerySet]:
    """The short part of a scoped organisation list that a dropdown shows (see
    SubtreeChoiceField): the top of the user's scope and one level below, plus the selected
    organisation, its parent and its children. Returns (the user's depth, that queryset)."""
    base = user.organisation.depth if getattr(user, "organisation_id", None) else 0
    shown = Q(depth__lte=base + 1)
    raw = str(getattr(selected, "pk", selected) or "")
    if raw.isdigit() and len(raw) <= 18:
        pk = int(raw)
        shown |= Q(pk=pk) | Q(parent_id=pk) | Q(children=pk)
    return base, qs.filter(shown).distinct().order_by("path")


class SubtreeFilter(django_filters.ModelChoiceFilter):
    """An organisation and everything below it (one prefix query on the materialised path).

    Every list filters by organisation subtree through this one filter; its choices come from
    the scoping selector (pass `queryset=`, a callable of the request, or set it per user)."""

    field_class = SubtreeChoiceField

    def __init__(self, *args, org_field: str = "organisation", **kwargs):
        self.org_field = org_field
        kwargs.setdefault("widget", forms.Select(attrs=_SELECT))
        super().__init__(*args, **kwargs)

    @property
    def field(self):
        if not hasattr(self, "_field"):
            field = super().field
            field.base_depth, field.visible_queryset = self._visible(field.queryset)
        return self._field

    def _visible(self, qs: QuerySet) -> tuple[int, QuerySet]:
        request = getattr(self.parent, "request", None)
        selected = (getattr(self.parent, "data", None) or {}).get(self.field_name)
        return organisation_window(qs, user=getattr(request, "user", None), selected=selected)

    def filter(self, qs: QuerySet, value: Organisation | None) -> QuerySet:
        if not value:
            return qs
        return in_subtree(qs, organisation=value, org_field=self.org_field)


def _organisations(request):
    if request is None:
        return Organisation.objects.none()
    return organisation_list(user=request.user)


class CadreProgressFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("姓名"), method="filter_name", widget=forms.TextInput(attrs=_TEXT)
    )
    organisation = SubtreeFilter(
        label=_("组织（含下级）"),
        queryset=_organisations,
        empty_label=_("全部"),
        widget=forms.Select(attrs=_SELECT),
    )
    cadre_type = django_filters.ChoiceFilter(
        label=_("类型"),
        choices=CadreType.choices,
        empty_label=_("全部"),
        widget=forms.Select(attrs=_SELECT),
    )
    quota_met = django_filters.ChoiceFilter(
        label=_("指标"),
        choices=[("yes", _("已达标")), ("no", _("未达标"))],
        empty_label=_("全部"),
        method="filter_quota_met",
        widget=forms.Select(attrs=_SELECT),
    )
    sectors_short = django_filters.BooleanFilter(
        label=_("只看领域不足"),
        method="filter_sectors_short",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    class Meta:
        model = Cadre
        fields: list[str] = []

    def filter_name(self, qs, name, value):
        return qs.filter(name__contains=value.strip()) if value.strip() else qs

    def filter_quota_met(self, qs, name, value):
        return qs.filter(quota_met=(value == "yes")) if value in ("yes", "no") else qs

    def filter_sectors_short(self, qs, name, value):
        return qs.filter(n_sectors__lt=F("min_sectors")) if value else qs


class YouthFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("姓名、手机号或单位"), method="filter_text", widget=forms.TextInput(attrs=_TEXT)
    )
    organisation = SubtreeFilter(
        label=_("组织（含下级）"),
        queryset=_organisations,
        empty_label=_("全部"),
        widget=forms.Select(attrs=_SELECT),
    )
    sector = django_filters.ModelChoiceFilter(
        label=_("领域"),
        queryset=Sector.objects.filter(is_active=True),
        empty_label=_("全部"),
        widget=forms.Select(attrs=_SELECT),
    )
    shared = django_filters.BooleanFilter(
        label=_("只看多名团干部共同联系的"),
        method="filter_shared",
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    class Meta:
        model = Youth
        fields: list[str] = []

    def filter_text(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        return qs.filter(
            Q(name__contains=value) | Q(phone__startswith=value) | Q(unit__contains=value)
        )

    def filter_shared(self, qs, name, value):
        if not value:
            return qs
        # One grouped pass over the links (an index-only scan) instead of a count per youth.
        shared = (
            CadreYouth.objects.order_by()
            .values("youth")
            .annotate(n=Count("cadre"))
            .filter(n__gt=1)
            .values("youth")
        )
        return qs.filter(pk__in=shared)
