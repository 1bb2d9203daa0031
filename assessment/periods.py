"""Assessment periods: "2026Q3" (quarter), "2026H1" (half year), "2026" (year).

`parse_period` is the one function that turns what a user, a URL or the command line says into a
Period, with a Chinese message for anything malformed and, when asked, for a future period.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

_PATTERN = re.compile(r"^(\d{4})(?:([QH])(\d))?$")


@dataclass(frozen=True)
class Period:
    code: str
    kind: str  # "quarter" | "half" | "year"
    start: datetime.date
    end: datetime.date

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def label(self) -> str:
        if self.kind == "quarter":
            return _("%(year)s年第%(n)s季度") % {"year": self.year, "n": self.code[-1]}
        if self.kind == "half":
            half = _("上半年") if self.code.endswith("1") else _("下半年")
            return _("%(year)s年%(half)s") % {"year": self.year, "half": half}
        return _("%(year)s年") % {"year": self.year}

    def as_of(self, today: datetime.date) -> datetime.date:
        """The last day counted: the period's end, or today while it is running."""
        return min(self.end, today)

    def is_closed(self, today: datetime.date) -> bool:
        return self.end < today

    def previous(self) -> Period:
        return period_containing(self.start - datetime.timedelta(days=1), kind=self.kind)


def parse_period(
    text: str, *, today: datetime.date | None = None, allow_future: bool = False
) -> Period:
    """'2026Q3' / '2026H1' / '2026' → Period; ValidationError (Chinese) otherwise."""
    raw = (text or "").strip().upper()
    match = _PATTERN.match(raw)
    if not match:
        raise ValidationError(
            _("时段格式不正确：“%(text)s”。请写成 2026Q3（季度）、2026H1（半年）或 2026（全年）。"),
            params={"text": text},
            code="malformed",
        )
    year, letter, number = int(match[1]), match[2], match[3]
    if not 2000 <= year <= 2100:
        raise ValidationError(_("年份超出范围：%(year)s。"), params={"year": year}, code="range")
    if letter == "Q":
        n = int(number)
        if not 1 <= n <= 4:
            raise ValidationError(_("季度只能是 Q1 到 Q4。"), code="malformed")
        start = datetime.date(year, 3 * n - 2, 1)
        end = _month_end(year, 3 * n)
        period = Period(f"{year}Q{n}", "quarter", start, end)
    elif letter == "H":
        n = int(number)
        if n not in (1, 2):
            raise ValidationError(_("半年只能是 H1（上半年）或 H2（下半年）。"), code="malformed")
        start = datetime.date(year, 1 if n == 1 else 7, 1)
        end = _month_end(year, 6 if n == 1 else 12)
        period = Period(f"{year}H{n}", "half", start, end)
    else:
        period = Period(str(year), "year", datetime.date(year, 1, 1), datetime.date(year, 12, 31))
    today = today or timezone.localdate()
    if not allow_future and period.start > today:
        raise ValidationError(
            _("%(label)s 尚未开始，不能计算或查看未来时段。"),
            params={"label": period.label},
            code="future",
        )
    return period


def period_containing(day: datetime.date, *, kind: str = "quarter") -> Period:
    if kind == "quarter":
        code = f"{day.year}Q{(day.month - 1) // 3 + 1}"
    elif kind == "half":
        code = f"{day.year}H{1 if day.month <= 6 else 2}"
    else:
        code = str(day.year)
    return parse_period(code, allow_future=True)


def recent_quarters(today: datetime.date, n: int = 8) -> list[Period]:
    """The current quarter and the n-1 before it, newest first (for period pickers)."""
    out = [period_containing(today)]
    while len(out) < n:
        out.append(out[-1].previous())
    return out


def _month_end(year: int, month: int) -> datetime.date:
    if month == 12:
        return datetime.date(year, 12, 31)
    return datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)
