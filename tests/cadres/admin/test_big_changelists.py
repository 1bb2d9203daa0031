"""The youth and link lists in Django admin at any size: the query count does not grow with the
rows, and no COUNT runs over the whole table (a million youths at province scale)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cadres.models import User
from tests.factories import CadreYouthFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(tree):
    return UserFactory(
        username="root",
        organisation=tree.city,
        role=User.Role.ADMIN,
        is_superuser=True,
        is_staff=True,
    )


def _queries(client, url) -> list[str]:
    client.get(url)  # once untimed: session and per-process state settle
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q["sql"].upper() for q in ctx.captured_queries]


@pytest.mark.parametrize(
    "changelist", ["admin:cadres_youth_changelist", "admin:cadres_cadreyouth_changelist"]
)
def test_changelist_queries_do_not_grow_and_every_count_is_capped(
    client, tree, superuser, changelist
):
    client.force_login(superuser)
    url = reverse(changelist)
    CadreYouthFactory(cadre=tree.cadre)
    small = _queries(client, url)
    for _ in range(40):
        CadreYouthFactory(cadre=tree.cadre)
    big = _queries(client, url)
    assert len(big) <= len(small)
    counts = [q for q in big if "COUNT(" in q]
    assert counts and all("LIMIT" in q for q in counts)
