"""benchmark_freshness on PostgreSQL (in-process worker): contacts logged through the service at
a rate, coalesced incremental runs, the latency report, and stored rows equal to a full run."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from contacts.models import Contact
from tests.assessment.conftest import link_youths
from tests.factories import CadreFactory

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the benchmark is PostgreSQL's"
)


@pytest.mark.django_db(transaction=True)
def test_benchmark_reports_runs_latency_and_matches_a_full_run(tree, quota10):
    for cadre in [tree.cadre] + [CadreFactory(organisation=tree.town_a) for _ in range(5)]:
        link_youths(cadre, 3, sectors=1)
    out = io.StringIO()
    call_command(
        "benchmark_freshness", seconds=3, rate=4, debounce=1, writers=1, stdout=out, stderr=out
    )
    text = out.getvalue()
    assert "记录联系" in text and "变动到数字更新" in text, text
    assert "没有运行" not in text, text
    assert "评分与整期重算完全一致" in text, text
    assert not Contact.objects.filter(topic="bench-fresh").exists()  # cleaned up
