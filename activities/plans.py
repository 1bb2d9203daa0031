"""Annual work plans: the rules and the one completion function (issue 15 item 1).

- `plan_scope(user)`: the plans a user may see (staff: their subtree's; a cadre: their own
  organisation's), through cadres.scoping like everything else;
- `plan_item_link_check`: an activity may carry out only an item of its own organisation's plan
  for the year it is held in;
- `plan_completion(plans=, as_of=)`: for each plan, each item's achieved value against its
  target, planned vs done per quarter, and the completion rate (items done among items due).
  The plan page, the subtree overview, the mid-year and year-end reviews and the bulletin all
  read it (the last two through assessment/sources.py:plan_completion);
- `plan_overview(user=, organisation=, year=, as_of=)`: a committee's subtree: which
  organisation has a plan, which has none by the date the committee set, and the totals.

What "achieved" means per measure:
- activities: linked activities held (ended, not cancelled) by `as_of`;
- participants: distinct youths who attended those activities;
- quota: percent of the cadres in the organisation's subtree (in office) who meet the 1+100
  quota now, by the one rule (cadres/quota.py through cadres.selectors.with_progress);
- manual: the number the organisation reports on the item.
An item is due once its planned quarter has ended by `as_of`; done once achieved ≥ target.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property, reduce
from operator import or_
from typing import TYPE_CHECKING, NamedTuple

from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractQuarter
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from cadres.models import PATH_SEGMENT_WIDTH, PATH_SEPARATOR, Cadre, Organisation, User
from cadres.selectors import in_subtree, organisation_list, scope_queryset, with_progress

from .models import Activity, PlanDeadline, PlanItem, Registration, WorkPlan

if TYPE_CHECKING:
    from collections.abc import Iterable

QUARTERS = (1, 2, 3, 4)


def plan_scope(user: User) -> QuerySet[WorkPlan]:
    """Plans the user may see: staff their subtree's, a cadre their own organisation's."""
    return scope_queryset(
        WorkPlan.objects.select_related("organisation"),
        user=user,
        org_field="organisation",
        cadre_field=lambda cadre: Q(organisation_id=cadre.organisation_id),
    )


def plan_item_scope(user: User) -> QuerySet[PlanItem]:
    """Items of the plans in scope (form choices, item pages)."""
    return PlanItem.objects.filter(plan__in=plan_scope(user)).select_related(
        "plan", "plan__organisation"
    )


def plan_item_link_check(
    *, item: PlanItem, organisation_id: int, starts_at: datetime.datetime
) -> None:
    """The rule for an activity carrying out a plan item. Raises ValidationError on "plan_item"."""
    plan = item.plan
    if plan.organisation_id != organisation_id:
        raise ValidationError(
            {
                "plan_item": _(
                    "该计划事项属于“%(org)s”的年度计划，活动只能关联主办组织自己计划中的事项。"
                )
                % {"org": plan.organisation.name}
            }
        )
    year = timezone.localdate(starts_at).year
    if plan.year != year:
        raise ValidationError(
            {
                "plan_item": _("该计划事项属于 %(p)s 年的计划，活动在 %(y)s 年举行，不能关联。")
                % {"p": plan.year, "y": year}
            }
        )


def quarter_end(year: int, quarter: int) -> datetime.date:
    if quarter == 4:
        return datetime.date(year, 12, 31)
    return datetime.date(year, 3 * quarter + 1, 1) - datetime.timedelta(days=1)


@dataclass
class ItemFigures:
    item: PlanItem
    achieved: int
    due: bool

    @property
    def done(self) -> bool:
        return self.achieved >= self.item.target

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.achieved / self.item.target))


@dataclass
class QuarterFigures:
    quarter: int
    items: int = 0
    items_done: int = 0
    activities_planned: int = 0  # the targets of this quarter's "activities" items
    activities_held: int = 0  # linked activities held in this quarter (any item)


@dataclass
class PlanFigures:
    plan: WorkPlan
    items: list[ItemFigures] = field(default_factory=list)
    quarters: list[QuarterFigures] = field(default_factory=list)

    @property
    def items_due(self) -> int:
        return sum(1 for i in self.items if i.due)

    @property
    def items_done(self) -> int:
        return sum(1 for i in self.items if i.done)

    @property
    def due_done(self) -> int:
        return sum(1 for i in self.items if i.due and i.done)

    @property
    def rate(self) -> float | None:
        """Items done among items due, in percent; None when nothing is due yet."""
        return round(100 * self.due_done / self.items_due, 1) if self.items_due else None


def _as_of_end(as_of: datetime.date) -> datetime.datetime:
    """The end of `as_of` in local time: activities that ended by then count as held."""
    day_after = datetime.datetime.combine(
        as_of + datetime.timedelta(days=1), datetime.time(), tzinfo=timezone.get_current_timezone()
    )
    return day_after


def _quota_percent(orgs: list[Organisation]) -> dict[int, int]:
    """Organisation id -> percent of the cadres in office in its subtree who meet the quota.

    1. one grouped query: per organisation under the topmost ones, cadres in office and how
       many meet the quota (the stored verdict of the one rule, cadres/quota.py, read through
       with_progress);
    2. each organisation's counts added to every ancestor on its path (path segments), so a
       subtree's total is one lookup: linear in the organisations, whatever the scale.
    """
    if not orgs:
        return {}
    today = timezone.localdate()
    tops = [o for o in orgs if not any(p is not o and p.is_ancestor_of(o) for p in orgs)]
    cadres = reduce(or_, [in_subtree(Cadre.objects.all(), organisation=o) for o in tops])
    in_office = cadres.filter(Q(active_until__isnull=True) | Q(active_until__gte=today))
    # The stored verdict (`quota_met`, what the cadre list shows and filters on), not the rule
    # applied again to the stored counts: one verdict on every page, and no CASE per cadre.
    rows = (
        with_progress(in_office)
        .order_by()
        .values_list("organisation__path")
        .annotate(n=Count("id"), met=Count("id", filter=Q(quota_met=True)))
    )
    width = PATH_SEGMENT_WIDTH + len(PATH_SEPARATOR)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path, n, n_met in rows:
        for end in range(width, len(path) + 1, width):
            totals[path[:end]][0] += n
            totals[path[:end]][1] += n_met
    result = {}
    for org in orgs:
        n, n_met = totals.get(org.path, (0, 0))
        result[org.pk] = round(100 * n_met / n) if n else 0
    return result


def plan_completion(*, plans: Iterable[WorkPlan], as_of: datetime.date) -> dict[int, PlanFigures]:
    """Plan id -> PlanFigures, for any number of plans in at most four queries (items with
    their counts, activities held per plan and quarter; the quota rules and the cadres' progress
    when an item is measured by the quota).

    `plans` are plans the caller has in scope (with their organisation loaded)."""
    plans = list(plans)
    if not plans:
        return {}
    ids = [p.pk for p in plans]
    cut = _as_of_end(as_of)
    held = Activity.objects.filter(ends_at__lt=cut).exclude(status=Activity.Status.CANCELLED)
    n_activities = Subquery(
        held.filter(plan_item=OuterRef("pk"))
        .order_by()
        .values("plan_item")
        .annotate(n=Count("id"))
        .values("n"),
        output_field=IntegerField(),
    )
    n_youths = Subquery(
        Registration.objects.filter(
            activity__in=held.filter(plan_item=OuterRef(OuterRef("pk"))),
            checked_in_at__isnull=False,
            youth__isnull=False,
        )
        .order_by()
        .values("activity__plan_item")
        .annotate(n=Count("youth", distinct=True))
        .values("n"),
        output_field=IntegerField(),
    )
    items = list(
        PlanItem.objects.filter(plan_id__in=ids)
        .annotate(n_activities=n_activities, n_youths=n_youths)
        .order_by("plan_id", "quarter", "id")
    )
    per_quarter = (
        held.filter(plan_item__plan_id__in=ids)
        .annotate(q=ExtractQuarter("starts_at"))
        .order_by()
        .values_list("plan_item__plan_id", "q")
        .annotate(n=Count("id"))
    )
    held_by = {(plan_id, q): n for plan_id, q, n in per_quarter}
    by_id = {p.pk: p for p in plans}
    quota_orgs = {
        by_id[i.plan_id].organisation for i in items if i.measure == PlanItem.Measure.QUOTA
    }
    quota = _quota_percent(sorted(quota_orgs, key=lambda o: o.path))

    result = {
        p.pk: PlanFigures(plan=p, quarters=[QuarterFigures(quarter=q) for q in QUARTERS])
        for p in plans
    }
    for item in items:
        plan = by_id[item.plan_id]
        achieved = {
            PlanItem.Measure.ACTIVITIES: getattr(item, "n_activities", 0) or 0,
            PlanItem.Measure.PARTICIPANTS: getattr(item, "n_youths", 0) or 0,
            PlanItem.Measure.QUOTA: quota.get(plan.organisation_id, 0),
            PlanItem.Measure.MANUAL: item.achieved,
        }[PlanItem.Measure(item.measure)]
        figures = ItemFigures(
            item=item, achieved=achieved, due=quarter_end(plan.year, item.quarter) <= as_of
        )
        entry = result[plan.pk]
        entry.items.append(figures)
        quarter = entry.quarters[item.quarter - 1]
        quarter.items += 1
        quarter.items_done += figures.done
        if item.measure == PlanItem.Measure.ACTIVITIES:
            quarter.activities_planned += item.target
    for entry in result.values():
        for quarter in entry.quarters:
            quarter.activities_held = held_by.get((entry.plan.pk, quarter.quarter), 0)
    return result


class OrganisationName(NamedTuple):
    """What the overview shows of an organisation. The overview has a row for every
    organisation of the subtree (2,514 for a province), read as (id, name) pairs: model rows
    for all of them were most of a province bulletin's time, and a frozen dataclass per row
    was still 3-4 ms of it (a tuple is built without a `__setattr__` per field)."""

    pk: int
    name: str


@dataclass(slots=True)
class OverviewRow:
    organisation: OrganisationName
    plan: WorkPlan | None
    figures: PlanFigures | None
    # "on_time", "late" (handed in after the date), "draft" (not handed in), "none"
    status: str


@dataclass
class PlanOverview:
    organisation: Organisation
    year: int
    as_of: datetime.date
    deadline: PlanDeadline | None
    rows: list[OverviewRow] = field(default_factory=list)

    # Cached: the report asks for each figure several times, and the rows are complete once
    # plan_overview returns them.
    @cached_property
    def missing(self) -> list[OverviewRow]:
        """Organisations with no plan handed in by the date (or by `as_of` without a date)."""
        return [r for r in self.rows if r.status != "on_time"]

    @cached_property
    def missing_names(self) -> list[str]:
        return [r.organisation.name for r in self.missing]

    @cached_property
    def missing_text(self) -> SafeString:
        """The names joined with "、", escaped: what `{{ missing_names|join:"、" }}` writes
        (escaping works character by character, and "、" is not escaped), in one call instead of
        one per organisation, 2,500 of them in a province's bulletin."""
        return mark_safe(escape("、".join(self.missing_names)))  # noqa: S308 - escaped here

    @cached_property
    def with_figures(self) -> list[OverviewRow]:
        """The rows of organisations with a plan (the others have no figures)."""
        return [r for r in self.rows if r.figures]

    @cached_property
    def with_plan(self) -> int:
        return sum(1 for r in self.rows if r.status == "on_time")

    @cached_property
    def items_due(self) -> int:
        return sum(r.figures.items_due for r in self.with_figures if r.figures)

    @cached_property
    def due_done(self) -> int:
        return sum(r.figures.due_done for r in self.with_figures if r.figures)

    @property
    def items(self) -> int:
        return sum(len(r.figures.items) for r in self.with_figures if r.figures)

    @property
    def rate(self) -> float | None:
        return round(100 * self.due_done / self.items_due, 1) if self.items_due else None


