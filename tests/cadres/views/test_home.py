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


def test_home_query_count(client, tree, django_assert_max_num_queries):
    client.force_login(tree.county)
    with django_assert_max_num_queries(12):
        assert client.get("/").status_code == 200
