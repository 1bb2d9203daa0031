"""The two editions of the quarterly bulletin (季度通报), and what each may show.

A bulletin is printed and passed down to the organisations below; the same figures, with names
and the ranking, are what supervisors work from. MISSION.md: rankings are for supervisors only,
and a flagged cadre is a matter for their supervisor, not for a circulated paper. So:

- 通报版 (circulated): aggregates only. No organisation ranking, no cadre names (flags and
  supervision cases appear as counts by reason). This is the default: the edition that is safe
  to leave on a table.
- 督导版 (supervisors): everything, marked 内部 on every printed page and in the Excel title.

The page, its print stylesheet and the Excel file all ask `edition_from()` and read the same
`Edition`: one rule for what leaves the committee.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Edition:
    code: str
    label: str | Promise
    ranking: bool  # the organisations directly below, ranked
    names: bool  # flagged cadres and open cases by name
    internal: bool  # 内部 on every page and in the workbook's title


CIRCULATED = Edition(
    "circulated", _("通报版（下发各组织）"), ranking=False, names=False, internal=False
)
SUPERVISORS = Edition("supervisors", _("督导版（内部）"), ranking=True, names=True, internal=True)
EDITIONS = {e.code: e for e in (CIRCULATED, SUPERVISORS)}


def edition_from(value: str | None) -> Edition:
    """The edition a request asks for; anything else is the circulated one (never the fuller
    edition by accident: a link with a typo prints the safe paper)."""
    return EDITIONS.get(value or "", CIRCULATED)


def css_string(text: str) -> str:
    """`text` as a quoted CSS string for a print stylesheet's `content:`. Every character that
    is not a letter, digit, space or CJK is written as a CSS escape, so an organisation named
    `"; } body { display:none` stays text (names are typed by admins)."""
    out = []
    for ch in text:
        if ch.isalnum() or ch == " " or ord(ch) > 0x2E7F:
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):06x}")
    return '"' + "".join(out) + '"'
