"""The assessment app's panels: the cadre's own score on their home page, a cadre's score on
their page (staff only), and flags/cases on the staff home page."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from cadres.selectors import user_cadre

from . import selectors
from .flag_stats import open_flag_counts


def cadre_panels(request: HttpRequest) -> list[str]:
    cadre = user_cadre(request.user)
    if cadre is None:
        return []
    return [_score_panel(request, cadre, own=True)]


def cadre_detail_panels(request: HttpRequest, cadre) -> list[str]:
    # Scores and flags are for the cadre and their supervisors only, never for peers.
    if not request.user.sees_subtree:
        return []
    return [_score_panel(request, cadre, own=False)]


def staff_panels(request: HttpRequest) -> list[str]:
    organisation = request.user.organisation
    if organisation is None:  # a superuser without an organisation: everything, counted
        flags = selectors.open_flags(user=request.user).count()
    else:  # the subtree's stored counts (assessment/flag_stats.py), not every open flag
        flags = open_flag_counts(user=request.user, organisation=organisation)[0]
    cases = selectors.case_list(
        user=request.user, organisation=organisation, open_only=True
    ).count()
    return [
        render_to_string(
            "assessment/partials/staff_panel.html",
            {"n_flags": flags, "n_cases": cases},
            request=request,
        )
    ]


def _score_panel(request, cadre, *, own: bool) -> str:
    scores = selectors.cadre_scores(cadre=cadre)[:1]
    view = selectors.score_view(scores[0]) if scores else None
    return render_to_string(
        "assessment/partials/score_panel.html",
        {"view": view, "cadre": cadre, "own": own},
        request=request,
    )
