"""The 活跃度 formula, its explanation and the next steps that raise it most. One module.

Each component is a number from 0 to 1 computed from raw numbers (assessment/metrics.py):

- quota          linked distinct youths / quota (capped at 1)
- reach          distinct linked youths contacted in the period / quota (capped at 1)
- depth          linked youths met offline (face to face) since 1 January / linked youths
- diversity      distinct fields among linked youths / fields required (capped at 1)
- responsiveness needs due in the period answered by their due date / needs due (1 if none due)
- ballot         branch secretaries only: "satisfied" 1, "not satisfied" 0; no valid ballot (or
                 ballots not available) → the component does not apply
- confirmed      青年确认: reached youths with youth-side evidence in the period (a 见面码 scan, a
                 confirmed share link, an activity check-in, a need they submitted themself;
                 contacts.selectors.youth_side_evidence) / reached youths (0 if none reached)

score = 100 × Σ weightᵢ × componentᵢ / Σ weightᵢ over the components that apply, rounded to 0.1.
The weights come from the policy version (data, not code); they sum to 100.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cadres.quota import quota_met

from .models import COMPONENTS

if TYPE_CHECKING:
    from .models import CadreScore, ScoringPolicy

LABELS = {
    "quota": gettext_lazy("联系青年数"),
    "reach": gettext_lazy("本期联系覆盖"),
    "depth": gettext_lazy("线下见面"),
    "diversity": gettext_lazy("领域覆盖"),
    "responsiveness": gettext_lazy("需求按期答复"),
    "ballot": gettext_lazy("满意度测评"),
    "confirmed": gettext_lazy("青年确认"),
}


def _ratio(part: int, whole: int) -> float:
    return min(1.0, part / whole) if whole > 0 else 0.0


def components(m: dict, ballot: str | None) -> dict[str, float | None]:
    """The components from one cadre's raw numbers (a metrics row or a stored score)."""
    c: dict[str, float | None] = {
        "quota": _ratio(m["linked"], m["quota"]),
        "reach": _ratio(m["reached"], m["quota"]),
        "depth": _ratio(m["met_offline_year"], m["linked"]),
        "diversity": _ratio(m["sectors"], m["min_sectors"]),
        "responsiveness": _ratio(m["needs_on_time"], m["needs_due"]) if m["needs_due"] else 1.0,
        "ballot": None,
        "confirmed": _ratio(m["confirmed"], m["reached"]),
    }
    if m["is_secretary"] and ballot in ("satisfied", "not_satisfied"):
        c["ballot"] = 1.0 if ballot == "satisfied" else 0.0
    return c


def score(comps: dict[str, float | None], weights: dict[str, int]) -> Decimal:
    applicable = [code for code in COMPONENTS if comps.get(code) is not None]
    total = sum(weights[code] for code in applicable)
    if total == 0:
        return Decimal("0.0")
    value = 100 * sum(weights[code] * comps[code] for code in applicable) / total  # type: ignore[misc, operator]
    return Decimal(str(round(value + 1e-9, 1)))


@dataclass
class Line:
    code: str
    label: str
    value: float | None  # 0..1
    weight: int
    points: float  # what it contributes to the score now
    possible: float  # what it would contribute at 100 %
    raw: str  # the raw numbers, in words

    @property
    def percent(self) -> int | None:
        return None if self.value is None else round(self.value * 100)


def explain(s: CadreScore, weights: dict[str, int], period_label: str) -> list[Line]:
    """The score of a stored CadreScore `s`, component by component, with raw numbers."""
    comps = {code: getattr(s, f"c_{code}") for code in COMPONENTS}
    applicable = sum(weights[c] for c in COMPONENTS if comps[c] is not None) or 1
    raw = {
        "quota": _("已建立联系 %(n)s/%(q)s 名青年") % {"n": s.linked, "q": s.quota},
        "reach": _("%(p)s联系了 %(n)s/%(q)s 名青年")
        % {"p": period_label, "n": s.reached, "q": s.quota},
        "depth": _("今年与 %(n)s/%(t)s 名联系青年线下见过面")
        % {"n": s.met_offline_year, "t": s.linked},
        "diversity": _("联系青年覆盖 %(n)s/%(r)s 个领域") % {"n": s.sectors, "r": s.min_sectors},
        "responsiveness": (
            _("%(n)s/%(t)s 件到期需求按期答复") % {"n": s.needs_on_time, "t": s.needs_due}
            if s.needs_due
            else _("本期没有到期需求，按满分计")
        ),
        "ballot": _ballot_text(s),
        "confirmed": (
            _(
                "%(p)s联系的 %(t)s 名青年中，%(n)s 名有青年本人的确认"
                "（扫见面码、确认链接、活动签到或自己提交需求）"
            )
            % {"p": period_label, "n": s.confirmed_youths, "t": s.reached}
            if comps["confirmed"] is not None
            else _("此版本计算规则没有这一项")
        ),
    }
    lines = []
    for code in COMPONENTS:
        value = comps[code]
        possible = 100 * weights[code] / applicable if value is not None else 0.0
        lines.append(
            Line(
                code=code,
                label=str(LABELS[code]),
                value=value,
                weight=weights[code],
                points=round(possible * (value or 0), 1),
                possible=round(possible, 1),
                raw=raw[code],
            )
        )
    return lines


