"""Roster import: read what Chinese offices actually send (xlsx; CSV in UTF-8, UTF-8 with BOM or
GBK), check every row, and report every problem by row and column in Chinese.

Reading (`cadres.spreadsheet`) and checking write nothing;
`cadres.roster_import.roster_import_prepare` stores the checked rows for a preview and
`roster_import_commit` writes them all or nothing. Matching searches only the importer's scope
(`match_existing`, `phones_held_outside`). This module imports nothing from `cadres.services`
or `cadres.roster_import` (which imports it).
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Gender, Sector, Youth
from .phones import normalise_phone

# Reading the file (bounded, hostile-safe) lives in cadres/spreadsheet.py.
from .spreadsheet import (
    CONTROL_CHARS,
    MAX_CELL_CHARS,
    MAX_ROWS,
    RosterFileError,
    cell_text,
    open_table,
    row_cells,
    unsafe_cells,
)

# Column titles as offices write them; the first name of each tuple is the one in the template.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "青年姓名"),
    "gender": ("性别",),
    "birth_year": ("出生年份", "出生年", "出生年月", "出生日期"),
    "sector": ("领域", "所属领域", "青年类别"),
    "unit": ("单位/学校/村（嘎查）", "单位", "工作单位", "学校", "单位/学校", "村（嘎查）"),
    "phone": ("手机号", "手机", "手机号码", "联系电话", "电话"),
    "wechat_id": ("微信号", "微信"),
    "notes": ("备注",),
    "linked_on": ("建立联系日期", "联系日期"),
}
REQUIRED = ("name", "birth_year", "sector")
# Text cells that a spreadsheet would run as a formula; refused rather than silently stored.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class RowError:
    row: int  # the row number as the spreadsheet shows it (header is row 1)
    column: str
    problem: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "problem": self.problem}


class CheckedRow:
    """One clean row of a checked roster, read like the dict it is stored as (`row["phone"]`,
    `row.get("unit")`; `as_dict()` for the JSON).

    Slots rather than a dict: a 100,000-row check keeps every clean row until it is stored, and
    a dict of ten keys costs about 250 bytes more per row than ten slots (the check job peaked
    at 206 MB against the 200 MB target of issue 11; `manage.py benchmark_roster`)."""

    FIELDS = (
        "row",
        "name",
        "gender",
        "birth_year",
        "sector_id",
        "unit",
        "phone",
        "wechat_id",
        "notes",
        "linked_on",
    )
    __slots__ = FIELDS

    def __init__(self, *values: object) -> None:
        for name, value in zip(self.FIELDS, values, strict=True):
            object.__setattr__(self, name, value)

    def __getitem__(self, key: str) -> Any:
        if key not in self.FIELDS:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: object = None) -> Any:
        return getattr(self, key) if key in self.FIELDS else default

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CheckedRow):
            return self.as_dict() == other.as_dict()
        return self.as_dict() == other

    __hash__ = None  # type: ignore[assignment]


@dataclass
class ParsedRoster:
    rows: list[CheckedRow] = field(default_factory=list)  # clean rows, with their "row" number
    errors: list[RowError] = field(default_factory=list)


def clean_filename(filename: str) -> str:
    """The upload's name as stored: a client may put NUL or other control characters in it.
    A long name keeps its extension: the background check reads the format from it."""
    cleaned = CONTROL_CHARS.sub("", filename)
    stem, dot, ext = cleaned.rpartition(".")
    if len(cleaned) > 200 and dot and len(ext) <= 10:
        return stem[: 199 - len(ext)] + "." + ext
    return cleaned[:200]


def template_headers() -> list[str]:
    return [names[0] for names in COLUMNS.values()]


def parse_roster(
    data: bytes,
    filename: str,
    *,
    progress: Callable[[int, int], None] | None = None,
    today: datetime.date | None = None,
) -> ParsedRoster:
    """Check every row; collect all problems rather than stopping at the first.

    The file is read as a stream (`open_table`): each row's cells are checked and dropped, so
    the table and the checked rows are never both whole in memory."""
    estimate, table = open_table(data, filename)
    with contextlib.closing(table):
        return _parse_rows(table, estimate, progress=progress, today=today)


def _parse_rows(
    table: Iterator[list[object]],
    estimate: int,
    *,
    progress: Callable[[int, int], None] | None,
    today: datetime.date | None,
) -> ParsedRoster:
    first = next(table, None)
    if first is None:
        raise RosterFileError(_("文件是空的：没有表头，也没有数据行。"))
    header = [cell_text(v).lstrip("\ufeff") for v in first]
    positions, unknown = _map_header(header)
    if not any(header):
        # A blank first line and nothing else is an empty file; data under it lacks a header.
        rest = next((cells for cells in table if any(cell_text(v) for v in cells)), None)
        if rest is None:
            raise RosterFileError(_("文件是空的：没有表头，也没有数据行。"))
    missing = [COLUMNS[key][0] for key in REQUIRED if key not in positions]
    if missing:
        raise RosterFileError(
            _("表头缺少必填列：%(cols)s。请使用导入模板的表头（第 1 行）。")
            % {"cols": "、".join(missing)}
        )
    today = today or timezone.localdate()
    sectors = _sector_lookup()
    # Values that repeat down a roster (a school's name, a birth year, a date) are kept once.
    shared: dict[object, object] = {}
    result = ParsedRoster()
    total = max(estimate - 1, 1)
    last = 0  # the body's last non-blank row (trailing blank lines do not count)
    for index, cells in enumerate(table):
        if not any(cell_text(v) for v in cells):
            continue  # blank line in the middle or at the end: skipped, not an error
        last = index + 1
        if last > MAX_ROWS:
            # Count the rest without checking it (the reader's own bound stops a runaway file).
            for more, rest in enumerate(table, start=index + 2):
                if any(cell_text(v) for v in rest):
                    last = more
            raise RosterFileError(
                _("一次最多导入 %(max)s 行，这个文件有 %(n)s 行：请分成几个文件。")
                % {"max": MAX_ROWS, "n": last}
            )
        row, errors = _check_row(cells, positions, index + 2, sectors, today, shared)
        del cells
        if errors or row is None:
            result.errors.extend(errors)
        else:
            result.rows.append(row)
        if progress is not None and (index + 1) % 1000 == 0:
            progress(index + 1, max(total, index + 1))
    if not result.rows and not result.errors:
        raise RosterFileError(_("文件只有表头，没有数据行。"))
    return result


def _map_header(header: list[str]) -> tuple[dict[str, int], list[str]]:
    positions: dict[str, int] = {}
    unknown = []
    for i, title in enumerate(header):
        for key, names in COLUMNS.items():
            if title in names and key not in positions:
                positions[key] = i
                break
        else:
            if title:
                unknown.append(title)
    return positions, unknown


def _sector_lookup() -> dict[str, Sector]:
    lookup: dict[str, Sector] = {}
    for sector in Sector.objects.filter(is_active=True):
        lookup[sector.name] = sector
        lookup[sector.code.lower()] = sector
    return lookup


def _check_row(
    cells: list[object],
    positions: dict[str, int],
    row_number: int,
    sectors: dict[str, Sector],
    today: datetime.date,
    shared: dict[object, object] | None = None,
) -> tuple[CheckedRow | None, list[RowError]]:
    errors: list[RowError] = []

    def err(key: str, problem: str) -> None:
        errors.append(RowError(row_number, COLUMNS[key][0], problem))

    raw = row_cells(cells, positions, COLUMNS)
    values = {key: cell_text(cell) for key, cell in raw.items()}
    # First, what no later check may see; such a row is reported for those cells alone.
    for key, problem in unsafe_cells(values, max_chars=MAX_CELL_CHARS).items():
        err(key, problem)
    if errors:
        return None, errors
    for key in ("name", "unit", "wechat_id", "notes", "sector", "gender"):
        if values[key].startswith(FORMULA_START):
            err(key, _("内容以 %(c)s 开头，可能是公式，请改为纯文本。") % {"c": values[key][:1]})
            values[key] = ""
    if isinstance(raw["phone"], str) and raw["phone"].strip().startswith(("=", "@")):
        err("phone", _("手机号是公式，请粘贴为数值后再导入。"))
        values["phone"] = ""

    if not values["name"] and not any(e.column == COLUMNS["name"][0] for e in errors):
        err("name", _("姓名必填。"))
    elif len(values["name"]) > 50:
        err("name", _("姓名太长（最多 50 个字）。"))

    gender = values["gender"]
    gender_code = {"男": Gender.MALE, "女": Gender.FEMALE, "m": "M", "f": "F", "": ""}.get(
        gender.lower() if gender.isascii() else gender
    )
    if gender_code is None:
        err("gender", _("性别只能填“男”或“女”（也可留空）。"))

    birth_year = _birth_year(raw["birth_year"], values["birth_year"])
    lowest, highest = today.year - 45, today.year - 6
    if birth_year is None:
        err("birth_year", _("出生年份必填，填 4 位年份，例如 1998。"))
    elif not lowest <= birth_year <= highest:
        err(
            "birth_year",
            _("出生年份 %(y)s 不在 %(lo)s 到 %(hi)s 之间。")
            % {"y": birth_year, "lo": lowest, "hi": highest},
        )

    sector = sectors.get(values["sector"]) or sectors.get(values["sector"].lower())
    if not values["sector"]:
        if not any(e.column == COLUMNS["sector"][0] for e in errors):
            err("sector", _("领域必填。"))
    elif sector is None:
        err(
            "sector",
            _("没有“%(s)s”这个领域；可填：%(all)s。")
            % {"s": values["sector"], "all": "、".join(_sector_names(sectors))},
        )

    phone = ""
    try:
        phone = normalise_phone(values["phone"])
    except ValidationError as exc:
        err("phone", exc.messages[0])
    if len(values["unit"]) > 100:
        err("unit", _("单位太长（最多 100 个字）。"))
    if len(values["wechat_id"]) > 40:
        err("wechat_id", _("微信号太长（最多 40 个字符）。"))

    linked_on = None
    if values["linked_on"]:
        linked_on = _date(raw["linked_on"], values["linked_on"])
        if linked_on is None:
            err("linked_on", _("日期格式不对，请写成 2024-05-01。"))
        elif linked_on > today:
            err("linked_on", _("建立联系日期不能晚于今天。"))

    if errors:
        return None, errors
    once = shared.setdefault if shared is not None else (lambda value, _default: value)
    row = CheckedRow(
        row_number,
        values["name"],
        gender_code or "",
        once(birth_year, birth_year),
        sector.pk if sector else None,
        once(values["unit"], values["unit"]),
        phone,
        values["wechat_id"],
        values["notes"],
        once(linked_on.isoformat(), linked_on.isoformat()) if linked_on else None,
    )
    return row, errors


def _sector_names(sectors: dict[str, Sector]) -> list[str]:
    return sorted({s.name for s in sectors.values()}, key=lambda n: n)


def _birth_year(value: object, text: str) -> int | None:
    if isinstance(value, datetime.date | datetime.datetime):
        return value.year
    digits = text.replace("年", "").split(".")[0].split("-")[0].split("/")[0].strip()
    if len(digits) == 4 and digits.isdigit():
        return int(digits)
    if len(digits) in (6, 8) and digits.isdigit():  # 199805 or 19980512
        return int(digits[:4])
    return None


def _date(value: object, text: str) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


# --- Matching duplicates in bulk, with the same rule as services.youth_match. ---


# Values per IN (...) list when matching a roster on databases other than PostgreSQL (SQLite in
# development). On PostgreSQL each lookup is one statement whatever the rows: the values go as
# one array parameter (`= ANY(%s)`, `IN (SELECT * FROM unnest(…))`). Django's `__in` prepared
# each of 100,000 values in Python (2-3 s of CPU per check and again per commit) and re-ran the
# scope 60 times.
MATCH_CHUNK = 5000


def _on_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _phone_is_any(phones: list[str]) -> RawSQL:
    # The partial index youth_phone_match_idx (phone <> '') serves it with the exclude below.
    return RawSQL('"cadres_youth"."phone" = ANY(%s)', (phones,), output_field=BooleanField())


def _with_phones(youths: QuerySet[Youth], phones: list[str], chunk: int) -> Iterator[QuerySet]:
    """`youths` whose phone is one of `phones`: one queryset on PostgreSQL, chunks elsewhere."""
    if _on_postgres():
        if phones:
            yield youths.filter(_phone_is_any(phones)).exclude(phone="")
        return
    for start in range(0, len(phones), chunk):
        yield youths.filter(phone__in=phones[start : start + chunk])


def _with_identities(youths: QuerySet[Youth], rows: list[Any], chunk: int) -> Iterator[QuerySet]:
    """`youths` that may have the name + birth year + unit of one of `rows`."""
    if _on_postgres():
        keys = sorted({(r["name"], r["birth_year"], r["unit"]) for r in rows})
        if keys:
            names, years, units = (list(column) for column in zip(*keys, strict=True))
            yield youths.filter(
                RawSQL(
                    '("cadres_youth"."name", "cadres_youth"."birth_year", "cadres_youth"."unit")'
                    " IN (SELECT * FROM unnest(%s::varchar[], %s::integer[], %s::varchar[]))",
                    (names, years, units),
                    output_field=BooleanField(),
                )
            )
        return
    names = sorted({r["name"] for r in rows})
    for start in range(0, len(names), chunk):
        yield youths.filter(name__in=names[start : start + chunk])


def match_existing(
    rows: Iterable[Any], *, youths: QuerySet[Youth], chunk: int = MATCH_CHUNK
) -> dict[int, int]:
    """Row number -> id of the existing youth it describes (same phone; else same name + birth
    year + unit), among `youths` only: the importer's scope, so that an upload never matches,
    links or counts a youth its author may not see. Two statements on PostgreSQL; a handful
    per thousand rows elsewhere."""
    rows = list(rows)
    by_phone: dict[str, int] = {}
    phones = sorted({r["phone"] for r in rows if r["phone"]})
    for part in _with_phones(youths, phones, chunk):
        for pk, phone in part.order_by("-pk").values_list("pk", "phone"):
            by_phone[phone] = pk  # descending pk: the lowest wins, as in youth_match
    by_identity: dict[tuple, int] = {}
    unmatched = [r for r in rows if not by_phone.get(r["phone"])]
    for part in _with_identities(youths, unmatched, chunk):
        for pk, name, year, unit in part.order_by("-pk").values_list(
            "pk", "name", "birth_year", "unit"
        ):
            by_identity[(name, year, unit)] = pk
    matches: dict[int, int] = {}
    for r in rows:
        pk = (by_phone.get(r["phone"]) if r["phone"] else None) or by_identity.get(
            (r["name"], r["birth_year"], r["unit"])
        )
        if pk:
            matches[r["row"]] = pk
    return matches


def phones_held_outside(
    rows: Iterable[Any], *, youths: QuerySet[Youth], chunk: int = MATCH_CHUNK
) -> set[str]:
    """Phones of the rows registered to some youth, but to none of `youths` (the importer's
    scope): the same person is already in another organisation's registry. Only the phones come
    back, never who holds them. Two statements on PostgreSQL (the second only when some phone
    is registered), two per thousand phones elsewhere."""
    phones = sorted({r["phone"] for r in rows if r["phone"]})
    outside: set[str] = set()
    for part in _with_phones(Youth.objects.all(), phones, chunk):
        anywhere = set(part.values_list("phone", flat=True))
        if anywhere:
            (held,) = _with_phones(youths, sorted(anywhere), len(anywhere))
            outside |= anywhere - set(held.values_list("phone", flat=True))
    return outside


def identity_keys(row: Any) -> list[object]:
    """Keys under which two rows of one file are the same youth: the phone (a str) and the
    name + birth year + unit (a tuple; the two kinds cannot collide). The phone is its own key,
    not wrapped in a tuple: 100,000 rows keep 200,000 of these while a roster is planned."""
    keys: list[object] = [(row["name"], row["birth_year"], row["unit"])]
    if row["phone"]:
        keys.insert(0, row["phone"])
    return keys
