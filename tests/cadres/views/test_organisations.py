from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_owner_sees_own_organisation_page_with_users(client, tree):
    client.force_login(tree.owner)
    response = client.get(reverse("cadres:organisation_detail", args=[tree.town_a.pk]))
    assert response.status_code == 200
    assert "甲镇第一团支部" in response.text
    assert tree.colleague.first_name in response.text


def test_outsider_township_gets_404_for_another_township(client, tree):
    client.force_login(tree.outsider)
    response = client.get(reverse("cadres:organisation_detail", args=[tree.town_a.pk]))
    assert response.status_code == 404
    assert "页面不存在或您无权查看" in response.text


def test_outsider_list_does_not_show_other_township(client, tree):
    client.force_login(tree.outsider)
    response = client.get(reverse("cadres:organisation_list"))
    assert response.status_code == 200
    assert "乙镇团委" in response.text
    assert "甲镇团委" not in response.text


def test_cadre_cannot_open_staff_pages(client, tree):
    client.force_login(tree.cadre_user)
    assert client.get(reverse("cadres:organisation_list")).status_code == 404
    assert (
        client.get(reverse("cadres:organisation_detail", args=[tree.town_a.pk])).status_code == 404
    )


def test_organisation_list_query_count_is_constant(client, tree, django_assert_max_num_queries):
    from tests.factories import OrganisationFactory

    for _ in range(15):
        OrganisationFactory(parent=tree.town_a, kind="branch")
    client.force_login(tree.county)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("cadres:organisation_list"))
    assert response.status_code == 200


def test_anonymous_is_sent_to_login(client, tree):
    response = client.get(reverse("cadres:organisation_list"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