def _ballot_text(s: CadreScore) -> str:
    if not s.is_secretary:
        return _("非团支部书记，不参加测评，此项不计")
    return {
        "satisfied": _("团员测评结果：满意"),
        "not_satisfied": _("团员测评结果：不满意"),
        "invalid": _("测评无效（参评人数不足），此项不计"),
    }.get(s.ballot, _("本年度尚无测评结果，此项不计"))


@dataclass
class Step:
    gain: float  # score points it would add
    text: str


def next_steps(s: CadreScore, weights: dict[str, int], limit: int = 3) -> list[Step]:
    """Concrete actions, the ones that raise the score most first."""
    lines = {line.code: line for line in explain(s, weights, "")}
    steps: list[Step] = []

    def per_unit(code: str, units: int) -> float:
        line = lines[code]
        return (line.possible - line.points) if units > 0 else 0.0

    missing_links = max(0, s.quota - s.linked)
    if missing_links:
        steps.append(
            Step(
                per_unit("quota", missing_links),
                _("再与 %(n)s 名青年建立联系，达到 %(q)s 名的指标")
                % {"n": missing_links, "q": s.quota},
            )
        )
    missing_reach = max(0, min(s.quota, s.linked) - s.reached)
    if missing_reach and lines["reach"].value is not None and lines["reach"].value < 1:
        gain = lines["reach"].possible * missing_reach / max(1, s.quota)
        steps.append(
            Step(
                gain,
                _("本期还有 %(n)s 名联系青年没有联系过：给他们发条消息或打个电话")
                % {"n": missing_reach},
            )
        )
    not_met = max(0, s.linked - s.met_offline_year)
    if not_met and s.linked:
        steps.append(
            Step(
                lines["depth"].possible - lines["depth"].points,
                _("今年还有 %(n)s 名联系青年没见过面：约一次走访、座谈或邀请参加活动")
                % {"n": not_met},
            )
        )
    missing_sectors = max(0, s.min_sectors - s.sectors)
    if missing_sectors:
        steps.append(
            Step(
                lines["diversity"].possible - lines["diversity"].points,
                _("再联系 %(n)s 个新领域的青年（例如新业态、返乡、社会组织青年）")
                % {"n": missing_sectors},
            )
        )
    overdue = s.needs_overdue + s.needs_backlog
    if overdue:
        steps.append(
            Step(
                max(lines["responsiveness"].possible - lines["responsiveness"].points, 0.1),
                _("答复 %(n)s 件逾期的青年需求") % {"n": overdue},
            )
        )
    unconfirmed = max(0, s.reached - s.confirmed_youths)
    if unconfirmed and lines["confirmed"].value is not None:
        steps.append(
            Step(
                lines["confirmed"].possible - lines["confirmed"].points,
                _("请你见过的青年扫一扫你的见面码（本期联系的青年中还有 %(n)s 名没有确认）")
                % {"n": unconfirmed},
            )
        )
    steps = [step for step in steps if step.gain > 0]
    steps.sort(key=lambda step: -step.gain)
    for step in steps:
        step.gain = round(step.gain, 1)
    return steps[:limit]


# What each reason code means in a count ("预警团干部 N 名，其中……"): the circulated bulletin
# names no cadre, only how many were flagged for what.
REASON_LABELS = {
    "score": gettext_lazy("活跃度低于预警线"),
    "quota": gettext_lazy("任职期满仍未完成联系指标"),
    "no_contact": gettext_lazy("长期没有联系青年"),
    "needs": gettext_lazy("需求逾期未答复"),
}


def flag_reasons(
    m: dict, value: Decimal, policy: ScoringPolicy, as_of: datetime.date
) -> list[dict]:
    """Why a cadre is below the policy's thresholds (empty: not flagged)."""
    reasons = []
    if value < policy.flag_score_below:
        reasons.append(
            {
                "code": "score",
                "text": _("活跃度 %(s)s 分，低于 %(t)s 分")
                % {"s": value, "t": policy.flag_score_below},
            }
        )
    grace_end = m["active_from"] + datetime.timedelta(days=policy.quota_grace_days)
    # The one quota rule (cadres/quota.py): enough youths AND enough fields.
    if not quota_met(m["linked"], m["sectors"], m) and grace_end <= as_of:
        reasons.append(
            {
                "code": "quota",
                "text": _(
                    "任职已满 %(d)s 天，联系青年 %(n)s/%(q)s 名、覆盖领域 %(s)s/%(r)s 个，"
                    "未完成指标"
                )
                % {
                    "d": policy.quota_grace_days,
                    "n": m["linked"],
                    "q": m["quota"],
                    "s": m["sectors"],
                    "r": m["min_sectors"],
                },
            }
        )
    last = m["last_contact"]
    serving_days = (as_of - m["active_from"]).days
    if serving_days > policy.no_contact_days and (
        last is None or (as_of - last).days > policy.no_contact_days
    ):
        text = (
            _("已 %(d)s 天没有联系青年（最近一次 %(last)s）")
            % {"d": (as_of - last).days, "last": last.isoformat()}
            if last
            else _("近期没有任何联系记录")
        )
        reasons.append({"code": "no_contact", "text": text})
    # Needs overdue from this period and the backlog of earlier ones both count against a cadre.
    overdue = m["needs_overdue"] + m.get("needs_backlog", 0)
    if overdue > policy.overdue_needs_max:
        reasons.append({"code": "needs", "text": _("%(n)s 件需求逾期未答复") % {"n": overdue}})
    return reasons
