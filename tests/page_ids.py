"""Which real object a page's integer id names, for the walkers that request every URL pattern:
the hostile-input walk (tests/test_hostile_input.py), the CSP walk (tests/config/test_csp.py) and
the page query counts (tests/test_page_queries.py). One table, so that a new page is given its
object once; each walker passes the objects it built, and a page whose object it did not build
falls back to the walker's default id (as before).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.utils import timezone

# URL name → the key of its object in the walker's `objects`.
PAGE_OBJECTS: dict[str, str] = {
    "cadres:detail": "cadre",
    "cadres:channels": "cadre",
    "cadres:channel_edit": "channel",
    "cadres:channel_end": "channel",
    "cadres:card": "cadre",
    "cadres:history": "cadre",
    "cadres:handover": "cadre",
    "cadres:cadre_edit": "cadre",
    "cadres:youth_detail": "youth",
    "cadres:youth_erase": "youth",
    "cadres:youth_edit": "youth",
    "cadres:youth_merge": "youth",
    "cadres:youth_move_away": "youth",
    "cadres:organisation_detail": "organisation",
    "cadres:export_job": "export_job",
    "cadres:export_job_progress": "export_job",
    "cadres:export_job_download": "export_job",
    "cadres:import_detail": "roster_import",
    "contacts:edit": "contact",
    "contacts:detail": "contact",
    "contacts:delete": "contact",
    "contacts:youth_timeline": "youth",
    "contacts:need_detail": "need",
    "contacts:ask_cadre": "cadre",
    "surveys:campaign_detail": "campaign",
    "surveys:campaign_edit": "campaign",
    "surveys:codes_generate": "campaign",
    "surveys:campaign_close": "campaign",
    "surveys:campaign_delete": "campaign",
    "surveys:reelection_update": "campaign",
    "surveys:slips": "campaign",
    "surveys:roster": "branch",
    "surveys:member_create": "branch",
    "surveys:roster_import": "branch",
    "surveys:member_edit": "member",
    "activities:youth_record": "youth",
    "activities:youth_certificate": "youth",
    "activities:project_detail": "project",
    "activities:project_edit": "project",
    "activities:plan_detail": "plan",
    "activities:plan_history": "plan",
    "activities:plan_submit": "plan",
    "activities:plan_summary": "plan",
    "activities:plan_item_edit": "plan_item",
    "activities:plan_item_delete": "plan_item",
    "activities:plan_deadline": "organisation",
    "assessment:cadre_score": "cadre",
    "assessment:case": "case",
    "assessment:integrity_detail": "finding",
}


def page_ids(objects: Mapping[str, Any]) -> dict[str, int]:
    """The id of each page whose object is among `objects` (key → model instance)."""
    return {name: objects[key].pk for name, key in PAGE_OBJECTS.items() if key in objects}


def running_export_job(user: Any) -> Any:
    """The user's large export, still running: its page, progress and (404) download."""
    from cadres.models import ExportJob

    return ExportJob.objects.create(
        user=user,
        path="/cadres/youths/",
        list_name="cadres:youth_list",
        export_format="csv",
        status=ExportJob.Status.RUNNING,
        total=10,
        download_name="youths.csv",
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )


def work_plan_with_item(organisation: Any, year: int) -> tuple[Any, Any]:
    """A work plan of `organisation` for `year` with one item."""
    from activities.models import PlanItem, WorkPlan

    plan = WorkPlan.objects.create(organisation=organisation, year=year)
    item = PlanItem.objects.create(
        plan=plan, goal="开展理论学习", category="theory", quarter=1, target=2
    )
    return plan, item
