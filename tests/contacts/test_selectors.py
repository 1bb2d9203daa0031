"""Dormant youths and online → offline conversion, as defined in contacts.selectors."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from contacts import selectors
from tests.factories import CadreFactory, CadreYouthFactory, log_contact

pytestmark = pytest.mark.django_db


def _days_ago(n):
    return timezone.localdate() - datetime.timedelta(days=n)


def test_conversion_counts_youths_met_online_and_offline_in_the_period(tree, own_youths):
    a, b, c, d, _e = own_youths
    log_contact(tree.cadre, [a, b, c], channel="wechat", date=_days_ago(5))
    log_contact(tree.cadre, [a], channel="talk", date=_days_ago(2))
    log_contact(tree.cadre, [b], channel="visit", date=_days_ago(200))  # outside the period
    log_contact(tree.cadre, [d], channel="meeting", date=_days_ago(3))  # offline only
    other = CadreFactory(organisation=tree.town_a)
    stats = selectors.cadre_contact_stats(
        cadre_ids=[tree.cadre.pk, other.pk], start=_days_ago(30), end=timezone.localdate()
    )
    mine = stats[tree.cadre.pk]
    assert (mine.contacts, mine.youths, mine.online_youths, mine.offline_youths) == (3, 4, 3, 2)
    assert mine.converted == 1
    assert mine.conversion_rate == pytest.approx(1 / 3)
    assert stats[other.pk] == selectors.ContactStats()
    assert stats[other.pk].conversion_rate is None


def test_dormant_and_never_met_offline(tree, own_youths, settings):
    settings.LIANQING_DORMANT_DAYS = 90
    a, b, c, d, e = own_youths
    today = timezone.localdate()
    log_contact(tree.cadre, [a], channel="talk", date=today)
    log_contact(tree.cadre, [b], channel="wechat", date=_days_ago(10))
    log_contact(tree.cadre, [c], channel="talk", date=_days_ago(91))
    # d: contacted at 90 days exactly (on the cutoff: still awake); e: never contacted.
    log_contact(tree.cadre, [d], channel="wechat", date=_days_ago(90))
    counts = selectors.cadre_dormant_counts(cadre_ids=[tree.cadre.pk], today=today)[tree.cadre.pk]
    assert counts.linked == 5 and counts.dormant == 2
    dormant, never_offline = selectors.cadre_dormant_youths(cadre=tree.cadre, today=today)
    assert [y.pk for y in dormant] == [e.pk, c.pk]  # never first, then the longest silence
    met_this_year = {a.pk} | ({c.pk} if _days_ago(91).year == today.year else set())
    assert {y.pk for y in never_offline} == {y.pk for y in own_youths} - met_this_year


def test_contact_by_another_cadre_does_not_wake_a_youth(tree, own_youths):
    other = CadreFactory(organisation=tree.town_a)
    CadreYouthFactory(cadre=other, youth=own_youths[0])
    log_contact(other, [own_youths[0]])
    counts = selectors.cadre_dormant_counts(cadre_ids=[tree.cadre.pk, other.pk])
    assert counts[tree.cadre.pk].dormant == 5
    assert counts[other.pk].dormant == 0
