"""The sentences the bulletin, the review and their Excel say about a subtree and a period.

One function builds them from the stored totals (selectors.overview) so that the printed page
and the Excel say the same words about the same numbers. Each sentence names its period and
the day it counts to ("as of"), and needs are never mixed across periods:

- due this period      needs whose due date falls in the period (up to the as-of day);
- answered on time     of those, answered by their due date;
- overdue this period  of those, past due and still unanswered on the as-of day;
- backlog              due before the period began and still unanswered on the as-of day.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _


def _day(d: datetime.date) -> str:
    return _("%(y)s年%(m)s月%(d)s日") % {"y": d.year, "m": d.month, "d": d.day}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value}"


@dataclass(frozen=True)
class ReportSentences:
    scope: str
    quota: str
    conversion: str
    needs_due: str
    needs_overdue: str
    needs_backlog: str

    def as_list(self) -> list[str]:
        return [
            self.scope,
            self.quota,
            self.conversion,
            self.needs_due,
            self.needs_overdue,
            self.needs_backlog,
        ]


def report_sentences(
    *, label: str, start: datetime.date, as_of: datetime.date, totals: dict
) -> ReportSentences:
    """The sentences of a report, from `selectors.overview(...).totals` of a computed run."""
    t = totals
    common = {"p": label, "s": _day(start), "a": _day(as_of)}
    return ReportSentences(
        scope=_("以下数字均为%(p)s（%(s)s至%(a)s）的统计，统计截至%(a)s。") % common,
        quota=_(
            "%(p)s，截至%(a)s：%(n)s 名团干部中 %(m)s 名完成“1+100”联系指标"
            "（联系青年数与覆盖领域数均达到要求），占 %(pct)s%%；领域覆盖达标 %(ms)s 名。"
        )
        % {
            **common,
            "n": t["n"],
            "m": t["met_quota"],
            "pct": _pct(t["quota_pct"]),
            "ms": t["met_sectors"],
        },
        conversion=_(
            "%(p)s（截至%(a)s）线上联系过的青年 %(o)s 名，其中 %(c)s 名又在线下见面，"
            "转化率 %(pct)s%%。"
        )
        % {**common, "o": t["online"], "c": t["converted"], "pct": _pct(t["conversion_pct"])},
        needs_due=_(
            "%(p)s到期的需求（到期日在%(s)s至%(a)s之间）%(d)s 件，"
            "其中按期答复 %(n)s 件（%(pct)s%%）。"
        )
        % {
            **common,
            "d": t["needs_due_sum"],
            "n": t["needs_on_time_sum"],
            "pct": _pct(t["on_time_pct"]),
        },
        needs_overdue=_("%(p)s到期、截至%(a)s逾期仍未答复的需求 %(o)s 件。")
        % {**common, "o": t["needs_overdue_sum"]},
        needs_backlog=_(
            "此前各期遗留：%(s)s以前到期、截至%(a)s仍未答复的需求 %(b)s 件（不计入本期到期数）。"
        )
        % {**common, "b": t["needs_backlog_sum"]},
    )
