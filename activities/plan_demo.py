"""Demo data for the work plans and teams (issue 15 items 1 and 7), called by activities/demo.py:
the seed's year "starts with plans" (年初……制订出详尽的团委年度工作计划……要求各级团组织……制订出
年度工作计划) and its 文艺汇演 had 22 teams.

- the banner committee and the demo township each get a plan per year their demo activities fall
  in: one item per (category, quarter) with the number of those activities as its target, and the
  activities linked to it; the banner's current plan adds 1+100 (quota 100 %) and 组织建设 items;
- the banner sets 31 January as the date for its subtree's plans: the other organisations show
  as "未制订", which is what the overview is for;
- the performance's attendance is split into 22 teams, one of them commended as a team.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.utils import timezone

from cadres.models import Organisation

from .models import (
    Activity,
    ActivityTeam,
    Commendation,
    PlanDeadline,
    PlanItem,
    Registration,
    WorkPlan,
)

GOALS = {
    "theory": "开展理论学习",
    "thematic": "开展主题教育实践活动",
    "care": "开展关爱帮扶活动",
    "employment": "开展就业创业服务",
    "culture": "开展文体活动",
    "volunteer": "开展志愿服务",
    "training": "举办培训讲座",
    "other": "开展其他活动",
}


def _quarter(day: datetime.date) -> int:
    return (day.month - 1) // 3 + 1


def seed_plans(activities: list[Activity], banner: Organisation, today: datetime.date) -> None:
    groups: dict[tuple[int, int, str, int], list[Activity]] = defaultdict(list)
    for a in activities:
        day = timezone.localdate(a.starts_at)
        groups[(a.organisation_id, day.year, a.category, _quarter(day))].append(a)
    plans: dict[tuple[int, int], WorkPlan] = {}
    tz = timezone.get_current_timezone()
    for org_id, year, category, quarter in sorted(groups):
        plan = plans.get((org_id, year))
        if plan is None:
            plan = WorkPlan.objects.create(
                organisation_id=org_id,
                year=year,
                summary="围绕旗委、旗政府中心工作，落实“1+100”团干部直接联系青年制度。",
                submitted_at=datetime.datetime(year, 1, 20, 10, tzinfo=tz),
            )
            plans[(org_id, year)] = plan
        linked = groups[(org_id, year, category, quarter)]
        item = PlanItem.objects.create(
            plan=plan,
            goal=f"{GOALS.get(category, '开展活动')}（第{quarter}季度）",
            category=category,
            quarter=quarter,
            measure=PlanItem.Measure.ACTIVITIES,
            target=len(linked),
            unit="次线下活动",
        )
        Activity.objects.filter(pk__in=[a.pk for a in linked]).update(plan_item=item)
    current = plans.get((banner.pk, today.year))
    if current is not None:
        PlanItem.objects.create(
            plan=current,
            goal="团干部直接联系青年全部达标",
            category="one_plus_100",
            quarter=4,
            measure=PlanItem.Measure.QUOTA,
            target=100,
            unit="%",
        )
        PlanItem.objects.create(
            plan=current,
            goal="规范基层团组织，完成团支部换届",
            category="org_building",
            quarter=2,
            measure=PlanItem.Measure.MANUAL,
            target=10,
            achieved=8,
            unit="个团支部",
        )
    PlanDeadline.objects.create(
        organisation=banner, year=today.year, due_on=datetime.date(today.year, 1, 31)
    )


def seed_teams(show: Activity, organisations: list[Organisation]) -> None:
    """The performance's attended registrations split over 22 teams named after organisations."""
    names = [f"{o.name}代表队" for o in organisations][:22]
    names += [f"第{i + 1}代表队" for i in range(len(names), 22)]
    teams = ActivityTeam.objects.bulk_create([ActivityTeam(activity=show, name=n) for n in names])
    regs = list(
        Registration.objects.filter(activity=show, checked_in_at__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for i, team in enumerate(teams):
        Registration.objects.filter(pk__in=regs[i :: len(teams)]).update(team=team)
    Commendation.objects.filter(activity=show, team_name="天山镇团委代表队").update(
        team=next((t for t in teams if t.name == "天山镇团委代表队"), None)
    )
