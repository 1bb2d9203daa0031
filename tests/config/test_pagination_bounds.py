"""?per_page= comes from the query string: a negative size was a 500 (negative page count) on
every list, and a huge one rendered the whole list on one page."""

import pytest
from django.urls import reverse

from tests.factories import CadreYouthFactory


@pytest.mark.parametrize(
    "name", ["cadres:list", "cadres:youth_list", "surveys:overview", "activities:list"]
)
@pytest.mark.parametrize("per_page", ["-1", "-1000"])
def test_negative_page_size_is_not_a_server_error(client, tree, name, per_page):
    client.force_login(tree.county)
    assert client.get(reverse(name), {"per_page": per_page}).status_code == 200


def test_cadre_page_youth_table_negative_page_size(client, tree):
    CadreYouthFactory(cadre=tree.cadre)
    client.force_login(tree.cadre_user)
    response = client.get(reverse("cadres:detail", args=[tree.cadre.pk]), {"per_page": "-1"})
    assert response.status_code == 200


@pytest.mark.parametrize("lazy", [False, True])
def test_page_size_is_clamped(lazy):
    from config.pagination import MAX_PER_PAGE, BoundedLazyPaginator, BoundedPaginator

    paginator = BoundedLazyPaginator if lazy else BoundedPaginator
    assert paginator(range(1000), -5).per_page == 1
    assert paginator(range(1000), 10**8).per_page == MAX_PER_PAGE
    assert paginator(range(1000), 25).per_page == 25
