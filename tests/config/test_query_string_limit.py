"""A query string over 8,192 bytes is a 414 on any URL, for anyone (config/middleware.py):
the contract of production's front servers (gunicorn, nginx), kept by Django itself."""

from __future__ import annotations

import pytest
from django.urls import reverse

from config.middleware import MAX_QUERY_STRING_BYTES

# A page behind login, a public page, the admin, a URL that matches nothing, and a POST action:
# the limit is applied before routing and authentication.
URLS = ["/", "/healthz", "/admin/", "/no-such-page/", "/accounts/login/"]


def _query(size: int) -> str:
    """A query string of exactly `size` bytes, as sent."""
    assert size > 2
    return "q=" + "x" * (size - 2)


def test_the_limit_is_production_s():
    assert MAX_QUERY_STRING_BYTES == 8192


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("who", ["county", "cadre_user", None], ids=["county", "cadre", "anon"])
def test_a_query_string_over_the_limit_is_414(client, tree, url, who):
    if who:
        client.force_login(getattr(tree, who))
    response = client.get(f"{url}?{_query(MAX_QUERY_STRING_BYTES + 1)}")
    assert response.status_code == 414
    assert "请求地址过长" in response.content.decode()
    assert response["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("who", ["county", None], ids=["county", "anon"])
def test_a_query_string_at_the_limit_reaches_the_site(client, tree, url, who):
    if who:
        client.force_login(getattr(tree, who))
    response = client.get(f"{url}?{_query(MAX_QUERY_STRING_BYTES)}")
    assert response.status_code != 414
    assert response.status_code < 500


def test_the_limit_counts_encoded_bytes_not_characters(client, tree):
    client.force_login(tree.county)
    url = reverse("cadres:youth_list")
    # 911 Chinese characters are 8,199 bytes percent-encoded (9 each): over the limit.
    response = client.get(url, {"q": "长" * 911})
    assert response.status_code == 414
    # 910 are 8,190 bytes, 8,192 with "q=": the search runs.
    response = client.get(url, {"q": "长" * 910})
    assert response.status_code == 200


def test_a_post_with_a_long_query_string_is_refused_before_the_view(client, tree):
    client.force_login(tree.county)
    response = client.post(f"/accounts/login/?{_query(MAX_QUERY_STRING_BYTES + 1)}", {})
    assert response.status_code == 414
