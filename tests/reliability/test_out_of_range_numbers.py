"""Numbers from the URL and the query string beyond every integer type (issue 11, item 1).

On PostgreSQL `?page=99999999999999999999` on a lazy-paginated list was a 500 ("bigint out of
range" from the OFFSET). Every URL with an integer in its path, and every list with absurd
page, size and filter numbers, must answer 2xx/3xx/400/404, never 500. Runs on whatever
DATABASE_URL says; the failure this guards against is PostgreSQL's.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import build_tree, rows_for_module

HUGE = "99999999999999999999"  # > 2**64
NUMBERS = [HUGE, str(2**63), "-" + HUGE]
QUERY_KEYS = [
    "page",
    "per_page",
    "organisation",
    "sector",
    "cadre",
    "youth",
    "activity",
    "branch",
    "year",
    "below",
    "days",
    "period",
]


def _patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("admin/"):
                continue  # Django's admin: its own converters, not ours
            yield from _patterns(entry, route)
        elif isinstance(entry, URLPattern):
            yield route


ROUTES = sorted(set(_patterns()))
INT_ROUTES = [r for r in ROUTES if "<int:" in r]
LIST_ROUTES = [r for r in ROUTES if "<" not in r and not r.endswith((".csv", "logout/"))]


def _fill(route: str, number: str) -> str:
    path = re.sub(r"<int:\w+>", number.lstrip("-"), route)
    return "/" + re.sub(r"<\w+:\w+>", "x", path)


@pytest.fixture(scope="module")
def _module_tree(django_db_setup, django_db_blocker):
    with rows_for_module(django_db_blocker, build_tree) as tree:
        yield tree


@pytest.fixture
def tree(_module_tree, db):
    """The standing tree, built once for the module's cases (each only reads it)."""
    return _module_tree


@pytest.mark.parametrize("route", INT_ROUTES)
def test_huge_ids_in_the_path_are_404_not_500(client, tree, route):
    client.force_login(tree.county)
    for number in NUMBERS[:2]:
        response = client.get(_fill(route, number))
        assert response.status_code in (200, 301, 302, 400, 403, 404, 405), (route, number)


@pytest.mark.parametrize("route", LIST_ROUTES)
def test_huge_page_and_filter_numbers_are_not_500(client, tree, route):
    client.force_login(tree.county)
    for number in NUMBERS:
        response = client.get("/" + route, dict.fromkeys(QUERY_KEYS, number))
        assert response.status_code in (200, 301, 302, 400, 403, 404, 405), (route, number)
        response = client.get("/" + route, {"page": number})
        assert response.status_code in (200, 301, 302, 400, 403, 404, 405), (route, number)


def test_the_lazy_paginator_refuses_an_offset_beyond_bigint():
    from django.core.paginator import EmptyPage

    from config.pagination import BoundedLazyPaginator, BoundedPaginator

    for paginator in (BoundedLazyPaginator, BoundedPaginator):
        with pytest.raises(EmptyPage):
            paginator(range(10), 50).validate_number(HUGE)
        assert paginator(range(10), 50).validate_number("1") == 1
