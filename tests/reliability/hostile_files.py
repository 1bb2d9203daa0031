"""A corpus of hostile roster files, generated on the fly (no committed binaries).

Each entry is (name, filename, builder); a builder returns the file's bytes and keeps its own
memory small (archives are written part by part), so the measurement is of the reader alone.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

HEADER = ["姓名", "性别", "出生年份", "领域", "单位/学校/村（嘎查）", "手机号"]
CSV_HEADER = ",".join(HEADER)

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"


def _header_row() -> str:
    cells = "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in HEADER)
    return f'<row r="1">{cells}</row>'


def _xlsx(sheet_parts, extra: dict[str, object] | None = None) -> bytes:
    """An .xlsx written by hand, the sheet streamed from `sheet_parts` (an iterable of str)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for part in sheet_parts:
                sheet.write(part.encode())
        for name, parts in (extra or {}).items():
            with archive.open(name, "w", force_zip64=True) as member:
                for part in parts:
                    member.write(part.encode())
    return buffer.getvalue()


def far_cell() -> bytes:
    """The 5 KB file of the issue: a header, one youth, and one cell at XFD1048576."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append(["王芳", "女", 1998, "企业青年", "物流园", "13812345678"])
    sheet["XFD1048576"] = "x"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def sparse_rows() -> bytes:
    """Rows 1, 2 and then one every 1,000 rows to the sheet's end: sparse, not large."""
    rows = [
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>x</t></is></c></row>'
        for r in range(1000, 1_048_577, 1000)
    ]
    return _xlsx([_SHEET_HEAD, _header_row(), *rows, _SHEET_TAIL])


def zip_bomb() -> bytes:
    """A sheet that inflates to 1 GB of whitespace (the archive is about a megabyte)."""
    blank = " " * (1024 * 1024)
    return _xlsx([_SHEET_HEAD, _header_row(), *(blank for _ in range(1024)), _SHEET_TAIL])


def wide_row() -> bytes:
    """One row of 12 million empty cells in 48 MB of XML: under the archive's size bound, but
    openpyxl would build the whole row (gigabytes) in memory."""
    chunk = "<c/>" * 250_000
    return _xlsx(
        [
            _SHEET_HEAD,
            _header_row(),
            '<row r="2">',
            *(chunk for _ in range(48)),
            "</row>",
            _SHEET_TAIL,
        ]
    )


def many_shared_strings() -> bytes:
    """Three million tiny shared strings (openpyxl loads the whole table into memory)."""
    chunk = "<si><t>a</t></si>" * 100_000
    sst = [
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">',
        *(chunk for _ in range(30)),
        "</sst>",
    ]
    return _xlsx([_SHEET_HEAD, _header_row(), _SHEET_TAIL], {"xl/sharedStrings.xml": sst})


def huge_number() -> bytes:
    """A numeric cell of 30,000 digits (int() refuses it: ValueError inside openpyxl)."""
    row = f'<row r="2"><c r="A2"><v>{"9" * 30_000}</v></c></row>'
    return _xlsx([_SHEET_HEAD, _header_row(), row, _SHEET_TAIL])


def entity_expansion() -> bytes:
    """The billion laughs in the sheet XML."""
    dtd = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)
        )
        + "]>"
    )
    body = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    )
    return _xlsx([dtd, body, _SHEET_TAIL])


def not_a_zip() -> bytes:
    return b"PK\x03\x04" + b"\x00" * 5000


def csv_many_columns() -> bytes:
    """Ten million separators on one line (a list of ten million strings if materialised)."""
    return (CSV_HEADER + "\n" + "," * (10 * 1024 * 1024 - 200) + "\n").encode()


def csv_many_lines() -> bytes:
    """Ten million empty lines after the header."""
    return (CSV_HEADER + "\n" + "\n" * (10 * 1024 * 1024 - 200)).encode()


def csv_huge_cell() -> bytes:
    """One cell of nine million characters."""
    return (CSV_HEADER + "\n王芳,女,1998,企业青年," + "x" * 9_000_000 + ",\n").encode()


def csv_nul() -> bytes:
    return (CSV_HEADER + "\n王\x00芳,女,1998,企业青年,物流园,13812345678\n").encode()


def csv_control_in_sector() -> bytes:
    """A control character in a cell whose value the report would echo ("没有“…”这个领域")."""
    return (CSV_HEADER + "\n王芳,女,1998,企\x00业\x1b,物流园,13812345678\n").encode()


def xlsx_nul() -> bytes:
    """A raw NUL in the sheet XML: not well-formed XML, so a file-level report."""
    row = (
        '<row r="2"><c r="A2" t="inlineStr"><is><t>王\x00芳</t></is></c>'
        '<c r="C2"><v>1998</v></c>'
        '<c r="D2" t="inlineStr"><is><t>企业青年</t></is></c></row>'
    )
    return _xlsx([_SHEET_HEAD, _header_row(), row, _SHEET_TAIL])


CORPUS = [
    ("far_cell", "far.xlsx", far_cell),
    ("sparse_rows", "sparse.xlsx", sparse_rows),
    ("zip_bomb", "bomb.xlsx", zip_bomb),
    ("wide_row", "wide.xlsx", wide_row),
    ("many_shared_strings", "sst.xlsx", many_shared_strings),
    ("huge_number", "number.xlsx", huge_number),
    ("entity_expansion", "lol.xlsx", entity_expansion),
    ("not_a_zip", "broken.xlsx", not_a_zip),
    ("csv_many_columns", "wide.csv", csv_many_columns),
    ("csv_many_lines", "lines.csv", csv_many_lines),
    ("csv_huge_cell", "cell.csv", csv_huge_cell),
    ("csv_nul", "nul.csv", csv_nul),
    ("csv_control_in_sector", "ctrl.csv", csv_control_in_sector),
    ("xlsx_nul", "nul.xlsx", xlsx_nul),
]


def _high_water_mb(resource) -> float:
    """The process's own peak resident size. On Linux ru_maxrss is wrong for this: execve keeps
    the high-water mark of the memory it replaced, so a child started by a 300 MB pytest reports
    300 MB before reading anything (seen in CI). VmHWM belongs to the new address space."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write_corpus(directory: Path) -> Path:
    """Every file of the corpus built once, as `directory/<name>`: building costs seconds (the
    1 GB zip bomb is compressed at level 9), so the measuring child and the tests read these."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, _filename, build in CORPUS:
        (directory / name).write_bytes(build())
    return directory


def measure(directory: str, names: list[str] | None = None) -> dict[str, dict]:
    """Run in a fresh process: for each file of the corpus in `directory` (write_corpus), the
    peak of Python allocations while parsing (tracemalloc) and what the parse said, and the
    process's high-water mark (VmHWM) so far."""
    import gc
    import resource
    import time
    import tracemalloc

    from cadres import spreadsheet

    out: dict[str, dict] = {}
    for name, filename, _build in CORPUS:
        if names and name not in names:
            continue
        data = (Path(directory) / name).read_bytes()
        size = len(data)
        gc.collect()
        tracemalloc.start()
        started = time.monotonic()
        try:
            table = spreadsheet.read_table(data, filename)
            outcome = f"rows:{len(table)}"
        except spreadsheet.RosterFileError as exc:
            outcome = f"refused:{exc}"
        except MemoryError:
            outcome = "MemoryError"
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del data
        gc.collect()
        out[name] = {
            "bytes": size,
            "peak_mb": round(peak / 2**20, 1),
            "seconds": round(time.monotonic() - started, 2),
            "outcome": outcome[:120],
            "maxrss_mb": _high_water_mb(resource),
        }
    return out
