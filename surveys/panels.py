"""The surveys app's panel on the staff home page: this year's ballots in the subtree."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from . import selectors


def staff_panels(request: HttpRequest) -> list[str]:
    year = timezone.localdate().year
    rows = list(selectors.campaign_overview(user=request.user, year=year))
    return [
        render_to_string(
            "surveys/partials/staff_panel.html",
            {
                "year": year,
                "summary": selectors.overview_summary(rows),
                "not_evaluated": selectors.branches_not_evaluated(
                    user=request.user, year=year
                ).count(),
            },
            request=request,
        )
    ]
