"""Writes of the activities app: activities, sign-ups, attendance, photos (volunteers,
commendations and projects: activities/services/volunteers.py).

Every change of attendance ends with `_sync_contacts(activity)`: the attended set, expanded to
(cadre, youth) pairs in one query (activities.selectors.attendance_pairs), handed to
contacts.services.activity_contacts_sync, which keeps one offline "activity" contact per cadre.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from cadres.models import Cadre, Organisation, Sector, User, Youth
from cadres.services import normalise_phone, youth_create, youth_match
from contacts.need_services import needs_attach_activity
from contacts.services import activity_contacts_sync

from ..models import Activity, ActivityPhoto, Partner, Registration
from ..plans import plan_item_link_check
from ..selectors import attendance_pairs

if TYPE_CHECKING:
    from django.core.files import File

    from contacts.models import Need

# Check-in opens this long before the start (people arrive early) ...
CHECKIN_OPENS_BEFORE = datetime.timedelta(hours=2)
# ... and the self-service code stops working this long after the end; staff can still check
# somebody in later from the list (补签).
CHECKIN_CODE_CLOSES_AFTER = datetime.timedelta(hours=3)


def _sync_contacts(activity: Activity, by: User | None) -> int:
    return activity_contacts_sync(activity=activity, pairs=list(attendance_pairs(activity)), by=by)


# --- activities ---------------------------------------------------------------------------------


def _check_activity(activity: Activity) -> None:
    if activity.ends_at < activity.starts_at:
        raise ValidationError({"ends_at": _("结束时间不能早于开始时间。")})
    item = activity.plan_item if activity.plan_item_id is not None else None
    if item is not None:
        # Also on every edit: a new organisation or year must still fit the linked plan item.
        plan_item_link_check(
            item=item,
            organisation_id=activity.organisation_id,
            starts_at=activity.starts_at,
        )


@transaction.atomic
def activity_create(
    *,
    by: User,
    partners: Iterable[Partner] = (),
    responsible_cadres: Iterable[Cadre] = (),
    **fields: Any,
) -> Activity:
    activity = Activity(created_by=by, **fields)
    _check_activity(activity)
    activity.full_clean(exclude=["register_code", "checkin_code"])
    activity.save()
    activity.partners.set(partners)
    activity.responsible_cadres.set(responsible_cadres)
    return activity


@transaction.atomic
def activity_update(
    *,
    activity: Activity,
    by: User,
    partners: Iterable[Partner] | None = None,
    responsible_cadres: Iterable[Cadre] | None = None,
    **fields: Any,
) -> Activity:
    """Edit an activity. A new day or a new set of responsible cadres re-derives the contacts."""
    old_day, old_cadres = activity.starts_at, set(activity.responsible_cadres.values_list("pk"))
    for name, value in fields.items():
        setattr(activity, name, value)
    _check_activity(activity)
    activity.full_clean(exclude=["register_code", "checkin_code"])
    activity.save()
    if partners is not None:
        activity.partners.set(partners)
    if responsible_cadres is not None:
        activity.responsible_cadres.set(responsible_cadres)
    new_cadres = set(activity.responsible_cadres.values_list("pk"))
    if old_day != activity.starts_at or old_cadres != new_cadres:
        _sync_contacts(activity, by)
    return activity


def partner_get_or_create(*, name: str, kind: str = Partner.Kind.OTHER) -> Partner:
    partner, _created = Partner.objects.get_or_create(name=name.strip(), defaults={"kind": kind})
    return partner


# --- registration -------------------------------------------------------------------------------


def _lock(activity: Activity) -> Activity:
    """Row-lock the activity: concurrent sign-ups serialise on it, so capacity holds."""
    return Activity.objects.select_for_update().get(pk=activity.pk)


def _check_open_for_registration(activity: Activity) -> None:
    if activity.status == Activity.Status.CANCELLED:
        raise ValidationError(_("活动已取消，不能报名。"))
    if activity.status == Activity.Status.DONE:
        raise ValidationError(_("活动已结束，不能报名。"))


def _check_capacity(activity: Activity, adding: int) -> None:
    if activity.capacity is None:
        return
    taken = Registration.objects.filter(activity=activity).count()
    if taken + adding > activity.capacity:
        left = max(activity.capacity - taken, 0)
        raise ValidationError(
            _("报名人数已满：上限 %(cap)s 人，还可报名 %(left)s 人。")
            % {"cap": activity.capacity, "left": left}
        )


@transaction.atomic
def registrations_add(
    *,
    activity: Activity,
    youths: Iterable[Youth],
    by: User | None,
    source: str = Registration.Source.STAFF,
) -> list[Registration]:
    """Register youths; those already registered are skipped (never duplicated). Returns the new
    registrations. The whole batch is refused if it would exceed the capacity."""
    activity = _lock(activity)
    _check_open_for_registration(activity)
    ids = {y.pk for y in youths}
    already = set(
        Registration.objects.filter(activity=activity, youth_id__in=ids).values_list(
            "youth_id", flat=True
        )
    )
    new_ids = sorted(ids - already)
    _check_capacity(activity, len(new_ids))
    return Registration.objects.bulk_create(
        [
            Registration(activity=activity, youth_id=pk, source=source, registered_by=by)
            for pk in new_ids
        ]
    )


@transaction.atomic
def registration_public(*, activity: Activity, name: str, phone: str) -> Registration:
    """A youth signs up through the public link: matched by phone to a known youth, or kept as a
    pending sign-up (name + phone) for the organiser to confirm. Signing up twice is harmless."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写姓名。")})
    phone = normalise_phone(phone)
    if not phone:
        raise ValidationError({"phone": _("请填写手机号，方便组织者联系您。")})
    activity = _lock(activity)
    if activity.status != Activity.Status.OPEN:
        raise ValidationError(_("该活动当前不接受报名。"))
    youth = youth_match(phone=phone)
    existing = Registration.objects.filter(activity=activity).filter(
        Q(youth=youth) if youth else Q(youth__isnull=True, phone=phone)
    )
    found = existing.first()
    if found is not None:
        return found
    _check_capacity(activity, 1)
    if youth is not None:
        return Registration.objects.create(
            activity=activity, youth=youth, source=Registration.Source.PUBLIC
        )
    return Registration.objects.create(
        activity=activity, name=name, phone=phone, source=Registration.Source.PUBLIC
    )


