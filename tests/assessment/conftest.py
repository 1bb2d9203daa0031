"""Helpers for assessment tests: contacts and needs written straight into the fact tables the
score reads (the contacts app's own services are another helper's work)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from contacts.models import OFFLINE_CHANNELS, Contact, ContactYouth, Need
from contacts.notes_key import notes_key
from tests.factories import (
    CadreYouthFactory,
    QuotaRuleFactory,
    SectorFactory,
    YouthFactory,
    recount_once,
)

TODAY = datetime.date(2026, 7, 15)  # 2026Q2 is closed, 2026Q3 runs


def log_contact(
    cadre, youths, day: datetime.date, channel: str = "wechat", notes: str = ""
) -> Contact:
    # The note's key as every writer stores it (contacts.services.contact_log does the same).
    key, chars = notes_key(notes, [y.name for y in youths])
    contact = Contact.objects.create(
        cadre=cadre, date=day, channel=channel, notes=notes, notes_key=key, notes_chars=chars
    )
    ContactYouth.objects.bulk_create(
        ContactYouth(
            contact=contact,
            youth=y,
            cadre=cadre,
            date=day,
            is_offline=channel in [c.value for c in OFFLINE_CHANNELS],
        )
        for y in youths
    )
    return contact


def add_need(cadre, *, due: datetime.date, answered: datetime.date | None = None, status=None):
    answered_at = (
        timezone.make_aware(datetime.datetime.combine(answered, datetime.time(15, 0)))
        if answered
        else None
    )
    return Need.objects.create(
        organisation=cadre.organisation,
        source="venue",
        category="other",
        question="问题",
        owner_cadre=cadre,
        due_date=due,
        answered_at=answered_at,
        status=status or ("answered" if answered else "new"),
    )


def link_youths(cadre, n: int, sectors: int, linked_on=datetime.date(2026, 1, 10)):
    secs = [SectorFactory(code=f"s{i}", name=f"领域{i}") for i in range(sectors)]
    with recount_once():
        return [
            CadreYouthFactory(
                cadre=cadre,
                youth=YouthFactory(sector=secs[i % sectors], organisation=cadre.organisation),
                linked_on=linked_on,
            ).youth
            for i in range(n)
        ]


@pytest.fixture
def quota10(db):
    """Full-time cadres need 10 youths from 4 fields: small enough to count by hand."""
    return QuotaRuleFactory(cadre_type="full_time", quota=10, min_sectors=4)