def plan_overview(
    *, user: User, organisation: Organisation, year: int, as_of: datetime.date | None = None
) -> PlanOverview:
    """The plans of `organisation`'s subtree for `year` as `user` may see them. Five queries at
    most, whatever the number of organisations (organisations, plans, the date, completion)."""
    as_of = as_of or timezone.localdate()
    orgs = [
        OrganisationName._make(row)
        for row in in_subtree(organisation_list(user=user), organisation=organisation, org_field="")
        .filter(is_active=True)
        .values_list("pk", "name")
    ]
    plans = {
        p.organisation_id: p
        for p in in_subtree(plan_scope(user), organisation=organisation).filter(year=year)
    }
    deadline = PlanDeadline.objects.filter(organisation=organisation, year=year).first()
    figures = plan_completion(plans=plans.values(), as_of=as_of)
    due = deadline.due_on if deadline else as_of
    overview = PlanOverview(organisation=organisation, year=year, as_of=as_of, deadline=deadline)
    for org in orgs:
        plan = plans.get(org.pk)
        if plan is None:
            status = "none"
        elif plan.submitted_at is None:
            status = "draft"
        elif timezone.localdate(plan.submitted_at) <= due:
            status = "on_time"
        else:
            status = "late"
        overview.rows.append(
            OverviewRow(
                organisation=org,
                plan=plan,
                figures=figures.get(plan.pk) if plan else None,
                status=status,
            )
        )
    return overview
