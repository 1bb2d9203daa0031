from __future__ import annotations

import pytest

from tests.factories import CadreYouthFactory, YouthFactory


@pytest.fixture
def own_youths(tree):
    """Five youths in the tree cadre's list (township A)."""
    return [CadreYouthFactory(cadre=tree.cadre).youth for _ in range(5)]


@pytest.fixture
def b_youth(tree):
    """A youth of township B (the outsider's subtree)."""
    return YouthFactory(organisation=tree.town_b)
