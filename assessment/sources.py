"""The one adapter to the apps whose data the assessment reads but does not own: ballots
(surveys) and activities. Both may be missing from a deployment (or not merged yet): then the
source is reported as not available and the UI says so; no number is ever invented.

- surveys.selectors.secretary_outcomes(*, year, cadre_ids=None) -> {cadre_id: "satisfied" |
  "not_satisfied" | "invalid"}
- activities.selectors.activity_totals(*, user, organisation, start, end) -> {"activities",
  "participants", "attendances", "volunteer_hours"}, scoped to what `user` may see
- activities.plans.plan_overview(*, user, organisation, year, as_of) -> PlanOverview (the one
  work-plan completion function, activities/plans.py:plan_completion, inside)
"""

from __future__ import annotations

import datetime
import importlib
from dataclasses import dataclass, field
from typing import Any

OUTCOMES = ("satisfied", "not_satisfied", "invalid")
ACTIVITY_KEYS = ("activities", "participants", "attendances", "volunteer_hours")


@dataclass
class SourceResult:
    available: bool
    data: Any = field(default_factory=dict)

    @property
    def status(self) -> str:
        return "ok" if self.available else "not available"


def _function(module: str, name: str):
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def ballot_outcomes(*, year: int, cadre_ids: list[int] | None = None) -> SourceResult:
    func = _function("surveys.selectors", "secretary_outcomes")
    if func is None:
        return SourceResult(False)
    raw = func(year=year, cadre_ids=cadre_ids)
    return SourceResult(True, {int(k): v for k, v in raw.items() if v in OUTCOMES})


def activity_totals(
    *, user, organisation, start: datetime.date, end: datetime.date
) -> SourceResult:
    func = _function("activities.selectors", "activity_totals")
    if func is None:
        return SourceResult(False)
    raw = func(user=user, organisation=organisation, start=start, end=end) or {}
    return SourceResult(True, {key: raw.get(key, 0) or 0 for key in ACTIVITY_KEYS})


def plan_completion(*, user, organisation, year: int, as_of: datetime.date) -> SourceResult:
    """The subtree's work plans for `year` (which organisations have one by the committee's
    date, items due and done) for the reviews and the bulletin."""
    func = _function("activities.plans", "plan_overview")
    if func is None:
        return SourceResult(False)
    return SourceResult(True, func(user=user, organisation=organisation, year=year, as_of=as_of))


def responsible_activities(
    *, start: datetime.datetime, end: datetime.datetime, exclude_users: Any = ()
) -> SourceResult:
    """(user_id, activity_id, title, starts_at, place) for every cadre with a login responsible
    for a planned or open activity starting in [start, end), for all users at once (the
    reminders' daily pass). From the responsibility rows themselves, so a cadre left out
    (`exclude_users`) never hides the activity from a co-responsible one.

    activities.selectors has no set-based read across users yet; until it has (that app's
    owners), this adapter reads its model, and reports "not available" without the app."""
    try:
        from activities.models import Activity
    except ImportError:
        return SourceResult(False, [])
    rows = (
        Activity.responsible_cadres.through.objects.filter(
            activity__starts_at__gte=start,
            activity__starts_at__lt=end,
            activity__status__in=(Activity.Status.PLANNED, Activity.Status.OPEN),
            cadre__user__is_active=True,
        )
        .exclude(cadre__user_id__in=exclude_users)
        .order_by()
        .values_list(
            "cadre__user_id",
            "activity_id",
            "activity__title",
            "activity__starts_at",
            "activity__place",
        )
    )
    return SourceResult(True, list(rows))
