from __future__ import annotations

import pytest

from tests.factories import CadreYouthFactory, log_contact

pytestmark = pytest.mark.django_db


def test_a_large_contact_names_five_youths_and_the_total(client, tree):
    youths = [CadreYouthFactory(cadre=tree.cadre).youth for _ in range(8)]
    log_contact(tree.cadre, youths, channel="meeting", topic="团课")
    client.force_login(tree.cadre_user)
    html = client.get("/").content.decode()
    shown = [y.name for y in youths if y.name in html]
    assert len(shown) == 5
    assert "等 8 人" in html
