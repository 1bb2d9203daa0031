"""benchmark_scores on PostgreSQL: the chain and the independent reference agree on real data,
and a disagreement stops the benchmark instead of printing a ratio."""

from __future__ import annotations

import datetime
import io
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from assessment import metrics
from assessment.models import CadreScore, ScoreRun
from tests.assessment.conftest import TODAY, link_youths, log_contact

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmark is PostgreSQL's"),
]
D = datetime.date


@pytest.fixture
def worked(tree, quota10):
    youths = link_youths(tree.cadre, 8, sectors=2)
    log_contact(tree.cadre, youths[:5], D(2026, 4, 10), "wechat")
    log_contact(tree.cadre, youths[:2], D(2026, 5, 5), "talk")
    return tree.cadre


def _run(**kwargs) -> str:
    out = io.StringIO()
    with mock.patch("django.utils.timezone.localdate", return_value=TODAY):
        call_command("benchmark_scores", period="2026Q2", rounds=1, stdout=out, **kwargs)
    return out.getvalue()


def test_chain_and_reference_agree_and_the_rounds_are_rolled_back(worked):
    out = _run()
    assert "两者数字一致" in out and "比值" in out
    run = ScoreRun.objects.get(period="2026Q2")
    assert run.runs == 1  # only the untimed first computation stays
    assert CadreScore.objects.get(run=run, cadre=worked).reached == 5


def test_reference_agrees_on_youth_confirmation(worked, tree):
    from contacts.models import Confirmation, Contact

    contact = Contact.objects.filter(cadre=worked, date=D(2026, 4, 10)).get()
    youth = contact.youth_rows.first().youth
    Confirmation.objects.create(
        contact=contact,
        cadre=worked,
        youth=youth,
        kind="share",
        outcome="confirmed",
        day=contact.date,
    )
    out = _run()
    assert "两者数字一致" in out
    assert CadreScore.objects.get(period="2026Q2", cadre=worked).confirmed_youths == 1


def test_a_disagreement_fails_loudly(worked):
    wrong = metrics.channel_week_sql().replace("COUNT(*) AS contacts", "COUNT(*) + 1 AS contacts")
    with (
        mock.patch.object(metrics, "channel_week_sql", return_value=wrong),
        pytest.raises(CommandError, match="不一致"),
    ):
        _run()
