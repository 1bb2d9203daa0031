"""Lists over millions of rows (contacts, needs, youths) page lazily: no COUNT(*) of the list,
whichever of Django's or the table's pagination would issue it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import CadreYouthFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url,table",
    [
        ("/contacts/", "contacts_contact"),
        ("/contacts/needs/", "contacts_need"),
        ("/cadres/youths/", "cadres_youth"),
    ],
)
def test_big_list_pages_without_counting(client, tree, url, table):
    CadreYouthFactory(cadre=tree.cadre)
    client.force_login(tree.county)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    # A paginator's count is `SELECT COUNT(*) AS "__count" FROM <list table> …`; aggregates a
    # page shows on purpose (open needs, cadres per youth) are other queries.
    prefix = f'SELECT COUNT(*) AS "__count" FROM "{table}"'
    counts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(prefix)]
    assert counts == []
