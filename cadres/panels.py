"""The cadres app's panels on the home page."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest
from django.template.loader import render_to_string

from .models import Cadre, Organisation, Youth
from .selectors import organisation_list, scope_queryset, user_cadre


def staff_panels(request: HttpRequest) -> list[str]:
    user = request.user
    counts = organisation_list(user=user).aggregate(
        organisations=Count("id"), branches=Count("id", filter=Q(kind=Organisation.Kind.BRANCH))
    )
    counts["cadres"] = scope_queryset(Cadre.objects.all(), user=user).count()
    counts["youths"] = scope_queryset(Youth.objects.all(), user=user).count()
    return [
        render_to_string(
            "cadres/partials/staff_overview.html",
            {"counts": counts, "organisation": user.organisation},
            request=request,
        )
    ]


def cadre_panels(request: HttpRequest) -> list[str]:
    cadre = user_cadre(request.user)
    return [render_to_string("cadres/partials/cadre_card.html", {"cadre": cadre}, request=request)]
