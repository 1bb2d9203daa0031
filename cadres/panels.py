"""The cadres app's panels on the home page."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest
from django.template.loader import render_to_string

from .models import Organisation, Youth
from .rollups import subtree_rollup
from .selectors import (
    cadre_progress,
    cadre_progress_list,
    organisation_list,
    scope_queryset,
    user_cadre,
)


def staff_panels(request: HttpRequest) -> list[str]:
    user = request.user
    counts = organisation_list(user=user).aggregate(
        organisations=Count("id"), branches=Count("id", filter=Q(kind=Organisation.Kind.BRANCH))
    )
    # Youths and cadres from the stored rollups (cadres/rollups.py): a sum over one row per
    # organisation, not a count of every youth and cadre in scope. Before the first scoring run
    # there are none yet: counted live.
    rollup = subtree_rollup(user=user)
    if rollup.computed_at is not None:
        counts["youths"] = rollup.youths
        counts["cadres"] = rollup.cadres
        counts["below_quota"] = rollup.cadres - rollup.cadres_quota_met
    else:
        counts["youths"] = scope_queryset(Youth.objects.all(), user=user).count()
        counts.update(
            cadre_progress_list(user=user)
            .order_by()
            .aggregate(cadres=Count("id"), below_quota=Count("id", filter=Q(quota_met=False)))
        )
    return [
        render_to_string(
            "cadres/partials/staff_overview.html",
            {
                "counts": counts,
                "organisation": user.organisation,
                "youths_computed_at": rollup.computed_at,  # youths and cadres
            },
            request=request,
        )
    ]


def cadre_panels(request: HttpRequest) -> list[str]:
    """The cadre's own 1+100: N/quota, fields, channels, what is missing, what to do next."""
    cadre = user_cadre(request.user)
    progress = cadre_progress(cadre_id=cadre.pk) if cadre else None
    return [
        render_to_string(
            "cadres/partials/cadre_card.html",
            {"cadre": progress.cadre if progress else None, "progress": progress},
            request=request,
        )
    ]
