"""The demo's contact entry times (contacts/demo.py, entry_time): plausible for the padding
detection (issue 13), and the SQL form that rewrites a loaded database gives the same times."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from contacts.demo import ENTRY_TIME_SQL, entry_delay_days, entry_time
from contacts.models import Contact
from tests.factories import CadreYouthFactory, log_contact

NOW = timezone.make_aware(datetime.datetime(2026, 12, 2, 3, 16, 40))


def test_most_contacts_are_entered_the_same_day_and_few_much_later():
    delays = [entry_delay_days(i) for i in range(1, 40_001)]
    same_day = sum(d == 0 for d in delays) / len(delays)
    within_three = sum(d <= 3 for d in delays) / len(delays)
    assert 0.8 <= same_day <= 0.85
    assert within_three >= 0.97
    assert 0 < sum(d >= 7 for d in delays) / len(delays) <= 0.025
    assert max(delays) == 30


def test_entry_is_on_the_evening_of_its_day_and_never_in_the_future():
    day = datetime.date(2026, 8, 14)
    times = {i: timezone.localtime(entry_time(i, day, NOW)) for i in range(1, 2001)}
    for i, at in times.items():
        assert at.date() == day + datetime.timedelta(days=entry_delay_days(i))
        assert datetime.time(12) <= at.time() < datetime.time(22)
    # A contact of today (or yesterday, entered "tomorrow") lies within the hour before now,
    # spread over it: no pile of identical stamps for the burst signal to read.
    recent = [entry_time(i, NOW.date(), NOW) for i in range(1, 301)]
    assert all(NOW - datetime.timedelta(hours=1) < at <= NOW for at in recent)
    assert len(set(recent)) > 250


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the UPDATE is PostgreSQL's")
def test_the_sql_rewrite_gives_the_loaders_entry_times():
    link = CadreYouthFactory()
    today = timezone.localdate()
    days = [today - datetime.timedelta(days=back) for back in (0, 1, 2, 5, 30, 45, 100, 200)]
    contacts = [log_contact(link.cadre, [link.youth], date=day) for day in days for _ in range(6)]
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(ENTRY_TIME_SQL, {"tz": timezone.get_current_timezone_name(), "now": now})
    stored = dict(Contact.objects.values_list("id", "created_at"))
    assert len(stored) == len(contacts) == 48
    for contact in contacts:
        assert stored[contact.pk] == entry_time(contact.pk, contact.date, now)
