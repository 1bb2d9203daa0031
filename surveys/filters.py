from __future__ import annotations

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Campaign, Outcome


class CampaignFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(
        label=_("年度"),
        widget=forms.NumberInput(attrs={"class": "form-control", "inputmode": "numeric"}),
    )
    outcome = django_filters.ChoiceFilter(
        label=_("测评结果"),
        choices=Outcome.choices,
        empty_label=_("全部"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    class Meta:
        model = Campaign
        fields = ["year", "outcome"]

    def __init__(self, data=None, *args, **kwargs):
        # The overview is always about one year: this year unless the user picks another.
        data = data.copy() if data is not None else {}
        if not data.get("year"):
            data["year"] = str(timezone.localdate().year)
        super().__init__(data, *args, **kwargs)

    @property
    def selected_year(self) -> int:
        try:
            return int(self.form.cleaned_data.get("year") or timezone.localdate().year)
        except (AttributeError, TypeError, ValueError):
            return timezone.localdate().year
