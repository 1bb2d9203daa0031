"""Roster import: read what Chinese offices actually send (xlsx; CSV in UTF-8, UTF-8 with BOM or
GBK), check every row, and report every problem by row and column in Chinese.

Reading and checking write nothing; `cadres.services.roster_import_prepare` stores the checked
rows for a preview and `roster_import_commit` writes them all or nothing. Matching searches only
the importer's scope (`match_existing`, `phones_held_outside`). This module imports nothing from
`cadres.services` (which imports it).
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Gender, Sector, Youth
from .phones import normalise_phone

logger = logging.getLogger(__name__)

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024

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


@dataclass
class ParsedRoster:
    rows: list[dict] = field(default_factory=list)  # clean rows, JSON-ready, with "row" number
    errors: list[RowError] = field(default_factory=list)


class RosterFileError(Exception):
    """The file as a whole cannot be read (empty, wrong type, unknown encoding)."""


def clean_filename(filename: str) -> str:
    """The upload's name as stored: a client may put NUL or other control characters in it."""
    return _CONTROL.sub("", filename)[:200]


def template_headers() -> list[str]:
    return [names[0] for names in COLUMNS.values()]


def decode_csv(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK, what Excel on a
    Chinese Windows saves as "CSV")."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise RosterFileError(
            _("无法识别文件编码：请在 Excel 中“另存为”CSV（UTF-8）或 .xlsx 后再上传。")
        ) from None


# Bounds on what a roster file may hold, checked while streaming, before anything is kept in
# memory: a 5 KB .xlsx can declare a cell at XFD1048576, a 10 MB zip can inflate to gigabytes, a
# CSV line can hold millions of separators. A real roster has a dozen columns and short cells.
MAX_COLUMNS = 50
MAX_CELL_CHARS = 1000
# Blank lines a file may carry beyond MAX_ROWS (Excel keeps formatted empty rows at the end).
MAX_BLANK_ROWS = 1000
# .xlsx: the inflated size of the whole archive and of its largest part. A 20,000-row roster
# inflates to ~10 MB of sheet XML and shared strings; 64 MB leaves room and bounds the parse.
MAX_XLSX_INFLATED = 64 * 1024 * 1024
MAX_XLSX_MEMBERS = 200
# Control characters (NUL and the other C0 ones but tab/newline/CR, DEL): PostgreSQL refuses NUL
# in text, and none of them belongs in a name or a unit.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def read_table(data: bytes, filename: str) -> list[list[object]]:
    """The file as rows of cell values (header first), bounded: at most MAX_ROWS rows (plus
    blank ones) of MAX_COLUMNS columns; nothing beyond the bounds is ever materialised."""
    if not data:
        raise RosterFileError(_("文件是空的：没有任何内容。"))
    if len(data) > MAX_BYTES:
        raise RosterFileError(_("文件太大：请不超过 10 MB，可分成几个文件导入。"))
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _read_xlsx(data)
    if name.endswith((".csv", ".txt")):
        return _read_csv(data)
    if name.endswith(".xls"):
        raise RosterFileError(_("不支持旧版 .xls 文件：请在 Excel 中另存为 .xlsx 后再上传。"))
    raise RosterFileError(_("只能导入 .xlsx 或 .csv 文件。"))


def _bounded_rows(rows: Iterable[Iterable[object]]) -> list[list[object]]:
    """Collect rows up to the bounds; a blank row is kept as one shared empty list, so ten
    million empty lines cost nothing before they are refused."""
    table: list[list[object]] = []
    blank: list[object] = []
    limit = MAX_ROWS + 1 + MAX_BLANK_ROWS
    for cells in rows:
        values = list(cells)
        if len(values) > MAX_COLUMNS:
            if any(v not in (None, "") for v in values[MAX_COLUMNS:]):
                raise RosterFileError(
                    _("第 %(row)s 行超过 %(max)s 列：花名册只需要模板里的列，请删去多余的列。")
                    % {"row": len(table) + 1, "max": MAX_COLUMNS}
                )
            values = values[:MAX_COLUMNS]
        table.append(values if any(v not in (None, "") for v in values) else blank)
        if len(table) > limit:
            raise RosterFileError(
                _(
                    "一次最多导入 %(max)s 行，这个表格超出了：请分成几个文件。"
                    "如果数据并没有这么多行，可能是表格很远处的某个单元格有内容，"
                    "请删去多余的行后另存为新文件。"
                )
                % {"max": MAX_ROWS}
            )
    return table


