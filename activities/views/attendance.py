"""Attendance after the event (补录签到): one form page per activity, for staff in scope and the
activity's responsible cadres. The rule lives in activities/services/attendance.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from config.forms import save_form

from .. import selectors, services
from ..forms import LateAttendanceForm
from ..services.attendance import activity_days, late_attendance_days
from .activity import _manageable


def _clean_query(raw: str) -> str:
    # NUL cannot be stored or compared by PostgreSQL (a 500): nobody types it, so drop it.
    return raw.replace("\x00", "").strip()[:50]


@login_required
def late_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """Record who came to a past activity: registered people not checked in, and youths found
    by name, phone or unit who came without signing up; with the real day and hours."""
    activity = _manageable(request, pk)
    form = LateAttendanceForm(request.POST or None, activity=activity, user=request.user)
    counts = save_form(
        request,
        form,
        lambda: services.attendance_record_late(
            activity=activity, by=request.user, **form.cleaned_data
        ),
    )
    if counts is not None:
        messages.success(
            request,
            _("已补录 %(n)s 人出勤（其中未报名 %(a)s 人），联系记录按活动日期同步。")
            % {"n": counts["recorded"], "a": counts["added"]},
        )
        return redirect("activities:checkin_list", pk=activity.pk)
    q = _clean_query(request.POST.get("q") or request.GET.get("q", ""))
    registrations = list(selectors.registrations_for(activity).filter(checked_in_at__isnull=True))
    registered = {r.youth_id for r in activity.registrations.all() if r.youth_id}
    found = selectors.youth_scope(request.user).select_related("sector").exclude(pk__in=registered)
    # Ticked ids come back from the browser: digits only, and small enough for an id column
    # (a 30-digit "id" would overflow the query, a 500, before the form could refuse it).
    ticked = [v for v in form["youths"].value() or [] if str(v).isdigit() and int(v) < 2**63]
    if q:
        found = found.filter(
            Q(name__icontains=q) | Q(phone=q) | Q(unit__icontains=q) | Q(pk__in=ticked)
        )
    else:
        found = found.filter(pk__in=ticked)
    first, last = activity_days(activity)
    return render(
        request,
        "activities/late_attendance.html",
        {
            "activity": activity,
            "form": form,
            "q": q,
            "registrations": registrations,
            "youths": list(found.order_by("name", "id")[:100]),
            "n_attended": activity.registrations.filter(checked_in_at__isnull=False).count(),
            "ticked_registrations": {str(v) for v in form["registrations"].value() or []},
            "ticked_youths": {str(v) for v in ticked},
            "ticked_teams": {str(v) for v in form["teams"].value() or []},
            "teams": list(activity.teams.annotate(n_members=Count("members"))),
            "first_day": first,
            "last_day": last,
            "window_days": late_attendance_days(),
        },
    )
