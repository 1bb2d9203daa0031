"""Reading roster spreadsheets (xlsx; CSV in UTF-8, UTF-8 with BOM or GBK) into rows of cell
values, bounded before anything is materialised: hostile files (a cell at XFD1048576, a zip bomb,
a CSV line of millions of separators, NUL bytes) become a one-line Chinese report, never a 500.

Split out of `cadres.roster` (which checks the rows and matches them); it knows nothing of youths.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
import re
from collections.abc import Iterable, Mapping

from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# A township's whole registry in one file (issue 11: a 100,000-row import in ≤ 60 s, ≤ 200 MB;
# `manage.py benchmark_roster` measures it). The 10 MB upload limit binds first for wide rows.
MAX_ROWS = 100_000
MAX_BYTES = 10 * 1024 * 1024


class RosterFileError(Exception):
    """The file as a whole cannot be read (empty, wrong type, unknown encoding)."""


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
# .xlsx: the inflated size of the whole archive and of its largest part. A 100,000-row roster
# inflates to ~50 MB of sheet XML and shared strings; 128 MB leaves room and bounds the parse.
MAX_XLSX_INFLATED = 128 * 1024 * 1024
MAX_XLSX_MEMBERS = 200
# Control characters (NUL and the other C0 ones but tab/newline/CR, DEL): PostgreSQL refuses NUL
# in text, and none of them belongs in a name or a unit.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
MAX_SHARED_STRINGS = 1_200_000  # a full 100,000 × 12 roster has at most 1,200,000 texts
MAX_TEXT_BYTES = 32_767 * 4  # Excel's own limit on a cell's text, in UTF-8
MAX_OTHER_PART = 4 * 1024 * 1024  # styles, workbook, relationships: kilobytes in real files
# Possessive forms ("\w++:" and "?+"): ":" is not a word character, so giving back never
# helps a match, and without backtracking points the regex engine allocates nothing per "<"
# (the backtracking form was 20 times slower under tracemalloc, 2 times without).
_ROW_TAG = re.compile(rb"<(?:\w++:)?+row[\s>/]")
_CELL_TAG = re.compile(rb"<(?:\w++:)?+c[\s>/]")
_SI_TAG = re.compile(rb"<(?:\w++:)?+si[\s>/]")
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


# --- A row's cells, for the row checks of the youth roster (cadres/roster.py) and the branch's
# member roster (surveys/members.py) ---------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell as the text a check reads: whole floats without ".0", datetimes as their date."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    return str(value).strip()


def row_cells(
    cells: list[object], positions: Mapping[str, int], keys: Iterable[str]
) -> dict[str, object]:
    """Each column's cell in this row (None for a column the file lacks or a short row)."""
    return {
        key: cells[pos] if (pos := positions.get(key)) is not None and pos < len(cells) else None
        for key in keys
    }


def unsafe_cells(texts: Mapping[str, str], *, max_chars: int) -> dict[str, str]:
    """What no later check may see, by column: control characters (NUL would fail in PostgreSQL
    and end up in the report's JSON) and cells far longer than any field. The value itself is
    never echoed back."""
    problems = {}
    for key, value in texts.items():
        if CONTROL_CHARS.search(value):
            problems[key] = _("含有不可见的控制字符（如 NUL），请删去后再导入。")
        elif len(value) > max_chars:
            problems[key] = _("内容太长（超过 %(max)s 个字）。") % {"max": max_chars}
    return problems