# Separators one physical CSV line may hold: the csv module builds a whole row before anything
# can count its fields, so a line of ten million commas is refused before it is parsed.
MAX_LINE_SEPARATORS = 500


def _read_csv(data: bytes) -> list[list[object]]:
    text = decode_csv(data)
    del data
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;，")
    except csv.Error:
        dialect = csv.excel
    delimiter = dialect.delimiter
    # A field longer than the csv module's limit raises csv.Error (a file-level report below);
    # the limit is set near the cell bound so no longer field is ever built.
    csv.field_size_limit(max(MAX_CELL_CHARS * 4, 4096))

    def lines():
        # One line at a time out of the decoded text (io.StringIO would copy it as UCS-4).
        start = 0
        while start < len(text):
            end = text.find("\n", start)
            end = len(text) if end < 0 else end + 1
            line = text[start:end]
            if line.count(delimiter) > MAX_LINE_SEPARATORS:
                raise RosterFileError(
                    _("这个 CSV 文件有一行超过 %(max)s 列：花名册只需要模板里的列。")
                    % {"max": MAX_COLUMNS}
                )
            yield line
            start = end

    try:
        return _bounded_rows(csv.reader(lines(), dialect))
    except csv.Error:
        raise RosterFileError(
            _("无法读取这个 CSV 文件：某个单元格太长或引号不成对。请检查后重新保存。")
        ) from None


def _check_xlsx_archive(data: bytes) -> None:
    """Refuse a zip bomb from the central directory alone, before anything is inflated:
    the sizes there are what the parts claim, and reading stops at them (zipfile checks that a
    part does not inflate beyond its stated size)."""
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise RosterFileError(
            _("无法打开这个 Excel 文件：文件可能已损坏或不是 .xlsx 格式。")
        ) from None
    with archive:
        members = archive.infolist()
        if any(m.flag_bits & 0x1 for m in members):
            raise RosterFileError(_("这个 Excel 文件有密码保护：请取消密码后再上传。"))
        if len(members) > MAX_XLSX_MEMBERS:
            raise _too_big()
        if sum(m.file_size for m in members) > MAX_XLSX_INFLATED:
            raise _too_big()
        for member in members:
            if member.filename.lower().endswith((".xml", ".rels")):
                _scan_xml_part(archive, member)


# What one part of an .xlsx may hold. openpyxl builds each <row> as a whole in memory (and the
# shared-string table, and the other parts as whole trees), so one row of millions of <c/> or a
# cell of 60 MB would take gigabytes. Counted here on the raw bytes, streaming, at C speed
# (regular expressions; an expat callback per element took 15 s for one hostile file).
MAX_CELLS_PER_ROW = 1_000  # cells a <row> element may contain, empty ones included
MAX_SHARED_STRINGS = 400_000  # a full 20,000 × 12 roster has at most 240,000 distinct texts
MAX_TEXT_BYTES = 32_767 * 4  # Excel's own limit on a cell's text, in UTF-8
MAX_OTHER_PART = 4 * 1024 * 1024  # styles, workbook, relationships: kilobytes in real files
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s>/]")
_SI_TAG = re.compile(rb"<(?:\w+:)?si[\s>/]")
_LONG_TEXT = re.compile(rb"[^<]{%d,}" % MAX_TEXT_BYTES)


def _scan_xml_part(archive, member) -> None:
    """Stream one XML part and refuse it when a row has too many cells, the string table too
    many strings, a text is longer than a cell can be, or it declares a DTD (entity bombs)."""
    import zipfile

    name = member.filename
    sheet_or_strings = name.startswith("xl/worksheets/") or name == "xl/sharedStrings.xml"
    if not sheet_or_strings and member.file_size > MAX_OTHER_PART:
        raise _too_big()
    cells_in_row = 0
    strings = 0
    run = 0  # length of the text (bytes without "<") that ends the data scanned so far
    carry = b""
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(1024 * 1024):
                buffer = carry + chunk
                # An unfinished tag waits for the next round; a megabyte without any "<"
                # (whitespace padding, one long text) carries only its last bytes.
                cut = buffer.rfind(b"<")
                if cut <= 0:
                    cut = max(len(buffer) - 16, 0)
                head, carry = buffer[:cut], buffer[cut:]
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise RosterFileError(_unreadable_xlsx())
                first, last = head.find(b"<"), head.rfind(b"<")
                run += len(head) if first < 0 else first
                if run > MAX_TEXT_BYTES or _LONG_TEXT.search(head, max(first, 0)):
                    raise RosterFileError(_text_too_long())
                if first >= 0:
                    run = len(head) - last - 1
                for index, piece in enumerate(_ROW_TAG.split(head)):
                    if index:
                        cells_in_row = 0  # a new <row> starts this piece
                    cells_in_row += len(_CELL_TAG.findall(piece))
                    if cells_in_row > MAX_CELLS_PER_ROW:
                        raise RosterFileError(_too_many_cells())
                strings += len(_SI_TAG.findall(head))
                if strings > MAX_SHARED_STRINGS:
                    raise RosterFileError(_too_many_cells())
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError):
        raise RosterFileError(_unreadable_xlsx()) from None


