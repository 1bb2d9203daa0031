"""Roster import: encodings, duplicates, formula cells, empty files, bad rows, all or nothing."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from cadres import roster_import
from cadres.models import CadreYouth, RosterImport, Youth
from tests.factories import SectorFactory, YouthFactory

pytestmark = pytest.mark.django_db

HEADER = "姓名,性别,出生年份,领域,单位/学校/村（嘎查）,手机号,微信号,备注,建立联系日期"


@pytest.fixture
def sectors(db):
    return {
        "企业青年": SectorFactory(code="enterprise", name="企业青年"),
        "农村牧区青年": SectorFactory(code="rural", name="农村牧区青年"),
    }


def _csv(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def _prepare(tree, data: bytes, filename: str = "roster.csv", cadre=True):
    return roster_import.roster_import_prepare(
        data=data,
        filename=filename,
        organisation=tree.town_a,
        cadre=tree.cadre if cadre else None,
        by=tree.owner,
    )


GOOD = _csv(
    "王芳,女,1998,企业青年,天山镇物流园,138 1234 5678,,,2024-05-01",
    "巴特尔,男,2000年,农村牧区青年,新胜村,+86 13912345678,bater,,",
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_every_office_encoding_imports(tree, sectors, encoding):
    record = _prepare(tree, GOOD.encode(encoding))
    assert record.status == RosterImport.Status.PREVIEW, record.errors
    assert [r["name"] for r in record.rows] == ["王芳", "巴特尔"]
    assert Youth.objects.count() == 0  # preview writes nothing
    roster_import.roster_import_commit(roster_import=record, by=tree.owner)
    youth = Youth.objects.get(name="巴特尔")
    assert (youth.phone, youth.birth_year, youth.sector, youth.organisation) == (
        "13912345678",
        2000,
        sectors["农村牧区青年"],
        tree.town_a,
    )
    assert CadreYouth.objects.filter(cadre=tree.cadre).count() == 2
    assert youth.history.get().history_user == tree.owner


def test_xlsx_imports_and_formula_cells_are_refused(tree, sectors):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["王芳", "女", 1998, "企业青年", "物流园", 13812345678, None, None, None])
    sheet.append(["=A2", "女", 1998, "企业青年", "物流园", "=F2", None, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    record = _prepare(tree, buffer.getvalue(), "花名册.xlsx")
    assert record.status == RosterImport.Status.INVALID
    assert {(e["row"], e["column"]) for e in record.errors} == {(3, "姓名"), (3, "手机号")}

    sheet.delete_rows(3)
    buffer = io.BytesIO()
    book.save(buffer)
    record = _prepare(tree, buffer.getvalue(), "花名册.xlsx")
    assert record.status == RosterImport.Status.PREVIEW, record.errors
    assert record.rows[0]["phone"] == "13812345678"


def test_formula_text_in_csv_is_reported_by_row_and_column(tree, sectors):
    record = _prepare(tree, _csv("王芳,女,1998,企业青年,@cmd,,,,").encode())
    assert record.errors == [
        {
            "row": 2,
            "column": "单位/学校/村（嘎查）",
            "problem": "内容以 @ 开头，可能是公式，请改为纯文本。",
        }
    ]


def test_bad_rows_are_all_reported_and_nothing_is_written(tree, sectors):
    data = _csv(
        "王芳,女,1998,企业青年,物流园,13812345678,,,",
        ",男,1998,企业青年,,,,,",
        "李四,未知,98,外星青年,,12345,,,2099-01-01",
    ).encode()
    record = _prepare(tree, data)
    assert record.status == RosterImport.Status.INVALID
    report = {(e["row"], e["column"]) for e in record.errors}
    assert report == {
        (3, "姓名"),
        (4, "性别"),
        (4, "出生年份"),
        (4, "领域"),
        (4, "手机号"),
        (4, "建立联系日期"),
    }
    problem = next(e["problem"] for e in record.errors if e["column"] == "领域")
    assert "外星青年" in problem and "企业青年" in problem
    with pytest.raises(ValidationError):
        roster_import.roster_import_commit(roster_import=record, by=tree.owner)
    assert Youth.objects.count() == 0 and CadreYouth.objects.count() == 0


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "文件是空的"),
        (b"\n\n", "文件是空的"),
        (HEADER.encode(), "只有表头"),
        ("名字,单位\n王芳,x\n".encode(), "缺少必填列"),
        (b"\x81\xff\xfe\x00garbage\xff", "编码"),
    ],
)
def test_unreadable_files_get_one_clear_message(tree, sectors, data, message):
    record = _prepare(tree, data)
    assert record.status == RosterImport.Status.INVALID
    assert len(record.errors) == 1 and message in record.errors[0]["problem"]


def test_wrong_file_type_is_refused(tree, sectors):
    record = _prepare(tree, b"PK\x03\x04junk", "roster.xls")
    assert ".xlsx" in record.errors[0]["problem"]
    record = _prepare(tree, b"junk", "roster.xlsx")
    assert "Excel" in record.errors[0]["problem"]


def test_duplicates_are_matched_not_created(tree, sectors):
    # Both in the importer's scope (township A and its branch): matching never looks further.
    by_phone = YouthFactory(name="王芳", phone="13812345678", organisation=tree.branch_a)
    by_identity = YouthFactory(
        name="巴特尔", birth_year=2000, unit="新胜村", phone="", organisation=tree.town_a
    )
    data = _csv(
        "王芳,女,1998,企业青年,别的单位,13812345678,,,",
        "巴特尔,男,2000,农村牧区青年,新胜村,,,,",
        "新人,男,2001,企业青年,厂,13700000001,,,",
        "新人,男,2001,企业青年,厂,137 0000 0001,,,",  # the same youth twice in one file
    ).encode()
    record = _prepare(tree, data)
    assert (record.n_new, record.n_matched) == (1, 3)
    record = roster_import.roster_import_commit(roster_import=record, by=tree.owner)
    assert Youth.objects.count() == 3
    linked = set(CadreYouth.objects.filter(cadre=tree.cadre).values_list("youth_id", flat=True))
    assert {by_phone.pk, by_identity.pk} <= linked and len(linked) == 3
    assert record.n_linked == 3
    # Importing the same file again creates nothing and links nothing new.
    again = roster_import.roster_import_commit(roster_import=_prepare(tree, data), by=tree.owner)
    assert (again.n_new, again.n_linked, Youth.objects.count()) == (0, 0, 3)


def test_a_preview_commits_once(tree, sectors):
    record = _prepare(tree, GOOD.encode())
    roster_import.roster_import_commit(roster_import=record, by=tree.owner)
    with pytest.raises(ValidationError):
        roster_import.roster_import_commit(roster_import=record, by=tree.owner)
    assert Youth.objects.count() == 2


def test_import_without_cadre_registers_youths_only(tree, sectors):
    record = roster_import.roster_import_commit(
        roster_import=_prepare(tree, GOOD.encode(), cadre=False), by=tree.owner
    )
    assert (record.n_new, record.n_linked, CadreYouth.objects.count()) == (2, 0, 0)


def test_management_command_reports_bad_rows_and_imports_clean_file(tree, sectors, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv("王芳,女,1998,没有的领域,,,,,").encode("gbk"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="未导入"):
        call_command("import_roster", str(bad), organisation=tree.town_a.pk, stderr=err)
    assert "第 2 行 [领域]" in err.getvalue()
    good = tmp_path / "good.csv"
    good.write_bytes(GOOD.encode("utf-8-sig"))
    out = io.StringIO()
    call_command(
        "import_roster", str(good), organisation=tree.town_a.pk, cadre=tree.cadre.pk, stdout=out
    )
    assert "导入完成：新增青年 2 名" in out.getvalue()
    assert CadreYouth.objects.filter(cadre=tree.cadre).count() == 2


def _big_roster(n: int) -> bytes:
    lines = [
        f"青年{i},{'男' if i % 2 else '女'},{1990 + i % 15},{'企业青年' if i % 3 else '农村牧区青年'},"
        f"单位{i % 50},1{3 + i % 5}{i:09d},,,"
        for i in range(n)
    ]
    return _csv(*lines).encode("gbk")


@pytest.mark.postgres
def test_ten_thousand_rows_import_in_fewer_statements_than_one_per_hundred_rows(
    tree, sectors, settings, django_assert_max_num_queries
):
    # The import's cost is set-based (COPY on PostgreSQL, batched lookups), not a query per row:
    # ten thousand rows take fewer than one statement per hundred rows. Its speed is measured by
    # `benchmark_roster`, side by side, not by a wall-clock assertion that a loaded machine breaks.
    settings.LIANQING_LINK_CEILING_FACTOR = 200  # the import links all 10,000
    # The 8th row matches this youth (in the importer's scope).
    YouthFactory(name="已有", phone="15000000007", organisation=tree.town_a)
    with django_assert_max_num_queries(10_000 // 100):
        record = _prepare(tree, _big_roster(10_000))
    assert record.status == RosterImport.Status.PREVIEW, record.errors[:3]
    with django_assert_max_num_queries(10_000 // 100):
        record = roster_import.roster_import_commit(roster_import=record, by=tree.owner)
    assert (record.n_new, record.n_matched, record.n_linked) == (9_999, 1, 10_000)
    assert Youth.objects.count() == 10_000
    assert Youth.history.count() == 10_000  # every created youth has its history row


def test_thousand_rows_import_in_a_bounded_number_of_queries(
    tree, sectors, django_assert_max_num_queries, settings
):
    settings.LIANQING_LINK_CEILING_FACTOR = 20  # the bound includes linking all 1,000
    with django_assert_max_num_queries(15):
        record = _prepare(tree, _big_roster(1_000))
    # Bulk inserts, never a statement (or two) per row, which would be 1,000+. PostgreSQL builds
    # the youths inside the database from the stored preview (29 statements: matching, locks,
    # history, the link ceiling); SQLite
    # splits bulk inserts by its parameter limit (~100 rows a statement, one fewer for each new
    # column), so its bound is a few dozen statements and must not depend on the column count.
    bound = 32 if connection.vendor == "postgresql" else 80
    with django_assert_max_num_queries(bound):
        roster_import.roster_import_commit(roster_import=record, by=tree.owner)
    assert Youth.objects.count() == 1_000
