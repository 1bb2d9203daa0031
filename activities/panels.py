"""The activities app's panels: home pages (staff, cadre) and a youth's page."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from cadres.selectors import user_cadre

from . import selectors


def staff_panels(request: HttpRequest) -> list[str]:
    user = request.user
    today = timezone.localdate()
    totals = (
        selectors.activity_totals(
            user=user,
            organisation=user.organisation,
            start=today.replace(month=1, day=1),
            end=today,
        )
        if user.organisation_id
        else None
    )
    return [
        render_to_string(
            "activities/partials/staff_panel.html",
            {"upcoming": list(selectors.upcoming_activities(user=user)), "totals": totals},
            request=request,
        )
    ]


def cadre_panels(request: HttpRequest) -> list[str]:
    cadre = user_cadre(request.user)
    if cadre is None:
        return []
    return [
        render_to_string(
            "activities/partials/cadre_panel.html",
            {"upcoming": list(selectors.cadre_upcoming_activities(cadre=cadre))},
            request=request,
        )
    ]


def youth_panels(request: HttpRequest, youth) -> list[str]:
    return [
        render_to_string(
            "activities/partials/youth_panel.html",
            {
                "youth": youth,
                "summary": selectors.youth_volunteer_summary(youth),
                "commendations": list(youth.commendations.all()[:5]),
            },
            request=request,
        )
    ]
