from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from .models import CadreScore


class ScoreFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(
        field_name="cadre__name", lookup_expr="icontains", label=_("姓名")
    )
    below = django_filters.NumberFilter(field_name="score", lookup_expr="lt", label=_("低于（分）"))

    class Meta:
        model = CadreScore
        fields: list = []