@transaction.atomic
def registration_confirm(
    *,
    registration: Registration,
    by: User,
    birth_year: int,
    sector: Sector,
    organisation: Organisation,
    gender: str = "",
    unit: str = "",
) -> Registration:
    """The organiser confirms a pending sign-up: the youth is matched again (someone may have
    added them meanwhile) or created; an attended pending sign-up then becomes contact."""
    registration = _reread(Registration.objects.select_for_update(), registration)
    if registration.youth_id is not None:
        return registration
    youth = youth_match(phone=registration.phone) or youth_match(
        name=registration.name, birth_year=birth_year, unit=unit
    )
    if youth is None:
        youth = youth_create(
            name=registration.name,
            birth_year=birth_year,
            sector=sector,
            organisation=organisation,
            gender=gender,
            unit=unit,
            phone=registration.phone,
            by=by,
        )
    duplicate = Registration.objects.filter(activity_id=registration.activity_id, youth=youth)
    other = duplicate.first()
    if other is not None:
        # Registered twice (once by staff, once publicly): keep one row, with the attendance.
        if registration.checked_in_at and not other.checked_in_at:
            other.checked_in_at = registration.checked_in_at
            other.checked_out_at, other.hours = registration.checked_out_at, registration.hours
            other.save(update_fields=["checked_in_at", "checked_out_at", "hours"])
        registration.delete()
        registration = other
    else:
        registration.youth = youth
        registration.save(update_fields=["youth"])
    if registration.checked_in_at:
        _sync_contacts(registration.activity, by)
    return registration


def _reread(qs: QuerySet[Registration], registration: Registration) -> Registration:
    """The registration read again through `qs` (locked, with relations); one removed meanwhile
    by someone else is a message for the form, not a 500."""
    current = qs.filter(pk=registration.pk).first()
    if current is None:
        raise ValidationError(
            _("这条报名刚刚已被删除（可能是其他工作人员操作的），请刷新页面。"), code="vanished"
        )
    return current


@transaction.atomic
def registration_remove(*, registration: Registration, by: User) -> None:
    # Locked and re-read: a check-in committed a moment ago must have its derived contacts
    # removed too (the caller's copy may predate it); a row already removed is a message.
    current = _reread(Registration.objects.select_for_update(), registration)
    attended = current.checked_in_at is not None
    activity = registration.activity
    current.delete()
    if attended:
        _sync_contacts(activity, by)


