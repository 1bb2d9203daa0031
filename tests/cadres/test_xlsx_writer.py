"""The export jobs' .xlsx writer (cadres/xlsx_writer.py): what it writes reads back typed and
exact in openpyxl, in both of its readers."""

from __future__ import annotations

import datetime
import decimal
import zipfile

import pytest
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

from cadres import xlsx_writer
from cadres.models import Gender


def _read(path, read_only):
    sheet = load_workbook(path, read_only=read_only).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("read_only", [False, True])
def test_cells_read_back_typed_and_exact(tmp_path, read_only, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    path = tmp_path / "out.xlsx"
    aware = datetime.datetime(2026, 5, 1, 8, 30, tzinfo=datetime.UTC)
    rows = [
        ["姓名", "  两边有空格 ", "a & b <c> \"d\" 'e'", "甲\x00乙\x07丙\x1f", "a\tb\nc"],
        [1998, -3, 2.5, decimal.Decimal("1.25"), True],
        [datetime.date(2026, 5, 1), aware, datetime.datetime(2026, 5, 1, 23, 59), None, ""],
        [Gender.MALE, gettext_lazy("男"), "=1+1", float("nan"), False],
    ]
    assert xlsx_writer.write_sheet(path, rows) == 4
    got = _read(path, read_only)
    assert got[0] == ["姓名", "  两边有空格 ", "a & b <c> \"d\" 'e'", "甲乙丙", "a\tb\nc"]
    assert got[1] == [1998, -3, 2.5, 1.25, True]
    assert got[2][:3] == [
        datetime.datetime(2026, 5, 1),
        datetime.datetime(2026, 5, 1, 16, 30),  # the local wall time (UTC+8)
        datetime.datetime(2026, 5, 1, 23, 59),
    ]
    assert got[2][3:] == [None, None]
    assert got[3] == ["M", "男", "=1+1", "#NUM!", False]
    # Text is never a formula: no cell carries a formula, whatever it starts with.
    book = load_workbook(path)
    assert not any(c.data_type == "f" for row in book.active.iter_rows() for c in row)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None


def test_long_text_is_cut_to_excels_limit_and_rows_past_the_last_are_not_written(
    tmp_path, monkeypatch
):
    path = tmp_path / "out.xlsx"
    monkeypatch.setattr(xlsx_writer, "MAX_SHEET_ROWS", 3)
    rows = [["长" * 40_000], ["b"], ["c"], ["d"]]
    assert xlsx_writer.write_sheet(path, rows) == 3
    got = _read(path, True)
    assert len(got[0][0]) == xlsx_writer.MAX_CELL_CHARS and [r[0] for r in got[1:]] == ["b", "c"]


def test_progress_is_reported_every_n_rows(tmp_path):
    seen: list[int] = []
    rows = ([i, str(i)] for i in range(25))
    assert (
        xlsx_writer.write_sheet(tmp_path / "x.xlsx", rows, progress=seen.append, progress_every=10)
        == 25
    )
    assert seen == [10, 20]


def test_column_letters():
    assert [xlsx_writer.column_letters(i) for i in (0, 25, 26, 51, 52, 701, 702, 16383)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
        "XFD",
    ]
