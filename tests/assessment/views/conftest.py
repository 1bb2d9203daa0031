from __future__ import annotations

import pytest
from django.utils import timezone

from assessment import services
from assessment.models import Flag
from assessment.periods import period_containing
from tests.assessment.conftest import link_youths, log_contact
from tests.factories import CadreFactory


@pytest.fixture
def scored(tree, quota10):
    """Scores of the current quarter for a cadre in township A (flagged) and one in B."""
    today = timezone.localdate()
    youths = link_youths(tree.cadre, 6, sectors=2)
    log_contact(tree.cadre, youths[:3], today, "wechat")
    log_contact(tree.cadre, youths[:1], today, "talk")
    other = CadreFactory(name="乙镇干部", organisation=tree.town_b)
    run = services.scores_compute(period=period_containing(today).code)
    services.contact_stats_compute(run=run)
    return {"run": run, "other": other, "flag_a": Flag.objects.get(cadre=tree.cadre)}