def _too_big() -> RosterFileError:
    return RosterFileError(
        _(
            "这个 Excel 文件解压后太大（可能含有图片或大量空白格式）："
            "请只保留花名册的列，另存为新文件后再上传。"
        )
    )


def _unreadable_xlsx() -> str:
    return _("无法打开这个 Excel 文件：文件可能已损坏或不是 .xlsx 格式。")


def _too_many_cells() -> str:
    return _("这个 Excel 文件的行或列太多：请只保留花名册的行和列，另存为新文件后再上传。")


def _text_too_long() -> str:
    return _("这个 Excel 文件中有超过 32767 个字符的单元格：请检查后重新保存。")


def _read_xlsx(data: bytes) -> list[list[object]]:
    """Stream the first sheet with read-only openpyxl, bounded in rows and columns.

    1. the zip's central directory is checked first (inflated sizes, encryption);
    2. the sheet is read in read-only mode (one row at a time from the XML), asking for at
       most MAX_COLUMNS columns and MAX_ROWS (+ blank) rows, whatever the sheet's declared
       dimension says: a cell at XFD1048576 is never padded into a row of 16,384 cells;
    3. anything openpyxl raises on a malformed part is a file-level report, not a 500.
    """
    from openpyxl import load_workbook

    _check_xlsx_archive(data)
    try:
        # data_only=False: a formula cell arrives as "=…" and is refused, not silently evaluated.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # hostile parts raise anything (KeyError, ValueError, XML errors…)
        logger.info("roster: unreadable xlsx", exc_info=True)
        raise RosterFileError(
            _("无法打开这个 Excel 文件：文件可能已损坏或不是 .xlsx 格式。")
        ) from None
    try:
        if not workbook.worksheets:
            raise RosterFileError(_("文件是空的：没有工作表。"))
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(
            min_row=1,
            max_row=MAX_ROWS + 2 + MAX_BLANK_ROWS,
            max_col=MAX_COLUMNS + 1,
            values_only=True,
        )
        try:
            table = _bounded_rows(rows)
        except RosterFileError:
            raise
        except Exception:  # an absurd number or date in a cell, a broken XML part
            logger.info("roster: unreadable xlsx cell", exc_info=True)
            raise RosterFileError(
                _("无法读取这个 Excel 文件中的内容：文件可能已损坏。请另存为新文件后再上传。")
            ) from None
        return table
    finally:
        workbook.close()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    return str(value).strip()