# --- attendance ---------------------------------------------------------------------------------


def _check_checkin_allowed(activity: Activity, now: datetime.datetime, *, by_code: bool) -> None:
    if activity.status == Activity.Status.CANCELLED:
        raise ValidationError(_("活动已取消，不能签到。"))
    if now < activity.starts_at - CHECKIN_OPENS_BEFORE:
        raise ValidationError(
            _("活动尚未开始，不能签到：签到在开始前 2 小时（%(t)s）开放。")
            % {
                "t": timezone.localtime(activity.starts_at - CHECKIN_OPENS_BEFORE).strftime(
                    "%m-%d %H:%M"
                )
            }
        )
    if by_code and now > activity.ends_at + CHECKIN_CODE_CLOSES_AFTER:
        raise ValidationError(_("活动已结束，扫码签到已关闭，请联系组织者补签。"))


def _already(registration: Registration) -> ValidationError:
    return ValidationError(
        _("已经签到过了（%(t)s），无需重复签到。")
        % {"t": timezone.localtime(registration.checked_in_at).strftime("%H:%M")},
        code="already_checked_in",
    )


@transaction.atomic
def checkin(
    *, registration: Registration, by: User | None, now: datetime.datetime | None = None
) -> Registration:
    """Mark a registration attended (staff list or code) and re-derive the activity's contacts."""
    now = now or timezone.now()
    activity = _lock(registration.activity)
    _check_checkin_allowed(activity, now, by_code=False)
    # The conditional UPDATE is the guard against double check-in, also under concurrency.
    updated = Registration.objects.filter(pk=registration.pk, checked_in_at__isnull=True).update(
        checked_in_at=now
    )
    if not updated:
        # Removed by someone else while this check-in ran: `_reread` says so.
        raise _already(_reread(Registration.objects.all(), registration))
    registration.checked_in_at = now
    if registration.youth_id is not None:
        _sync_contacts(activity, by)
    return registration


@transaction.atomic
def checkin_by_code(
    *, activity: Activity, phone: str, name: str = "", now: datetime.datetime | None = None
) -> Registration:
    """Self check-in at the venue with the activity's code: the phone finds the registration, or
    a known youth (walk-in, if there is room), or with a name a pending walk-in for the organiser.

    Raises ValidationError with code "need_name" when the phone is unknown and no name was given.
    """
    now = now or timezone.now()
    phone = normalise_phone(phone)
    if not phone:
        raise ValidationError({"phone": _("请填写报名时的手机号。")})
    activity = _lock(activity)
    _check_checkin_allowed(activity, now, by_code=True)
    registration = (
        Registration.objects.filter(activity=activity)
        .filter(Q(youth__phone=phone) | Q(youth__isnull=True, phone=phone))
        .order_by("pk")
        .first()
    )
    if registration is None:
        youth = youth_match(phone=phone)
        if youth is None and not name.strip():
            raise ValidationError(
                _("没有找到这个手机号的报名，请填写姓名后再签到。"), code="need_name"
            )
        _check_capacity(activity, 1)
        registration = Registration.objects.create(
            activity=activity,
            youth=youth,
            name="" if youth else name.strip()[:50],
            phone="" if youth else phone,
            source=Registration.Source.WALK_IN,
        )
    elif registration.checked_in_at is not None:
        raise _already(registration)
    Registration.objects.filter(pk=registration.pk).update(checked_in_at=now)
    registration.checked_in_at = now
    if registration.youth_id is not None:
        _sync_contacts(activity, None)
    return registration


@transaction.atomic
def checkin_undo(*, registration: Registration, by: User) -> Registration:
    """Remove an attendance (marked by mistake): its derived contacts go with it."""
    Registration.objects.filter(pk=registration.pk).update(
        checked_in_at=None, checked_out_at=None, hours=None
    )
    registration.checked_in_at = registration.checked_out_at = registration.hours = None
    _sync_contacts(registration.activity, by)
    return registration


def parse_hours(value: Decimal | float | str) -> Decimal:
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"hours": _("时长请填写数字，例如 2 或 2.5。")}) from None
    return hours


