from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import CadreYouthFactory, YouthFactory, recount_once


@pytest.fixture
def own_youths(tree):
    """Five youths in the tree cadre's list (township A)."""
    with recount_once():
        return [CadreYouthFactory(cadre=tree.cadre).youth for _ in range(5)]


@pytest.fixture
def b_youth(tree):
    """A youth of township B (the outsider's subtree)."""
    return YouthFactory(organisation=tree.town_b)


@pytest.fixture
def clear_rate_limit():
    """The public pages count requests per address in the cache: each test starts and ends
    with no count left by another."""
    cache.clear()
    yield
    cache.clear()
