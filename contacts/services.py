"""Writes of the contacts app: contact logs, their soft deletion, and the contacts derived from
activity attendance. The needs desk's writes are in contacts/need_services.py."""

from __future__ import annotations

import contextlib
import datetime
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment.freshness import numbers_changed
from cadres.models import Cadre, CadreYouth, User, Youth
from cadres.services import cadre_youths_link

from .models import NOTES_MAX, OFFLINE_CHANNELS, TEXT_MAX, Channel, Contact, ContactYouth, Need
from .need_services import need_create
from .notes_key import notes_key as note_key_of

if TYPE_CHECKING:  # activities imports this module: a runtime import would be a cycle
    from activities.models import Activity


@transaction.atomic
def activity_contacts_sync(
    *, activity: Activity, pairs: Iterable[tuple[int, int]], by: User | None = None
) -> int:
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
    # Every cadre whose derived contact was made, changed or removed (`existing` holds both).
    numbers_changed(
        on=day, organisation_id=activity.organisation_id, cadre_ids=set(wanted) | set(existing)
    )
    return len(wanted_pairs)


# --- Contact logs -------------------------------------------------------------------------

EARLIEST_DAYS = 366  # a contact more than a year old is almost certainly a typo in the year


def _youth_ids(youths: Iterable) -> list[int]:
    ids: list[int] = []
    for youth in youths:
        pk = getattr(youth, "pk", youth)
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            raise ValidationError({"youths": _("青年选择无效。")}) from None
        if pk not in ids:
            ids.append(pk)
    return ids


def _check_lengths(**texts: str) -> None:
    limits = {"topic": 100, "notes": NOTES_MAX}
    errors = {}
    for field, value in texts.items():
        limit = limits.get(field, TEXT_MAX)
        if len(value) > limit:
            errors[field] = _("内容太长：最多 %(limit)s 字，当前 %(n)s 字。") % {
                "limit": limit,
                "n": len(value),
            }
    if errors:
        raise ValidationError(errors)


def _check_contact(*, channel: str, date: datetime.date | None, youths: Iterable) -> list[int]:
    """The fields every contact needs, checked alike when logging and when correcting: a known
    channel, a date neither in the future nor over a year back, at least one youth."""
    errors: dict[str, str] = {}
    if channel not in Channel.values:
        errors["channel"] = _("请选择联系方式。")
    today = timezone.localdate()
    if date is None:
        errors["date"] = _("请填写日期。")
    elif date > today:
        errors["date"] = _("日期不能晚于今天（%(today)s）。") % {"today": today.isoformat()}
    elif date < today - datetime.timedelta(days=EARLIEST_DAYS):
        errors["date"] = _("日期早于一年前，请检查年份。")
    ids = _youth_ids(youths)
    if not ids:
        errors["youths"] = _("请至少选择一名青年。")
    if errors:
        raise ValidationError(errors)
    return ids


CLIENT_KEY_MAX = 64


def client_key_clean(raw: str | None) -> str | None:
    """A submission's client-generated id as stored, None for none; ValidationError for what
    no form or phone generates (letters, digits and dashes, at most 64)."""
    key = (raw or "").strip()
    if not key:
        return None
    if len(key) > CLIENT_KEY_MAX or not all(
        ch.isascii() and (ch.isalnum() or ch == "-") for ch in key
    ):
        raise ValidationError({"client_key": _("提交编号无效，请刷新页面后重新记录。")})
    return key


def _contact_for_key(client_key: str, *, by: User | None) -> Contact | None:
    """The contact this user already sent under this key (marked `replayed`), or None. A key
    another user sent is refused: keys are random, so it was copied, not generated."""
    found = list(
        Contact.objects.filter(client_key=client_key).select_related("cadre").order_by("pk")[:2]
    )
    mine = [c for c in found if by is not None and c.created_by_id == by.pk]
    if not mine:
        if found:
            raise ValidationError({"client_key": _("提交编号无效，请刷新页面后重新记录。")})
        return None
    contact = mine[0]
    contact.replayed = True  # type: ignore[attr-defined]
    contact.youth_names = list(  # type: ignore[attr-defined]
        Youth.objects.filter(contact_rows__contact=contact).values_list("name", flat=True)
    ) or [""]
    return contact


