"""The two editions of the bulletin (assessment/editions.py, issue 15 item 5): the circulated
one carries aggregates only — no ranking, no cadre names — on the page and in the Excel file;
the supervisors' one carries everything, marked 内部. The print header sheet is scoped and a
hostile organisation name stays text in it."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from assessment.editions import CIRCULATED, SUPERVISORS, css_string, edition_from
from assessment.models import Flag
from cadres.models import Organisation

pytestmark = pytest.mark.django_db


def _workbook(response):
    return load_workbook(BytesIO(response.content))


def _all_cells(wb) -> list:
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def test_circulated_is_the_default_and_names_no_one(client, tree, scored):
    client.force_login(tree.county)
    response = client.get(reverse("assessment:bulletin"))
    html = response.content.decode()
    assert response.context["edition"] is CIRCULATED
    assert "工作通报" in html
    assert "甲镇干部" not in html  # the flagged cadre
    assert "各组织排名" not in html and response.context["ranking"] == []
    open_flags = Flag.objects.filter(resolved_at__isnull=True)
    low = sum(1 for f in open_flags if any(r["code"] == "score" for r in f.reasons))
    assert low >= 1
    assert f"预警团干部 {open_flags.count()} 名" in html and f"活跃度低于预警线 {low} 名" in html
    assert "内部资料" not in html


def test_supervisors_edition_names_ranks_and_says_internal(client, tree, scored):
    client.force_login(tree.county)
    html = client.get(reverse("assessment:bulletin"), {"edition": "supervisors"}).content.decode()
    assert "甲镇干部" in html and "各组织排名（仅供督导）" in html
    assert "甲镇团委" in html  # a ranked organisation
    assert "内部资料 · 不得外传" in html


def test_an_unknown_edition_prints_the_circulated_one():
    assert edition_from("all") is CIRCULATED and edition_from(None) is CIRCULATED
    assert edition_from("supervisors") is SUPERVISORS


def test_circulated_excel_has_no_ranking_sheet_and_no_names(client, tree, scored):
    client.force_login(tree.county)
    response = client.get(reverse("assessment:bulletin"), {"format": "xlsx"})
    wb = _workbook(response)
    assert "circulated" in response["Content-Disposition"]
    assert wb.sheetnames == ["概况", "联系方式", "预警概况", "年度工作计划"]
    cells = _all_cells(wb)
    assert "甲镇干部" not in cells and "乙镇干部" not in cells
    summary = {row[0].value: row[1].value for row in wb["预警概况"].iter_rows()}
    assert summary["预警团干部"] == Flag.objects.filter(resolved_at__isnull=True).count() >= 1
    assert summary["督导中的案例"] == 0
    assert not any(isinstance(c, str) and "内部" in c for c in cells)


def test_supervisors_excel_is_marked_internal_and_complete(client, tree, scored):
    client.force_login(tree.county)
    response = client.get(
        reverse("assessment:bulletin"), {"format": "xlsx", "edition": "supervisors"}
    )
    wb = _workbook(response)
    assert wb.sheetnames == ["概况", "联系方式", "组织排名", "预警与督导", "年度工作计划"]
    assert "内部" in wb["概况"]["A1"].value
    assert "甲镇干部" in _all_cells(wb)


def test_print_sheet_carries_organisation_period_and_internal_mark(client, tree, scored):
    client.force_login(tree.county)
    url = reverse("assessment:bulletin_print_css")
    circulated = client.get(url).content.decode()
    assert response_is_css(client.get(url))
    assert "@top-left" in circulated and "@top-right" not in circulated
    supervisors = client.get(url, {"edition": "supervisors"}).content.decode()
    assert "@top-right" in supervisors and "内部" in supervisors


def response_is_css(response) -> bool:
    return response.status_code == 200 and response["Content-Type"].startswith("text/css")


def test_print_sheet_is_scoped_to_the_user(client, tree, scored):
    """An outsider naming township A gets their own organisation's header, never A's name."""
    client.force_login(tree.outsider)
    css = client.get(
        reverse("assessment:bulletin_print_css"), {"organisation": tree.town_a.pk}
    ).content.decode()
    assert css_string(tree.town_a.name)[1:-1] not in css
    assert css_string(tree.outsider.organisation.name)[1:-1] in css


def test_print_sheet_is_404_for_a_cadre(client, tree, scored):
    client.force_login(tree.cadre_user)
    assert client.get(reverse("assessment:bulletin_print_css")).status_code == 404


def test_a_hostile_organisation_name_stays_text_in_the_print_sheet(client, tree, scored):
    hostile = '甲"; } body { display: none } @page { x: "'
    Organisation.objects.filter(pk=tree.county.organisation_id).update(name=hostile)
    client.force_login(tree.county)
    css = client.get(reverse("assessment:bulletin_print_css")).content.decode()
    assert '"' not in css.split("content:", 1)[1].split(";", 1)[0].strip()[1:-1]
    assert "display: none" not in css
    assert css.count("{") == css.count("}")


def test_css_string_escapes_everything_but_text():
    assert css_string("甲镇团委 · 2026年第4季度") == '"甲镇团委 \\0000b7 2026年第4季度"'
    assert css_string('a"b\\c\n') == '"a\\000022b\\00005cc\\00000a"'


@pytest.mark.parametrize("edition", ["circulated", "supervisors"])
def test_bulletin_query_count_is_bounded(
    client, tree, scored, django_assert_max_num_queries, edition
):
    client.force_login(tree.county)
    with django_assert_max_num_queries(30):
        assert client.get(reverse("assessment:bulletin"), {"edition": edition}).status_code == 200
