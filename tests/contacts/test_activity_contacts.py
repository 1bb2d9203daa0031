"""Attendance counts as contact, entered once: the derived-contact rule."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from activities.models import Activity
from contacts.models import Contact, ContactYouth
from contacts.services import activity_contacts_sync
from tests.factories import CadreFactory, YouthFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(tree):
    start = timezone.now() - datetime.timedelta(days=2)
    return Activity.objects.create(
        title="健步走",
        category="culture",
        organisation=tree.town_a,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
    )


def test_sync_creates_one_offline_contact_per_cadre(tree, activity):
    other = CadreFactory(organisation=tree.town_a)
    y1, y2 = YouthFactory(), YouthFactory()
    n = activity_contacts_sync(
        activity=activity, pairs={(tree.cadre.pk, y1.pk), (tree.cadre.pk, y2.pk), (other.pk, y1.pk)}
    )
    assert n == 3
    contact = Contact.objects.get(cadre=tree.cadre, activity=activity)
    assert contact.channel == "activity" and contact.date == timezone.localdate(activity.starts_at)
    assert Contact.objects.get(pk=contact.pk).is_offline
    assert set(contact.youth_rows.values_list("youth_id", flat=True)) == {y1.pk, y2.pk}
    assert ContactYouth.objects.filter(cadre=other, is_offline=True).count() == 1


def test_sync_is_idempotent_and_removing_attendance_removes_contact(tree, activity):
    y1, y2 = YouthFactory(), YouthFactory()
    pairs = {(tree.cadre.pk, y1.pk), (tree.cadre.pk, y2.pk)}
    activity_contacts_sync(activity=activity, pairs=pairs)
    activity_contacts_sync(activity=activity, pairs=pairs)
    assert Contact.objects.filter(activity=activity).count() == 1
    assert ContactYouth.objects.filter(contact__activity=activity).count() == 2
    activity_contacts_sync(activity=activity, pairs={(tree.cadre.pk, y1.pk)})
    assert list(
        ContactYouth.objects.filter(contact__activity=activity).values_list("youth_id", flat=True)
    ) == [y1.pk]
    activity_contacts_sync(activity=activity, pairs=set())
    assert not Contact.objects.filter(activity=activity).exists()
    assert not ContactYouth.objects.filter(cadre=tree.cadre).exists()


def test_sync_query_count_does_not_grow_with_participants(
    tree, activity, django_assert_max_num_queries
):
    youths = YouthFactory.create_batch(40)
    cadres = CadreFactory.create_batch(5, organisation=tree.town_a)
    pairs = {(c.pk, y.pk) for c in cadres for y in youths}
    with django_assert_max_num_queries(12):
        activity_contacts_sync(activity=activity, pairs=pairs)
    assert ContactYouth.objects.count() == 200
