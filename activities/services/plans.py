"""Writes of the annual work plans (issue 15 item 1): plans, items, handing in, the committee's
date. Who may write: staff whose subtree holds the plan's organisation (a committee may write
or correct the plan of an organisation below it). Every row keeps its history (simple_history).
The reads and the completion figures: activities/plans.py.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cadres.models import Cadre, Organisation, User
from cadres.selectors import in_subtree, organisation_list

from ..models import PlanDeadline, PlanItem, WorkPlan

ITEM_FIELDS = ("goal", "category", "quarter", "measure", "target", "unit", "achieved")


def _check_may_write(organisation: Organisation, by: User) -> None:
    """Staff of this organisation or above. The views already 404 outside scope; this is the
    service's own guard, so no other caller can write another subtree's plan."""
    if not by.sees_subtree or not organisation_list(user=by).filter(pk=organisation.pk).exists():
        raise PermissionDenied


@transaction.atomic
def plan_create(*, organisation: Organisation, year: int, by: User, summary: str = "") -> WorkPlan:
    _check_may_write(organisation, by)
    if WorkPlan.objects.filter(organisation=organisation, year=year).exists():
        raise ValidationError(
            {"year": _("“%(org)s”%(y)s 年的工作计划已经存在。") % {"org": organisation, "y": year}}
        )
    plan = WorkPlan(organisation=organisation, year=year, summary=summary, created_by=by)
    plan.full_clean()
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:  # created a moment ago by a colleague
        raise ValidationError(
            {"year": _("“%(org)s”%(y)s 年的工作计划已经存在。") % {"org": organisation, "y": year}}
        ) from None
    return plan


def plan_update(*, plan: WorkPlan, by: User, summary: str) -> WorkPlan:
    _check_may_write(plan.organisation, by)
    plan.summary = summary
    plan.save(update_fields=["summary"])
    return plan


def plan_submit(*, plan: WorkPlan, by: User, now: datetime.datetime | None = None) -> WorkPlan:
    """Hand the plan in (the date the committee's overview compares with its deadline). Handing
    in again keeps the first date; items can still be added and corrected afterwards."""
    _check_may_write(plan.organisation, by)
    if not plan.items.exists():
        raise ValidationError(_("计划至少要有一项工作才能提交。"))
    if plan.submitted_at is None:
        plan.submitted_at = now or timezone.now()
        plan.save(update_fields=["submitted_at"])
    return plan


def _check_cadres(plan: WorkPlan, cadres: list[Cadre]) -> None:
    ids = {c.pk for c in cadres}
    if not ids:
        return
    inside = in_subtree(Cadre.objects.filter(pk__in=ids), organisation=plan.organisation).count()
    if inside != len(ids):
        raise ValidationError({"responsible_cadres": _("负责团干部须是本组织或下级组织的团干部。")})


@transaction.atomic
def plan_item_save(
    *,
    plan: WorkPlan,
    by: User,
    item: PlanItem | None = None,
    responsible_cadres: Iterable[Cadre] = (),
    **fields: Any,
) -> PlanItem:
    """Add an item to the plan, or change one of its items."""
    _check_may_write(plan.organisation, by)
    if item is not None and item.plan_id != plan.pk:
        raise ValidationError(_("该事项不属于这个计划。"))
    item = item or PlanItem(plan=plan)
    for name in ITEM_FIELDS:
        if name in fields:
            setattr(item, name, fields[name])
    if item.measure == PlanItem.Measure.QUOTA and item.target and item.target > 100:
        raise ValidationError({"target": _("达标率目标不能超过 100%。")})
    if item.measure != PlanItem.Measure.MANUAL:
        item.achieved = 0
    cadres = list(responsible_cadres)
    _check_cadres(plan, cadres)
    item.full_clean()
    item.save()
    item.responsible_cadres.set(cadres)
    return item


def plan_item_delete(*, item: PlanItem, by: User) -> None:
    """Remove an item; activities that carried it out stay, unlinked."""
    _check_may_write(item.plan.organisation, by)
    item.delete()


def plan_deadline_set(
    *, organisation: Organisation, year: int, due_on: datetime.date, by: User
) -> PlanDeadline:
    """The date by which the committee expects its subtree's plans for `year`."""
    _check_may_write(organisation, by)
    if due_on.year not in (year - 1, year):
        raise ValidationError(
            {"due_on": _("截止日期应在 %(a)s 年或 %(y)s 年内。") % {"a": year - 1, "y": year}}
        )
    deadline, _created = PlanDeadline.objects.update_or_create(
        organisation=organisation, year=year, defaults={"due_on": due_on, "set_by": by}
    )
    return deadline