def parse_roster(
    data: bytes,
    filename: str,
    *,
    progress: Callable[[int, int], None] | None = None,
    today: datetime.date | None = None,
) -> ParsedRoster:
    """Check every row; collect all problems rather than stopping at the first."""
    table = read_table(data, filename)
    while table and not any(_text(v) for v in table[-1]):
        table.pop()  # trailing empty lines Excel likes to keep
    if not table:
        raise RosterFileError(_("文件是空的：没有表头，也没有数据行。"))
    header = [_text(v).lstrip("\ufeff") for v in table[0]]
    positions, unknown = _map_header(header)
    missing = [COLUMNS[key][0] for key in REQUIRED if key not in positions]
    if missing:
        raise RosterFileError(
            _("表头缺少必填列：%(cols)s。请使用导入模板的表头（第 1 行）。")
            % {"cols": "、".join(missing)}
        )
    body = table[1:]
    if not body:
        raise RosterFileError(_("文件只有表头，没有数据行。"))
    if len(body) > MAX_ROWS:
        raise RosterFileError(
            _("一次最多导入 %(max)s 行，这个文件有 %(n)s 行：请分成几个文件。")
            % {"max": MAX_ROWS, "n": len(body)}
        )
    today = today or timezone.localdate()
    sectors = _sector_lookup()
    result = ParsedRoster()
    for index, cells in enumerate(body):
        row_number = index + 2
        if not any(_text(v) for v in cells):
            continue  # blank line in the middle: skipped, not an error
        row, errors = _check_row(cells, positions, row_number, sectors, today)
        if errors:
            result.errors.extend(errors)
        else:
            result.rows.append(row)
        if progress is not None and (index + 1) % 1000 == 0:
            progress(index + 1, len(body))
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
) -> tuple[dict, list[RowError]]:
    errors: list[RowError] = []

    def raw(key: str) -> object:
        pos = positions.get(key)
        return cells[pos] if pos is not None and pos < len(cells) else None

    def err(key: str, problem: str) -> None:
        errors.append(RowError(row_number, COLUMNS[key][0], problem))

    values = {key: _text(raw(key)) for key in COLUMNS}
    # First, what no later check may see: control characters (NUL would fail in PostgreSQL and
    # end up in the report's JSON) and cells far longer than any field. Such a row is reported
    # for those cells alone; the value itself is never echoed back.
    for key, value in values.items():
        if _CONTROL.search(value):
            err(key, _("含有不可见的控制字符（如 NUL），请删去后再导入。"))
        elif len(value) > MAX_CELL_CHARS:
            err(key, _("内容太长（超过 %(max)s 个字）。") % {"max": MAX_CELL_CHARS})
    if errors:
        return {"row": row_number}, errors
    for key in ("name", "unit", "wechat_id", "notes", "sector", "gender"):
        if values[key].startswith(FORMULA_START):
            err(key, _("内容以 %(c)s 开头，可能是公式，请改为纯文本。") % {"c": values[key][:1]})
            values[key] = ""
    if isinstance(raw("phone"), str) and raw("phone").strip().startswith(("=", "@")):
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

    birth_year = _birth_year(raw("birth_year"), values["birth_year"])
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
        linked_on = _date(raw("linked_on"), values["linked_on"])
        if linked_on is None:
            err("linked_on", _("日期格式不对，请写成 2024-05-01。"))
        elif linked_on > today:
            err("linked_on", _("建立联系日期不能晚于今天。"))

    row = {
        "row": row_number,
        "name": values["name"],
        "gender": gender_code or "",
        "birth_year": birth_year,
        "sector_id": sector.pk if sector else None,
        "unit": values["unit"],
        "phone": phone,
        "wechat_id": values["wechat_id"],
        "notes": values["notes"],
        "linked_on": linked_on.isoformat() if linked_on else None,
    }
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


def match_existing(
    rows: Iterable[dict], *, youths: QuerySet[Youth], chunk: int = 1000
) -> dict[int, int]:
    """Row number -> id of the existing youth it describes (same phone; else same name + birth
    year + unit), among `youths` only: the importer's scope, so that an upload never matches,
    links or counts a youth its author may not see. A handful of queries per thousand rows."""
    rows = list(rows)
    by_phone: dict[str, int] = {}
    phones = sorted({r["phone"] for r in rows if r["phone"]})
    for start in range(0, len(phones), chunk):
        for pk, phone in (
            youths.filter(phone__in=phones[start : start + chunk])
            .order_by("-pk")
            .values_list("pk", "phone")
        ):
            by_phone[phone] = pk  # descending pk: the lowest wins, as in youth_match
    by_identity: dict[tuple, int] = {}
    names = sorted({r["name"] for r in rows if not by_phone.get(r["phone"])})
    for start in range(0, len(names), chunk):
        for pk, name, year, unit in (
            youths.filter(name__in=names[start : start + chunk])
            .order_by("-pk")
            .values_list("pk", "name", "birth_year", "unit")
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
    rows: Iterable[dict], *, youths: QuerySet[Youth], chunk: int = 1000
) -> set[str]:
    """Phones of the rows registered to some youth, but to none of `youths` (the importer's
    scope): the same person is already in another organisation's registry. Only the phones come
    back, never who holds them. Two queries per thousand phones."""
    phones = sorted({r["phone"] for r in rows if r["phone"]})
    outside: set[str] = set()
    for start in range(0, len(phones), chunk):
        part = phones[start : start + chunk]
        anywhere = set(Youth.objects.filter(phone__in=part).values_list("phone", flat=True))
        if anywhere:
            outside |= anywhere - set(
                youths.filter(phone__in=sorted(anywhere)).values_list("phone", flat=True)
            )
    return outside


def identity_keys(row: dict) -> list[tuple]:
    """Keys under which two rows of one file are the same youth."""
    keys: list[tuple] = [("id", row["name"], row["birth_year"], row["unit"])]
    if row["phone"]:
        keys.insert(0, ("phone", row["phone"]))
    return keys