@transaction.atomic
def contact_log(
    *,
    cadre: Cadre,
    youths: Iterable,
    channel: str,
    date: datetime.date,
    topic: str = "",
    notes: str = "",
    need_raised: str = "",
    need_category: str = Need.Category.OTHER,
    help_given: str = "",
    link_unlinked: bool = False,
    client_key: str | None = None,
    by: User | None,
) -> Contact:
    """Record one contact of a cadre with one or more youths.

    0. `client_key` (the form's hidden id, or the phone's offline queue): a key this user has
       sent before returns that first contact unchanged (`replayed`), whatever else is sent; a
       key of another user is refused (`_contact_for_key`);
    1. validate: channel known, date not in the future (nor over a year back), at least one
       youth, texts within limits, every youth in the cadre's list — or, with link_unlinked,
       a youth the cadre may link (cadres.services.cadre_youths_link decides), linked first;
    2. insert the Contact (history records `by`) and its ContactYouth rows with the
       denormalised cadre / date / is_offline, in one transaction;
    3. a need raised becomes a Need owned by the cadre, due in NEED_DUE_DAYS.
    Queries: one to check the youths, then the inserts (plus a few when youths are linked).
    """
    if client_key is not None:
        first = _contact_for_key(client_key, by=by)
        if first is not None:
            return first
    ids = _check_contact(channel=channel, date=date, youths=youths)
    today = timezone.localdate()
    _check_lengths(topic=topic, notes=notes, need_raised=need_raised, help_given=help_given)
    if need_raised.strip() and need_category not in Need.Category.values:
        raise ValidationError({"need_category": _("请选择需求类别。")})

    names = dict(
        CadreYouth.objects.filter(cadre=cadre, youth_id__in=ids).values_list(
            "youth_id", "youth__name"
        )
    )
    missing = [pk for pk in ids if pk not in names]
    if missing:
        if not link_unlinked:
            raise ValidationError({"youths": _("所选青年不在您的联系名单中。")})
        # The linking rule (own subtree, ceiling) is cadres.services.cadre_youths_link's alone;
        # it answers an id of no youth at all as it answers a youth outside the subtree.
        cadre_youths_link(cadre=cadre, youths=dict.fromkeys(missing, today), by=by)
        names.update(Youth.objects.filter(pk__in=missing).values_list("pk", "name"))

    notes_key, notes_chars = note_key_of(notes.strip(), [names.get(pk, "") for pk in ids])
    contact = Contact(
        cadre=cadre,
        date=date,
        channel=channel,
        topic=topic.strip(),
        notes=notes.strip(),
        notes_key=notes_key,
        notes_chars=notes_chars,
        need_raised=need_raised.strip(),
        help_given=help_given.strip(),
        created_by=by,
        client_key=client_key,
    )
    contact._history_user = by  # type: ignore[attr-defined]
    try:
        # A savepoint only where a key can clash: the common path keeps its query count.
        with transaction.atomic() if client_key else contextlib.nullcontext():
            contact.save()
    except IntegrityError:
        # The same key sent twice at once: the other request saved first (the unique
        # constraint waited for it); answer with its contact.
        first = _contact_for_key(client_key or "", by=by)
        if first is None:
            raise
        return first
    offline = channel in OFFLINE_CHANNELS
    ContactYouth.objects.bulk_create(
        [
            ContactYouth(contact=contact, youth_id=pk, cadre=cadre, date=date, is_offline=offline)
            for pk in ids
        ]
    )
    contact.is_offline = offline  # generated in the database; saves a refresh query
    contact.youth_names = [names[pk] for pk in ids]  # type: ignore[attr-defined]  # for the confirmation message
    if contact.need_raised:
        need_create(
            organisation_id=cadre.organisation_id,
            source=Need.Source.LOG,
            category=need_category,
            question=contact.need_raised,
            youth_id=ids[0] if len(ids) == 1 else None,
            owner_cadre=cadre,
            contact=contact,
            by=by,
        )
    numbers_changed(on=date, organisation_id=cadre.organisation_id, cadre_ids=[cadre.pk])
    return contact


# A cadre corrects their own entries for this long after recording them; later, the committee.
EDIT_WINDOW_DAYS = 30


def contact_editable(contact: Contact, *, by: User | None) -> str:
    """Why `by` may not correct or delete this contact now ("" when they may): activity
    contacts follow the attendance; a cadre's own entries are open for EDIT_WINDOW_DAYS after
    they were recorded (staff of the subtree may correct later ones)."""
    if contact.is_deleted:
        return _("这条联系记录已删除。")
    if contact.activity_id is not None:
        return _("由活动签到生成的联系记录请在活动中修改签到。")
    if by is not None and by.sees_subtree:
        return ""
    recorded = timezone.localdate(contact.created_at) if contact.created_at else contact.date
    if timezone.localdate() - recorded > datetime.timedelta(days=EDIT_WINDOW_DAYS):
        return _("记录已超过 %(n)s 天，不能再修改或删除；如需更正，请联系团委。") % {
            "n": EDIT_WINDOW_DAYS
        }
    return ""


