"""The roster commit's COPY path (PostgreSQL): the same youths and history rows as the ORM path,
values kept exactly (tabs, newlines, backslashes), ids usable by the links."""

from __future__ import annotations

import pytest
from django.db import connection

from cadres import roster_import
from cadres.models import CadreYouth, Youth
from tests.factories import SectorFactory

pytestmark = pytest.mark.django_db


def test_committed_youths_carry_their_values_and_one_history_row_each(tree):
    SectorFactory(code="e", name="企业青年")
    roster = (
        "姓名,性别,出生年份,领域,单位,手机号,备注\n"
        '王芳,女,1998,企业青年,厂\\一车间,13812345678,"第一行\n第二行\t制表"\n'
        "李四,男,1999,企业青年,,13912345678,\n"
    )
    record = roster_import.roster_import_prepare(
        data=roster.encode(),
        filename="名单.csv",
        organisation=tree.town_a,
        cadre=tree.cadre,
        by=tree.owner,
    )
    assert record.status == "preview", record.errors
    roster_import.roster_import_commit(roster_import=record, by=tree.owner)
    wang = Youth.objects.get(phone="13812345678")
    assert (wang.unit, wang.notes, wang.gender, wang.birth_year) == (
        "厂\\一车间",
        "第一行\n第二行\t制表",
        "F",
        1998,
    )
    assert wang.created_at is not None and wang.erased_at is None
    history = list(Youth.history.filter(id=wang.pk).values_list("history_type", "history_user"))
    assert history == [("+", tree.owner.pk)]
    assert set(CadreYouth.objects.values_list("youth__phone", flat=True)) == {
        "13812345678",
        "13912345678",
    }
    if connection.vendor == "postgresql":  # the sequence moved past the reserved ids
        assert Youth.objects.create(
            name="后来", birth_year=2000, organisation=tree.town_a, sector=wang.sector
        ).pk > max(Youth.objects.exclude(name="后来").values_list("pk", flat=True))
