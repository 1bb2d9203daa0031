"""The needs desk's open and overdue counts (contacts.selectors.need_counts): open needs only, and
overdue means open and past due (need_overdue_q), whatever the counts' SQL looks like."""

from __future__ import annotations

import datetime

import pytest

from contacts.models import Need
from contacts.selectors import need_counts, need_list, need_overdue_q
from tests.factories import NeedFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 7, 15)


def test_counts_open_needs_and_the_open_ones_past_due(tree):
    past, future = TODAY - datetime.timedelta(days=3), TODAY + datetime.timedelta(days=3)
    NeedFactory(organisation=tree.town_a, status="new", due_date=past)
    NeedFactory(organisation=tree.branch_a, status="in_progress", due_date=past)
    NeedFactory(organisation=tree.town_a, status="new", due_date=future)
    NeedFactory(organisation=tree.town_a, status="answered", due_date=past)  # closed: neither
    NeedFactory(organisation=tree.town_b, status="new", due_date=past)  # outside township A
    counts = need_counts(need_list(user=tree.owner), TODAY)
    assert counts == {"open": 3, "overdue": 2}
    # The same answer as the one overdue rule.
    mine = need_list(user=tree.owner)
    assert counts["overdue"] == mine.filter(need_overdue_q(TODAY)).count()
    assert need_counts(Need.objects.all(), TODAY) == {"open": 4, "overdue": 3}
