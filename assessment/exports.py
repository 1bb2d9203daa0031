"""Exports of the assessment app: the quarterly bulletin (季度通报) as an Excel workbook.

Lists export through their tables (cadres.exports.EscapingTableExport); the bulletin is not a
list but four sheets built from the same figures the printable page shows. Every row goes
through `escape_cell`, so that an organisation, a cadre or a review note whose text begins
with = + - @ is shown as text by the spreadsheet, never run as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from cadres.exports import escape_cell

from .editions import SUPERVISORS, Edition
from .freshness import Freshness
from .models import Flag, OrganisationReview, SupervisionCase
from .selectors import FlagSummary, Overview

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _append(ws: Worksheet, row: Iterable[Any]) -> None:
    # The one way a cell enters the workbook: numbers pass through, text is made formula-safe.
    ws.append([escape_cell(value) for value in row])


def _overview_rows(
    ov: Overview, saved: OrganisationReview | None, fresh: Freshness | None
) -> list[tuple[Any, Any]]:
    t = ov.totals
    ballots = t.get("ballots_available")
    # Every figure names its period and its as-of day (issue 17): the header rows say both, and
    # the needs are split exactly as the printed bulletin's sentences (assessment/sentences.py).
    as_of = ov.run.as_of if ov.run else None
    computed = (
        timezone.localtime(fresh.computed_at).strftime("%Y-%m-%d %H:%M")
        if fresh and fresh.computed_at
        else ""
    )
    rows = [
        (_("时段"), ov.period.label),
        (_("统计截至"), as_of.isoformat() if as_of else _("尚未计算")),
        (_("统计时间"), computed),
        (_("团干部人数"), t.get("n")),
        (_("完成联系指标（人数与领域均达标）人数"), t.get("met_quota")),
        (_("联系指标完成率 %"), t.get("quota_pct")),
        (_("领域要求达标率 %"), t.get("sectors_pct")),
        (_("平均活跃度"), t.get("avg_score")),
        (_("线上转线下 %"), t.get("conversion_pct")),
        (_("本期到期需求"), t.get("needs_due_sum")),
        (_("其中按期答复"), t.get("needs_on_time_sum")),
        (_("需求按期答复率 %"), t.get("on_time_pct")),
        (_("本期到期、逾期未答复需求"), t.get("needs_overdue_sum")),
        (_("此前各期遗留、仍未答复需求"), t.get("needs_backlog_sum")),
        (_("测评满意"), t.get("ballot_satisfied") if ballots else _("未接入")),
        (_("测评不满意"), t.get("ballot_not") if ballots else _("未接入")),
    ]
    if ov.activities is not None and ov.activities.available:
        rows += [
            (_("活动场次"), ov.activities.data["activities"]),
            (_("参加人次"), ov.activities.data["attendances"]),
            (_("志愿服务时长（小时）"), ov.activities.data["volunteer_hours"]),
        ]
    else:
        rows.append((_("活动与志愿服务"), _("未接入")))
    if saved:
        rows.append((_("评估意见"), saved.notes))
    return rows


def bulletin_xlsx(
    ov: Overview,
    ranking: Sequence[dict[str, Any]],
    flags: Sequence[Flag],
    cases: Sequence[SupervisionCase],
    saved: OrganisationReview | None,
    fresh: Freshness | None = None,
    *,
    edition: Edition = SUPERVISORS,
    summary: FlagSummary | None = None,
) -> HttpResponse:
    """The bulletin of `ov` (a subtree and a quarter) as a workbook download, in `edition`
    (assessment/editions.py):
    1. 概况: the headline figures and the committee's review notes;
    2. 联系方式: contacts per channel;
    3. 组织排名 (supervisors' edition): the organisations under this one, ranked;
    4. 预警与督导 (supervisors' edition): open flags with the state of their supervision case;
       in the circulated edition 预警概况: how many cadres were flagged for what, no names;
    5. 年度工作计划: work-plan completion (per organisation in the supervisors' edition only).
    """
    from openpyxl import Workbook  # loaded on the first download, as the roster import does

    wb = Workbook()
    ws = wb.active
    ws.title = _("概况")
    title = _("%(org)s · %(period)s 通报") % {
        "org": ov.organisation.name,
        "period": ov.period.label,
    }
    if edition.internal:
        title = _("%(title)s（内部，不得外传）") % {"title": title}
    _append(ws, [title])
    _append(ws, [_("版本"), str(edition.label)])
    for row in _overview_rows(ov, saved, fresh):
        _append(ws, row)
    if ov.sentences is not None:
        _append(ws, [])
        for sentence in ov.sentences.as_list():
            _append(ws, [sentence])

    ws = wb.create_sheet(_("联系方式"))
    _append(ws, [_("方式"), _("联系次数")])
    for name, n in ov.channel_totals:
        _append(ws, [name, n])

    if not edition.ranking:
        _summary_sheet(wb, summary)
        _plans_sheet(wb, ov, edition)
        return _download(wb, ov, edition)

    ws = wb.create_sheet(_("组织排名"))
    headers = [
        _("名次"),
        _("组织"),
        _("团干部"),
        _("平均活跃度"),
        _("指标完成率 %"),
        _("本期逾期需求"),
        _("此前遗留需求"),
    ]
    _append(ws, headers)
    for r in ranking:
        _append(
            ws,
            [r["rank"], r["name"], r["n"], r["avg"], r["met_pct"], r["overdue"], r["backlog"]],
        )

    ws = wb.create_sheet(_("预警与督导"))
    _append(ws, [_("团干部"), _("组织"), _("预警原因"), _("督导状态")])
    case_by_cadre = {c.cadre_id: c for c in cases}
    for f in flags:
        case = case_by_cadre.get(f.cadre_id)
        _append(
            ws,
            [
                f.cadre.name,
                f.organisation.name,
                "；".join(r["text"] for r in f.reasons),
                case.get_status_display() if case else _("未立案"),
            ],
        )
    _plans_sheet(wb, ov, edition)
    return _download(wb, ov, edition)


def _plans_sheet(wb: Any, ov: Overview, edition: Edition) -> None:
    """年度工作计划: the subtree's plan completion (activities/plans.py:plan_completion, through
    assessment/sources.py); per organisation only in the supervisors' edition, as on the page."""
    if ov.plans is None or not ov.plans.available:
        return
    p = ov.plans.data
    ws = wb.create_sheet(_("年度工作计划"))
    _append(ws, [_("应制订计划的组织"), len(p.rows)])
    _append(ws, [_("按时提交"), p.with_plan])
    _append(ws, [_("到期计划事项"), p.items_due])
    _append(ws, [_("已完成"), p.due_done])
    _append(ws, [_("完成率 %"), p.rate])
    _append(ws, [_("未按时提交计划的组织"), "、".join(p.missing_names)])
    if edition.ranking:
        _append(ws, [])
        _append(ws, [_("组织"), _("计划事项"), _("到期事项"), _("已完成"), _("完成率 %")])
        for r in p.rows:
            if r.figures:
                f = r.figures
                _append(ws, [r.organisation.name, len(f.items), f.items_due, f.due_done, f.rate])


def _summary_sheet(wb: Any, summary: FlagSummary | None) -> None:
    ws = wb.create_sheet(_("预警概况"))
    if summary is None:
        return
    _append(ws, [_("预警团干部"), summary.n_flagged])
    for label, n in summary.by_reason:
        _append(ws, [_("其中：%(reason)s") % {"reason": label}, n])
    _append(ws, [_("督导中的案例"), summary.n_cases])


def _download(wb: Any, ov: Overview, edition: Edition) -> HttpResponse:
    buffer = io.BytesIO()
    wb.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    name = f"lianqing-{ov.period.code}-{edition.code}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
