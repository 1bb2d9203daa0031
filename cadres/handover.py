"""The handover (工作交接) when a cadre leaves office: their youths and open needs move to a
successor in one step, and the office ends.

Before this, ending a cadre's office in Django admin left their 100 youths with nobody and their
open needs unanswered, and moving them meant editing links one by one. The handover is all or
nothing: if any youth cannot move (outside the successor's own subtree — the linking rule — or
past the successor's ceiling), nothing moves and the page says how many and why.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Cadre, CadreYouth, User
from .scoping import scope_queryset
from .services import cadre_link_refusals, cadre_progress_refresh, cadre_youths_link


@dataclass(frozen=True)
class Handover:
    youths_moved: int
    youths_already_linked: int
    needs_moved: int
    ended_on: datetime.date


def handover_successors(*, user: User, cadre: Cadre) -> QuerySet[Cadre]:
    """Who may take over `cadre`'s work, as `user` sees it: active cadres in the user's scope,
    not the leaving one, in the leaving cadre's organisation first (the usual successor)."""
    today = timezone.localdate()
    qs = scope_queryset(Cadre.objects.select_related("organisation"), user=user, cadre_field="pk")
    return (
        qs.exclude(pk=cadre.pk)
        .exclude(active_until__lt=today)
        .order_by("organisation__path", "name", "id")
    )


@transaction.atomic
def cadre_handover(
    *, cadre: Cadre, successor: Cadre, by: User, on: datetime.date | None = None
) -> Handover:
    """Move `cadre`'s youths and open needs to `successor` from `on` (default today) and end
    `cadre`'s office the day before. Both must be in `by`'s scope (the caller resolved them
    with a scoped 404; checked again here, so no other path can skip it). Raises
    ValidationError, writing nothing, when the handover is impossible."""
    from contacts.need_services import needs_reassign

    today = timezone.localdate()
    on = on or today
    in_scope = handover_successors(user=by, cadre=cadre)
    if not scope_queryset(Cadre.objects.filter(pk=cadre.pk), user=by, cadre_field="pk").exists():
        raise ValidationError(_("无权办理该团干部的交接。"))
    if successor.pk == cadre.pk:
        raise ValidationError({"successor": _("接任者不能是离任者本人。")})
    if not in_scope.filter(pk=successor.pk).exists():
        raise ValidationError({"successor": _("接任者须是你管辖范围内仍在任的团干部。")})
    if on > today:
        raise ValidationError({"on": _("交接日期不能晚于今天。")})
    if on <= cadre.active_from:
        raise ValidationError({"on": _("交接日期须晚于离任者的任职开始日期。")})
    if cadre.active_until is not None and cadre.active_until < today:
        raise ValidationError(_("该团干部已经离任，无需再交接。"))
    # Lock both rows in a fixed order: two handovers crossing each other cannot deadlock, and a
    # concurrent link to either cadre waits (cadre_youths_link locks the cadre row too).
    list(Cadre.objects.select_for_update().filter(pk__in=[cadre.pk, successor.pk]).order_by("pk"))
    links = dict(CadreYouth.objects.filter(cadre=cadre).values_list("youth_id", "linked_on"))
    ids = sorted(links)
    refusals = cadre_link_refusals(cadre=successor, youth_ids=ids)
    if refusals:
        reasons = "；".join(sorted(set(refusals.values())))
        raise ValidationError(
            {
                "successor": _(
                    "有 %(n)s 名青年无法交给%(name)s：%(reasons)s 请选择其他接任者，"
                    "或先调整这些青年的所属组织。"
                )
                % {"n": len(refusals), "name": successor.name, "reasons": reasons}
            }
        )
    already = set(
        CadreYouth.objects.filter(cadre=successor, youth_id__in=ids).values_list(
            "youth_id", flat=True
        )
    )
    # The successor's link starts today: the contact history before it was the old cadre's.
    moved = cadre_youths_link(cadre=successor, youths=dict.fromkeys(ids, on), by=by)
    end_links(CadreYouth.objects.filter(cadre=cadre), by)
    needs = needs_reassign(from_cadre=cadre, to_cadre=successor, by=by)
    # The handover day is the successor's first: the leaving cadre's office ended the day before
    # (so the cadre lists show 已离任 at once, and a second handover is refused).
    cadre.active_until = on - datetime.timedelta(days=1)
    cadre._history_user = by  # type: ignore[attr-defined]
    cadre.save(update_fields=["active_until"])
    cadre_progress_refresh(cadre_ids=[cadre.pk, successor.pk])
    return Handover(
        youths_moved=moved,
        youths_already_linked=len(already),
        needs_moved=needs,
        ended_on=cadre.active_until,
    )


def end_links(links: QuerySet[CadreYouth], by: User) -> int:
    """Delete these links with one history row each ("-", who, when), in two statements
    whatever their number (a .delete() per link would be 2 queries each). Also a youth's links
    when they move away (`cadres.registry.youth_move_away`). Returns how many ended."""
    history = CadreYouth.history.model
    now = timezone.now()
    fields = [f.attname for f in CadreYouth._meta.concrete_fields]
    rows = history.objects.bulk_create(
        [
            history(**row, history_date=now, history_type="-", history_user=by)
            for row in links.values(*fields)
        ],
        batch_size=2000,
    )
    # QuerySet.delete() would fetch every link and send post_delete for each, and
    # simple_history would write a second, user-less history row per link: the history rows
    # above are the record, so the links go in one DELETE without signals.
    links._raw_delete(links.db)
    return len(rows)
