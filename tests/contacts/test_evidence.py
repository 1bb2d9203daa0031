"""youth_side_evidence: the one definition of youth-side evidence the score and signals share."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from contacts.models import Confirmation, Need
from contacts.selectors import youth_side_evidence
from contacts.services import activity_contacts_sync
from tests.factories import ActivityFactory, CadreYouthFactory, NeedFactory, log_contact

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 10)
START, END = datetime.date(2026, 10, 1), datetime.date(2026, 12, 31)


def _confirm(cadre, youth, contact, *, day=TODAY, **kwargs):
    return Confirmation.objects.create(
        cadre=cadre,
        youth=youth,
        contact=contact,
        kind=kwargs.pop("kind", Confirmation.Kind.SHARE),
        outcome=kwargs.pop("outcome", Confirmation.Outcome.CONFIRMED),
        day=day,
        **kwargs,
    )


def test_each_kind_of_evidence_counts_once_per_pair(tree):
    y1, y2, y3, y4 = (CadreYouthFactory(cadre=tree.cadre).youth for _ in range(4))
    contact = log_contact(tree.cadre, [y1, y2], date=TODAY)
    _confirm(tree.cadre, y1, contact)
    _confirm(tree.cadre, y1, contact, kind=Confirmation.Kind.MEETING)  # same pair again
    start = timezone.make_aware(datetime.datetime(2026, 11, 1, 9))
    activity = ActivityFactory(
        organisation=tree.town_a, starts_at=start, ends_at=start + datetime.timedelta(hours=1)
    )
    activity_contacts_sync(activity=activity, pairs=[(tree.cadre.pk, y3.pk)])
    need = NeedFactory(organisation=tree.town_a, source=Need.Source.PUBLIC, youth=y4)
    Need.objects.filter(pk=need.pk).update(
        owner_cadre=tree.cadre, created_at=timezone.make_aware(datetime.datetime(2026, 11, 2, 8))
    )
    pairs = sorted(youth_side_evidence(start=START, end=END))
    assert pairs == sorted([(tree.cadre.pk, y.pk) for y in (y1, y3, y4)])


def test_denied_same_device_pending_and_out_of_period_do_not_count(tree):
    y1, y2, y3, y4, y5 = (CadreYouthFactory(cadre=tree.cadre).youth for _ in range(5))
    contact = log_contact(tree.cadre, [y1, y2, y3, y4], date=TODAY)
    _confirm(tree.cadre, y1, contact, outcome=Confirmation.Outcome.DENIED)
    _confirm(tree.cadre, y2, contact, same_device=True)
    _confirm(tree.cadre, y3, None, kind=Confirmation.Kind.MEETING)  # pending link
    _confirm(tree.cadre, y4, contact, day=datetime.date(2026, 9, 30))
    need = NeedFactory(organisation=tree.town_a, source=Need.Source.VENUE, youth=y5)
    Need.objects.filter(pk=need.pk).update(owner_cadre=tree.cadre)
    assert list(youth_side_evidence(start=START, end=END)) == []


def test_is_one_query(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(youth_side_evidence(start=START, end=END))
