"""Writes of supervision (督导): the case opened from a flag and its steps 提醒 → 约谈 → 诫勉, the
committee's review notes on an organisation, and a supervisor's verification of a cadre's
integrity findings (which may open a case). Keyword-only, `by=` the acting user. Scores and
flags are computed in assessment/services.py."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .freshness import numbers_changed
from .models import (
    CaseStep,
    Flag,
    IntegrityFinding,
    IntegrityReview,
    OrganisationReview,
    SupervisionCase,
)
from .periods import Period

if TYPE_CHECKING:  # only for annotations
    from cadres.models import Organisation, User


# --- Supervision --------------------------------------------------------------------------------


@transaction.atomic
def case_open(*, flag: Flag, by: User) -> SupervisionCase:
    """Open a supervision case from an open flag; the cadre's existing open case is reused."""
    if flag.resolved_at is not None:
        raise ValidationError(_("该预警已解除，无需立案督导。"))
    existing = SupervisionCase.objects.filter(
        cadre_id=flag.cadre_id, status=SupervisionCase.Status.OPEN
    ).first()
    if existing:
        return existing
    numbers_changed(organisation_id=flag.organisation_id, cadre_ids=[flag.cadre_id])
    return SupervisionCase.objects.create(
        cadre_id=flag.cadre_id, organisation_id=flag.organisation_id, flag=flag, opened_by=by
    )


@transaction.atomic
def case_step_add(
    *,
    case: SupervisionCase,
    kind: int,
    date: datetime.date,
    conducted_by: str,
    notes: str,
    agreed_actions: str,
    follow_up_on: datetime.date,
    by: User,
) -> CaseStep:
    """Record 提醒 → 约谈 → 诫勉, in that order, each once; refused otherwise."""
    case = SupervisionCase.objects.select_for_update().get(pk=case.pk)
    if case.status != SupervisionCase.Status.OPEN:
        raise ValidationError(_("案例已结案，不能再添加督导措施。"))
    done = list(case.steps.order_by("kind").values_list("kind", "date"))
    expected = len(done) + 1
    kinds = CaseStep.Kind
    if kind not in kinds.values:
        raise ValidationError({"kind": _("请选择督导措施。")})
    if kind != expected:
        if expected > kinds.ADMONISH:
            raise ValidationError({"kind": _("诫勉已是最后一步：请结案或继续回访。")})
        raise ValidationError(
            {
                "kind": _("督导须按“提醒 → 约谈 → 诫勉”的顺序进行：下一步应为“%(next)s”。")
                % {"next": kinds(expected).label}
            }
        )
    if done and date < done[-1][1]:
        raise ValidationError({"date": _("日期不能早于上一步（%(d)s）。") % {"d": done[-1][1]}})
    if follow_up_on < date:
        raise ValidationError({"follow_up_on": _("回访日期不能早于本次日期。")})
    if date > timezone.localdate():
        raise ValidationError({"date": _("日期不能晚于今天。")})
    numbers_changed(organisation_id=case.organisation_id, cadre_ids=[case.cadre_id])
    return CaseStep.objects.create(
        case=case,
        kind=kind,
        date=date,
        conducted_by=conducted_by,
        notes=notes,
        agreed_actions=agreed_actions,
        follow_up_on=follow_up_on,
        recorded_by=by,
    )


@transaction.atomic
def case_close(
    *, case: SupervisionCase, note: str, recovered: bool = False, by: User
) -> SupervisionCase:
    case = SupervisionCase.objects.select_for_update().get(pk=case.pk)
    if case.status != SupervisionCase.Status.OPEN:
        raise ValidationError(_("案例已结案。"))
    if not note.strip():
        raise ValidationError({"note": _("请填写结案说明。")})
    case.status = SupervisionCase.Status.RECOVERED if recovered else SupervisionCase.Status.DECIDED
    case.closed_at = timezone.now()
    case.closing_note = note
    case.save(update_fields=["status", "closed_at", "closing_note"])
    numbers_changed(organisation_id=case.organisation_id, cadre_ids=[case.cadre_id])
    return case


def review_save(
    *, organisation: Organisation, period: Period, notes: str, by: User
) -> OrganisationReview:
    """The committee's notes on a mid-year (H1) or year-end (year) review of an organisation."""
    if period.kind == "quarter":
        raise ValidationError(_("年中评估请选上半年（如 2026H1），年底评估请选全年（如 2026）。"))
    review, _created = OrganisationReview.objects.update_or_create(
        organisation=organisation, period=period.code, defaults={"notes": notes, "updated_by": by}
    )
    return review


# --- Integrity verification ---------------------------------------------------------------------


@transaction.atomic
def integrity_review_record(
    *, finding: IntegrityFinding, outcome: str, note: str = "", open_case: bool = False, by: User
) -> IntegrityReview:
    """Record a supervisor's verification of a cadre's padding findings (a new row: the older
    ones are the history). 属实 with `open_case` opens a supervision case, or reuses the cadre's
    open one."""
    if outcome not in IntegrityReview.Outcome.values:
        raise ValidationError({"outcome": _("请选择核实结果。")})
    note = (note or "").strip()
    if outcome != IntegrityReview.Outcome.PENDING and not note:
        raise ValidationError({"note": _("请写明核实情况（例如回访了哪些青年、怎么说的）。")})
    if open_case and outcome != IntegrityReview.Outcome.CONFIRMED:
        raise ValidationError({"open_case": _("只有核实“属实”才能立案督导。")})
    case = None
    if open_case:
        case = SupervisionCase.objects.filter(
            cadre_id=finding.cadre_id, status=SupervisionCase.Status.OPEN
        ).first()
        if case is None:
            case = SupervisionCase.objects.create(
                cadre_id=finding.cadre_id, organisation_id=finding.organisation_id, opened_by=by
            )
            numbers_changed(organisation_id=finding.organisation_id, cadre_ids=[finding.cadre_id])
    return IntegrityReview.objects.create(
        cadre_id=finding.cadre_id,
        organisation_id=finding.organisation_id,
        period=finding.period,
        outcome=outcome,
        note=note[:2000],
        case=case,
        recorded_by=by,
    )
