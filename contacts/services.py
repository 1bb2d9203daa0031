"""Writes of the contacts app."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from .models import Channel, Contact, ContactYouth


@transaction.atomic
def activity_contacts_sync(*, activity, pairs: Iterable[tuple[int, int]], by=None) -> int:
    """Make the derived contacts of an activity match its attendance ("entered once, reused").

    `pairs` is the full current set of (cadre_id, youth_id) that attendance implies: for every
    attended youth, each cadre linked to them and each responsible cadre. Afterwards there is one
    offline contact (channel "activity", dated the activity's day) per cadre with exactly those
    youths; cadres left with no youths lose their derived contact. Set-based and idempotent:
    calling it twice, or after a crash, leaves the same rows. Returns the number of youth rows.

    1. lock the activity row, so concurrent check-ins serialise their syncs;
    2. upsert one Contact per cadre (unique per cadre + activity);
    3. delete youth rows no longer implied, bulk-insert the missing ones;
    4. delete contacts of cadres with no youths left.
    """
    type(activity).objects.select_for_update().filter(pk=activity.pk).first()
    wanted: dict[int, set[int]] = defaultdict(set)
    for cadre_id, youth_id in pairs:
        wanted[cadre_id].add(youth_id)
    # The activity's local calendar day: starts_at is stored in UTC, and an activity at 07:00 in
    # Beijing is 23:00 UTC of the day before.
    day = (
        timezone.localdate(activity.starts_at)
        if isinstance(activity.starts_at, datetime.datetime)
        else activity.starts_at
    )

    existing = {c.cadre_id: c for c in Contact.objects.filter(activity=activity)}
    new_contacts = [
        Contact(
            cadre_id=cadre_id,
            activity=activity,
            date=day,
            channel=Channel.ACTIVITY,
            topic=activity.title[:100],
            created_by=by,
        )
        for cadre_id in wanted
        if cadre_id not in existing
    ]
    for contact in Contact.objects.bulk_create(new_contacts):
        existing[contact.cadre_id] = contact
    Contact.objects.filter(activity=activity).exclude(date=day).update(date=day)

    contact_ids = {existing[c].pk for c in wanted}
    current = set(
        ContactYouth.objects.filter(contact__activity=activity).values_list(
            "contact__cadre_id", "youth_id"
        )
    )
    wanted_pairs = {(c, y) for c, ys in wanted.items() for y in ys}
    stale = current - wanted_pairs
    if stale:
        stale_by_cadre: dict[int, list[int]] = defaultdict(list)
        for cadre_id, youth_id in stale:
            stale_by_cadre[cadre_id].append(youth_id)
        for cadre_id, youth_ids in stale_by_cadre.items():
            ContactYouth.objects.filter(contact=existing[cadre_id], youth_id__in=youth_ids).delete()
    ContactYouth.objects.bulk_create(
        [
            ContactYouth(contact=existing[c], youth_id=y, cadre_id=c, date=day, is_offline=True)
            for c, y in wanted_pairs - current
        ]
    )
    ContactYouth.objects.filter(contact_id__in=contact_ids).exclude(date=day).update(date=day)
    Contact.objects.filter(activity=activity).exclude(cadre_id__in=list(wanted)).delete()
    return len(wanted_pairs)
