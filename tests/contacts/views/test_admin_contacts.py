"""The contact list in Django admin at any size: no DISTINCT over every date, no full COUNT."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cadres.models import User
from config.pagination import CappedCountPaginator
from contacts.models import Contact
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(tree):
    return UserFactory(
        username="root", organisation=tree.city, role=User.Role.ADMIN, is_superuser=True
    )


def _contacts(cadre, n):
    day = datetime.date(2026, 3, 1)
    Contact.objects.bulk_create(
        Contact(cadre=cadre, date=day - datetime.timedelta(days=i % 300), channel="wechat")
        for i in range(n)
    )


@pytest.mark.parametrize("n", [3, 120])
def test_contact_changelist_queries_do_not_grow_with_the_contacts(
    client, tree, superuser, n, django_assert_max_num_queries
):
    _contacts(tree.cadre, n)
    superuser.is_staff = True
    superuser.save()
    client.force_login(superuser)
    with CaptureQueriesContext(connection) as ctx, django_assert_max_num_queries(12):
        response = client.get(reverse("admin:contacts_contact_changelist"))
    assert response.status_code == 200
    sql = " ".join(q["sql"] for q in ctx.captured_queries).upper()
    assert "DISTINCT" not in sql  # the date_hierarchy scan
    counts = [q["sql"].upper() for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT" in q for q in counts)


def test_capped_paginator_stops_counting_at_the_cap(tree, monkeypatch):
    _contacts(tree.cadre, 30)
    monkeypatch.setattr(CappedCountPaginator, "COUNT_CAP", 20)
    paginator = CappedCountPaginator(Contact.objects.all(), 10)
    assert paginator.count == 20
    assert paginator.num_pages == 2
    assert CappedCountPaginator(Contact.objects.filter(channel="phone"), 10).count == 0
