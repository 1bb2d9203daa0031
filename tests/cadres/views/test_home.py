from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_staff_home_counts_only_own_subtree(client, tree):
    from tests.factories import CadreFactory

    CadreFactory(organisation=tree.town_b)
    client.force_login(tree.owner)
    response = client.get("/")
    assert response.status_code == 200
    assert "甲镇团委 · 工作台" in response.text
    assert response.context["panels"]
    assert 'lang="zh-hans"' in response.text


def test_cadre_home_greets_the_cadre(client, tree):
    client.force_login(tree.cadre_user)
    response = client.get("/")
    assert response.status_code == 200
    assert "甲镇干部，您好" in response.text


def _home_queries(client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/").status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["county", "cadre_user"])
def test_home_query_count_is_bounded_and_constant(client, tree, who):
    """Every app adds panels to the home page; together they stay a constant handful."""
    from tests.factories import CadreFactory, CadreYouthFactory, YouthFactory

    client.force_login(getattr(tree, who))
    before = _home_queries(client)
    for _ in range(5):
        cadre = CadreFactory(organisation=tree.town_a)
        CadreYouthFactory(cadre=cadre, youth=YouthFactory(organisation=tree.town_a))
        CadreYouthFactory(cadre=tree.cadre, youth=YouthFactory(organisation=tree.town_a))
    after = _home_queries(client)
    assert after == before
    assert after <= 25
