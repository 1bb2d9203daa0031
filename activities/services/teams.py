"""Teams at an activity (issue 15 item 7): e.g. the 22 troupes of the seed's 文艺汇演, ~200
youths. A team's members are the registrations that carry it (one team per person and activity);
a whole team checks in in one step, and a team is commended as a team.

Attendance by team after the event goes through the same rule as everybody's
(activities/services/attendance.py: `attendance_record_late(teams=...)`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cadres.models import User

from ..models import Activity, ActivityTeam, Commendation, Registration
from .events import CHECKIN_CODE_CLOSES_AFTER, _check_checkin_allowed, _lock, _sync_contacts
from .volunteers import commendation_create


def team_create(*, activity: Activity, name: str, by: User) -> ActivityTeam:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("请填写队伍名称。")})
    try:
        with transaction.atomic():
            return ActivityTeam.objects.create(activity=activity, name=name[:100])
    except IntegrityError:
        raise ValidationError({"name": _("本活动已有同名队伍“%(n)s”。") % {"n": name}}) from None


@transaction.atomic
def team_members_add(*, team: ActivityTeam, registrations: Iterable[Registration], by: User) -> int:
    """Put registrations of the team's activity in the team (moving them from another team of
    the same activity: a person comes with one team). One UPDATE. Returns how many."""
    ids = {r.pk for r in registrations}
    if not ids:
        raise ValidationError(_("请至少选择一名队员。"))
    rows = Registration.objects.filter(pk__in=ids)
    if rows.exclude(activity_id=team.activity_id).exists():
        raise ValidationError(_("所选报名不属于这个活动。"))
    return rows.update(team=team)


def team_member_remove(*, registration: Registration, by: User) -> None:
    """Take someone out of their team; the registration and attendance stay."""
    Registration.objects.filter(pk=registration.pk).update(team=None)


@transaction.atomic
def team_checkin(*, team: ActivityTeam, by: User, now: datetime.datetime | None = None) -> int:
    """Check in every member of the team not checked in yet, in one UPDATE, and derive the
    contacts once. During the activity (as a check-in at the door); afterwards the team's
    attendance is recorded with its real day and hours on the after-the-event page."""
    now = now or timezone.now()
    activity = _lock(team.activity)
    _check_checkin_allowed(activity, now, by_code=False)
    if now > activity.ends_at + CHECKIN_CODE_CLOSES_AFTER:
        raise ValidationError(
            _("活动已结束，请在“活动后补录”中按队伍补录出勤（填写实际日期和时长）。")
        )
    members = Registration.objects.filter(team=team, activity=activity)
    if not members.exists():
        raise ValidationError(_("这支队伍还没有队员。"))
    checked = members.filter(checked_in_at__isnull=True).update(checked_in_at=now)
    if checked:
        _sync_contacts(activity, by)
    return checked


def team_commend(
    *,
    team: ActivityTeam,
    title: str,
    date: datetime.date,
    by: User,
    citation: str = "",
) -> Commendation:
    """A commendation of the team as a team, at its activity, by the activity's organisation."""
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("请填写荣誉名称。")})
    if date > timezone.localdate():
        raise ValidationError({"date": _("表彰日期不能晚于今天。")})
    activity = team.activity
    commendation = commendation_create(
        title=title,
        organisation=activity.organisation,
        date=date,
        by=by,
        team_name=team.name,
        activity=activity,
        citation=citation,
    )
    Commendation.objects.filter(pk=commendation.pk).update(team=team)
    commendation.team = team
    return commendation
