"""Attendance recorded after the event (补录签到): staff or a responsible cadre enter, within
`LIANQING_LATE_ATTENDANCE_DAYS` of the end, who came, on which day and for how long.

The attendance carries the real day and hours (never the time of entry); the derived contacts
follow through the same rule as every check-in (`events._sync_contacts` →
contacts.services.activity_contacts_sync, dated the activity's day), which also schedules the
recomputation of the periods concerned (assessment.freshness.numbers_changed), so scores follow.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cadres.models import User, Youth

from ..models import Activity, ActivityTeam, Registration
from .events import _lock, _sync_contacts, parse_hours


def late_attendance_days() -> int:
    return int(getattr(settings, "LIANQING_LATE_ATTENDANCE_DAYS", 30))


def activity_days(activity: Activity) -> tuple[datetime.date, datetime.date]:
    """The activity's first and last local calendar day (stored in UTC)."""
    return timezone.localdate(activity.starts_at), timezone.localdate(activity.ends_at)


def late_attendance_check(
    *,
    activity: Activity,
    date: datetime.date,
    hours: Decimal,
    now: datetime.datetime | None = None,
) -> None:
    """The one rule for attendance entered after the event. Raises ValidationError (Chinese).

    1. the activity is not cancelled and has started;
    2. it ended no more than `LIANQING_LATE_ATTENDANCE_DAYS` days ago;
    3. the attendance day is not in the future and lies within the activity's days;
    4. the hours are more than 0 and no longer than the activity.
    """
    now = now or timezone.now()
    if activity.status == Activity.Status.CANCELLED:
        raise ValidationError(_("活动已取消，不能补录签到。"))
    if activity.starts_at > now:
        raise ValidationError(_("活动尚未开始，不能补录签到。"))
    days = late_attendance_days()
    if now - activity.ends_at > datetime.timedelta(days=days):
        raise ValidationError(
            _("活动结束已超过 %(n)s 天，不能再补录签到。") % {"n": days}, code="too_late"
        )
    today = timezone.localdate(now)
    if date > today:
        raise ValidationError({"date": _("出勤日期不能晚于今天。")})
    first, last = activity_days(activity)
    if not first <= date <= last:
        raise ValidationError(
            {
                "date": _("出勤日期须在活动期间（%(a)s 至 %(b)s）。")
                % {"a": first.isoformat(), "b": last.isoformat()}
            }
        )
    limit = Decimal(str(round(activity.duration_hours, 1)))
    if hours <= 0:
        raise ValidationError({"hours": _("时长须大于 0。")})
    if hours > limit:
        raise ValidationError(
            {"hours": _("时长不能超过活动时长（%(h)s 小时）。") % {"h": f"{float(limit):g}"}}
        )


def _attendance_times(
    activity: Activity, date: datetime.date, hours: Decimal
) -> tuple[datetime.datetime, datetime.datetime]:
    """Check-in and check-out times for an attendance on `date`: the activity's start time on
    that day (within the activity), plus the hours, capped at the activity's end."""
    tz = timezone.get_current_timezone()
    start_local = timezone.localtime(activity.starts_at)
    checked_in = datetime.datetime.combine(date, start_local.time(), tzinfo=tz)
    checked_in = min(max(checked_in, activity.starts_at), activity.ends_at)
    checked_out = min(checked_in + datetime.timedelta(hours=float(hours)), activity.ends_at)
    return checked_in, checked_out


@transaction.atomic
def attendance_record_late(
    *,
    activity: Activity,
    by: User,
    date: datetime.date,
    hours: Decimal | float | str,
    registrations: Iterable[Registration] = (),
    youths: Iterable[Youth] = (),
    teams: Iterable[ActivityTeam] = (),
    now: datetime.datetime | None = None,
) -> dict[str, int]:
    """Record attendance after the event for registered people, whole teams (their members) and
    youths who came without signing up. All or nothing. Returns counts: "recorded" (new attendances), "added" (of which
    without a registration before), "unchanged" (already attended: left as they were).

    1. lock the activity, check the rule (late_attendance_check);
    2. register the youths not registered yet (source "late"; capacity is not checked: they
       did come);
    3. set day and hours on every chosen registration not attended yet, in one UPDATE;
    4. re-derive the activity's contacts (dated the activity's day) once.
    """
    hours = parse_hours(hours)
    activity = _lock(activity)
    late_attendance_check(activity=activity, date=date, hours=hours, now=now)
    reg_ids = {r.pk for r in registrations}
    team_ids = {t.pk for t in teams}
    if team_ids:
        if ActivityTeam.objects.filter(pk__in=team_ids).exclude(activity=activity).exists():
            raise ValidationError(_("所选队伍不属于这个活动。"))
        # A whole team in one step: every member registration of the chosen teams.
        reg_ids |= set(
            Registration.objects.filter(team_id__in=team_ids).values_list("pk", flat=True)
        )
    if reg_ids and Registration.objects.filter(pk__in=reg_ids).exclude(activity=activity).exists():
        raise ValidationError(_("所选报名不属于这个活动。"))
    youth_ids = {y.pk for y in youths}
    known = dict(
        Registration.objects.filter(activity=activity, youth_id__in=youth_ids).values_list(
            "youth_id", "pk"
        )
    )
    reg_ids |= set(known.values())
    added = Registration.objects.bulk_create(
        [
            Registration(
                activity=activity, youth_id=pk, source=Registration.Source.LATE, registered_by=by
            )
            for pk in sorted(youth_ids - set(known))
        ]
    )
    reg_ids |= {r.pk for r in added}
    if not reg_ids:
        raise ValidationError(_("请至少选择一名出勤的青年。"))
    checked_in, checked_out = _attendance_times(activity, date, hours)
    todo = Registration.objects.filter(
        activity=activity, pk__in=reg_ids, checked_in_at__isnull=True
    )
    recorded = todo.update(checked_in_at=checked_in, checked_out_at=checked_out, hours=hours)
    if recorded:
        _sync_contacts(activity, by)
    return {"recorded": recorded, "added": len(added), "unchanged": len(reg_ids) - recorded}
