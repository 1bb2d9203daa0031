"""Exports: formula-safe cells, exactly the scoped filtered rows, minors guarded, every export
logged."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Permission

from cadres.exports import escape_cell
from cadres.models import ExportLog, Youth
from tests.factories import CadreFactory, CadreYouthFactory, SectorFactory, YouthFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("王芳", "王芳"),
        ("", ""),
        (-2, -2),
        (None, None),
    ],
)
def test_escape_cell(raw, expected):
    assert escape_cell(raw) == expected


def _rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_cadre_export_rows_equal_the_scoped_filtered_list(client, tree):
    CadreFactory(organisation=tree.town_a, name="甲二", cadre_type="part_time")
    CadreFactory(organisation=tree.branch_a, name="甲三", cadre_type="part_time")
    CadreFactory(organisation=tree.town_b, name="乙一", cadre_type="part_time")
    client.force_login(tree.owner)
    page = client.get("/cadres/", {"cadre_type": "part_time"})
    shown = {c.name for c in page.context["table"].data}
    response = client.get("/cadres/", {"cadre_type": "part_time", "_export": "csv"})
    rows = _rows(response)
    assert rows[0][0] == "姓名"
    assert {r[0] for r in rows[1:]} == shown == {"甲二", "甲三"}
    log = ExportLog.objects.get()
    assert (log.user, log.list_name, log.export_format, log.row_count) == (
        tree.owner,
        "cadres:list",
        "csv",
        2,
    )
    assert log.querystring == "cadre_type=part_time"


def test_formula_cells_are_escaped_in_csv_and_xlsx(client, tree):
    CadreFactory(organisation=tree.town_a, name='=HYPERLINK("http://x")')
    client.force_login(tree.owner)
    rows = _rows(client.get("/cadres/", {"_export": "csv"}))
    assert '\'=HYPERLINK("http://x")' in {r[0] for r in rows}
    from openpyxl import load_workbook

    xlsx = client.get("/cadres/", {"_export": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    names = {row[0] for row in sheet.iter_rows(values_only=True)}
    assert '\'=HYPERLINK("http://x")' in names
    assert ExportLog.objects.filter(export_format="xlsx").count() == 1


def test_youth_export_leaves_out_minors_without_permission(client, tree):
    sector = SectorFactory(code="s")
    floor = Youth.minor_birth_year_floor()
    YouthFactory(organisation=tree.town_a, sector=sector, name="成年", birth_year=floor - 5)
    YouthFactory(organisation=tree.town_a, sector=sector, name="少年", birth_year=floor)
    client.force_login(tree.owner)
    names = {r[0] for r in _rows(client.get("/cadres/youths/", {"_export": "csv"}))[1:]}
    assert names == {"成年"}
    tree.owner.user_permissions.add(Permission.objects.get(codename="export_minors"))
    client.force_login(tree.owner)
    names = {r[0] for r in _rows(client.get("/cadres/youths/", {"_export": "csv"}))[1:]}
    assert names == {"成年", "少年"}
    assert list(ExportLog.objects.order_by("id").values_list("row_count", "included_minors")) == [
        (1, False),
        (2, True),
    ]


def test_youth_export_is_scoped(client, tree):
    sector = SectorFactory(code="s")
    YouthFactory(organisation=tree.branch_a, sector=sector, name="甲支部青年")
    YouthFactory(organisation=tree.town_b, sector=sector, name="乙镇青年")
    client.force_login(tree.outsider)
    names = {r[0] for r in _rows(client.get("/cadres/youths/", {"_export": "csv"}))[1:]}
    assert names == {"乙镇青年"}


def test_cadre_cannot_export(client, tree):
    client.force_login(tree.cadre_user)
    assert client.get("/cadres/", {"_export": "csv"}).status_code == 404
    assert client.get("/cadres/youths/", {"_export": "xlsx"}).status_code == 404
    assert not ExportLog.objects.exists()


def test_export_query_counts(client, tree, django_assert_max_num_queries):
    sector = SectorFactory(code="s")
    for _ in range(20):
        cadre = CadreFactory(organisation=tree.town_a)
        CadreYouthFactory(cadre=cadre, youth__sector=sector)
    client.force_login(tree.owner)
    with django_assert_max_num_queries(10):
        assert client.get("/cadres/", {"_export": "xlsx"}).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get("/cadres/youths/", {"_export": "csv"}).status_code == 200


def test_csv_export_starts_with_a_bom_for_excel(client, tree):
    client.force_login(tree.owner)
    assert client.get("/cadres/", {"_export": "csv"}).content.startswith(b"\xef\xbb\xbf")


def test_export_log_page_is_scoped(client, tree):
    client.force_login(tree.owner)
    client.get("/cadres/", {"_export": "csv"})
    assert len(client.get("/cadres/exports/").context["logs"]) == 1
    client.force_login(tree.outsider)
    assert len(client.get("/cadres/exports/").context["logs"]) == 0
    client.force_login(tree.cadre_user)
    assert client.get("/cadres/exports/").status_code == 404