@transaction.atomic
def checkout(
    *,
    registration: Registration,
    by: User | None,
    hours: Decimal | float | str | None = None,
    now: datetime.datetime | None = None,
) -> Registration:
    """Check out / enter hours. Without hours: the time from check-in to now, capped at the
    activity's length. Hours must be ≥ 0 and no longer than the activity."""
    now = now or timezone.now()
    registration = _reread(Registration.objects.select_related("activity"), registration)
    activity = registration.activity
    if registration.checked_in_at is None:
        raise ValidationError(_("尚未签到，不能签退或登记时长。"))
    limit = Decimal(str(round(activity.duration_hours, 1)))
    if hours is None or hours == "":
        start = max(registration.checked_in_at, activity.starts_at)
        end = min(now, activity.ends_at)
        hours = Decimal(str(round(max((end - start).total_seconds(), 0) / 3600, 1)))
    else:
        hours = parse_hours(hours)
    if hours < 0:
        raise ValidationError({"hours": _("时长不能为负数。")})
    if hours > limit:
        raise ValidationError(
            {"hours": _("时长不能超过活动时长（%(h)s 小时）。") % {"h": f"{limit:g}"}}
        )
    registration.hours = hours
    registration.checked_out_at = registration.checked_out_at or now
    registration.save(update_fields=["hours", "checked_out_at"])
    return registration


# --- photos -------------------------------------------------------------------------------------


PHOTO_MAX_SIDE = 2560  # px: plenty for a bulletin or a screen, a quarter of a phone's 12 MP


def _photo_without_metadata(image: File) -> File:
    """The photo re-encoded without its metadata, upright and at most PHOTO_MAX_SIDE px.

    Phone photos carry EXIF: the GPS position where they were taken (often a youth's home or
    school), the device and the time. Activity photos are shown to staff and printed, so none
    of that is kept (PIPL: minimal personal data). Animated GIFs are stored as they are.
    """
    import io
    import os

    from django.core.files.base import ContentFile
    from PIL import Image, ImageOps

    image.seek(0)
    with Image.open(image) as original:
        fmt = original.format
        if fmt == "GIF":
            image.seek(0)
            return image
        picture = ImageOps.exif_transpose(original)
        picture.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
        if fmt == "JPEG" and picture.mode not in ("RGB", "L"):
            picture = picture.convert("RGB")
        buffer = io.BytesIO()
        # No exif= / pnginfo= argument: Pillow writes no metadata unless asked to.
        picture.save(buffer, format=fmt, quality=85) if fmt in ("JPEG", "WEBP") else picture.save(
            buffer, format=fmt
        )
    name = os.path.basename(getattr(image, "name", "") or "photo")
    return ContentFile(buffer.getvalue(), name=name)


def photo_add(*, activity: Activity, image: File, caption: str = "", by: User) -> ActivityPhoto:
    """Store an uploaded photo (the form has checked it is an image of ≤ 5 MB), stripped of
    its metadata (location, device, time) and bounded in size."""
    return ActivityPhoto.objects.create(
        activity=activity, image=_photo_without_metadata(image), caption=caption, uploaded_by=by
    )


# --- needs → activity ---------------------------------------------------------------------------


@transaction.atomic
def activity_from_needs(
    *, needs: Iterable[Need], invite: bool, by: User, **fields: Any
) -> Activity:
    """Plan a lecture or training from grouped needs (有问必答 有求必应 → 专题讲座).

    1. create the activity (responsible: the cadres chosen, else the needs' owners);
    2. link the needs back to it (contacts.need_services.needs_attach_activity, one UPDATE);
    3. if asked, register the askers who have a youth record (source "needs"): invited.
    """
    needs = list(needs)
    if not fields.get("responsible_cadres"):
        # Nobody chosen: the cadres who own the needs run it (a lecture nobody is responsible
        # for answers nobody).
        owners = {n.owner_cadre_id for n in needs if n.owner_cadre_id}
        fields["responsible_cadres"] = Cadre.objects.filter(pk__in=owners)
    activity = activity_create(by=by, **fields)
    needs_attach_activity(needs=needs, activity=activity, by=by)
    if invite:
        youth_ids = {n.youth_id for n in needs if n.youth_id}
        if youth_ids and activity.status != Activity.Status.CANCELLED:
            registrations_add(
                activity=activity,
                youths=Youth.objects.filter(pk__in=youth_ids),
                by=by,
                source=Registration.Source.NEEDS,
            )
    return activity