def _period_closed(*days: datetime.date) -> bool:
    """Any of these days lies in an assessment quarter already closed (its numbers reported)."""
    from assessment.periods import period_containing

    today = timezone.localdate()
    return any(period_containing(day).is_closed(today) for day in days)


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    youths: Iterable,
    channel: str,
    date: datetime.date,
    topic: str = "",
    notes: str = "",
    help_given: str = "",
    by: User | None,
) -> Contact:
    """Correct a contact (date, channel, youths, topic, notes, help given).

    1. lock the row; refuse what `contact_editable` refuses;
    2. check the fields as `contact_log` does; the youths are the cadre's list plus those
       already on the contact (a youth unlinked since may stay on it, no new stranger);
    3. save with its history row (who, when; a change of youths is the history's reason), mark
       `corrected_after_close` when the old or the new date lies in a closed quarter;
    4. rewrite the ContactYouth rows with the new date / channel, and say the numbers of both
       dates changed (assessment.freshness).
    """
    contact = Contact.objects.select_for_update().select_related("cadre").get(pk=contact.pk)
    refusal = contact_editable(contact, by=by)
    if refusal:
        raise ValidationError(refusal)
    ids = _check_contact(channel=channel, date=date, youths=youths)
    _check_lengths(topic=topic, notes=notes, help_given=help_given)
    current = list(
        ContactYouth.objects.filter(contact=contact)
        .order_by("pk")
        .values_list("youth_id", flat=True)
    )
    allowed = set(current) | set(
        CadreYouth.objects.filter(cadre_id=contact.cadre_id, youth_id__in=ids).values_list(
            "youth_id", flat=True
        )
    )
    if any(pk not in allowed for pk in ids):
        raise ValidationError({"youths": _("所选青年不在您的联系名单中。")})
    old_date = contact.date
    if _period_closed(old_date, date):
        contact.corrected_after_close = True
    contact.date, contact.channel = date, channel
    contact.topic, contact.notes, contact.help_given = (
        topic.strip(),
        notes.strip(),
        help_given.strip(),
    )
    names: dict[int, str] = {}
    if sorted(current) != sorted(ids) or contact.notes:
        names = dict(Youth.objects.filter(pk__in=set(current) | set(ids)).values_list("pk", "name"))
    contact.notes_key, contact.notes_chars = note_key_of(
        contact.notes, [names.get(pk, "") for pk in ids]
    )
    if sorted(current) != sorted(ids):
        contact._change_reason = _("青年：%(old)s → %(new)s") % {  # type: ignore[attr-defined]
            "old": "、".join(names.get(pk, "") for pk in current),
            "new": "、".join(names.get(pk, "") for pk in ids),
        }
    contact._history_user = by  # type: ignore[attr-defined]
    contact.save(
        update_fields=[
            "date",
            "channel",
            "topic",
            "notes",
            "help_given",
            "corrected_after_close",
            "notes_key",
            "notes_chars",
        ]
    )
    offline = channel in OFFLINE_CHANNELS
    ContactYouth.objects.filter(contact=contact).delete()
    ContactYouth.objects.bulk_create(
        [
            ContactYouth(
                contact=contact,
                youth_id=pk,
                cadre_id=contact.cadre_id,
                date=date,
                is_offline=offline,
            )
            for pk in ids
        ]
    )
    contact.refresh_from_db(fields=["is_offline"])
    organisation_id = contact.cadre.organisation_id
    numbers_changed(on=old_date, organisation_id=organisation_id, cadre_ids=[contact.cadre_id])
    if date != old_date:
        numbers_changed(on=date, organisation_id=organisation_id, cadre_ids=[contact.cadre_id])
    return contact


@transaction.atomic
def contact_delete(*, contact: Contact, by: User | None) -> Contact:
    """Soft delete: the contact stays (with its history) but stops counting anywhere, because
    every statistic reads ContactYouth and its rows go. Deleting twice is harmless. A cadre
    deletes within EDIT_WINDOW_DAYS (`contact_editable`); a contact of a closed quarter is
    marked `corrected_after_close`."""
    contact = Contact.objects.select_for_update().select_related("cadre").get(pk=contact.pk)
    if contact.is_deleted:
        return contact
    refusal = contact_editable(contact, by=by)
    if refusal:
        raise ValidationError(refusal)
    ContactYouth.objects.filter(contact=contact).delete()
    if not contact.is_deleted:
        contact.is_deleted = True
        contact.corrected_after_close = contact.corrected_after_close or _period_closed(
            contact.date
        )
        contact._history_user = by  # type: ignore[attr-defined]
        contact.save(update_fields=["is_deleted", "corrected_after_close"])
    numbers_changed(
        on=contact.date, organisation_id=contact.cadre.organisation_id, cadre_ids=[contact.cadre_id]
    )
    return contact
