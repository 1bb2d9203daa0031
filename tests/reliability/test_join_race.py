"""加入联系 twice at once (two phones, or a double tap) makes one youth and one link
(issue 14, "bad input"): self-joins of one phone number are serialised by an advisory lock."""

from __future__ import annotations

import pytest

from cadres import services
from cadres.models import CadreYouth, Consent, Youth
from tests.factories import SectorFactory
from tests.threads import in_threads


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("trial", range(3))
def test_concurrent_self_joins_of_one_phone_make_one_youth(tree, trial):
    sector = SectorFactory(code="enterprise", name="企业青年")

    def join():
        services.youth_self_join(
            cadre=tree.cadre,
            name="乌兰",
            phone="13900001111",
            sector=sector,
            birth_year=2001,
            consent=True,
        )

    errors = in_threads(join, join, join, join)
    assert errors == []
    assert Youth.objects.filter(phone="13900001111").count() == 1
    assert CadreYouth.objects.filter(cadre=tree.cadre).count() == 1
    assert Consent.objects.count() == 4
