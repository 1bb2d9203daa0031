"""Reads of the activities app, shared by views, exports, panels and other apps.

Who sees which activity (documented in README, "Activities and volunteers"):
- staff and admins: activities organised in their organisation's subtree (scope_queryset);
- a cadre: activities they are responsible for, plus those organised by their own organisation
  (so that they can sign up their youths and help at the door) — never another subtree's.
Youths (for sign-up, volunteer records) are scoped as the registry scopes them: staff see their
subtree's youths, a cadre the youths linked to them.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from cadres.models import Cadre, CadreYouth, Organisation, User, Youth
from cadres.selectors import in_subtree, scope_queryset, user_cadre
from cadres.selectors import youth_scope as cadre_youth_scope

from .models import (
    Activity,
    ActivityPhoto,
    Commendation,
    EntrepreneurshipProject,
    Registration,
    VolunteerHours,
    VolunteerOrganisation,
)

ZERO = Value(Decimal("0"), output_field=DecimalField(max_digits=12, decimal_places=1))


def _cadre_activities(cadre: Cadre) -> Q:
    """The cadre rule for activities (`cadres.scoping.CadreRule`): those the cadre is responsible
    for, and those organised by the cadre's own organisation (to sign up youths, help at the
    door). A subquery on the responsible cadres, so an activity never appears twice."""
    responsible = Activity.responsible_cadres.through.objects.filter(cadre_id=cadre.pk)
    return Q(pk__in=responsible.values("activity_id")) | Q(organisation_id=cadre.organisation_id)


def activity_scope(qs: QuerySet[Activity], *, user: User) -> QuerySet[Activity]:
    return scope_queryset(qs, user=user, org_field="organisation", cadre_field=_cadre_activities)


def youth_scope(user: User) -> QuerySet[Youth]:
    """Youths for sign-ups and volunteer records: as the registry scopes them."""
    return cadre_youth_scope(user=user)


def _count(qs: QuerySet[Any], *, by: str = "activity_id") -> Subquery:
    """A correlated COUNT of `qs` grouped by the column `by` (the outer row's key)."""
    return Subquery(
        qs.order_by().values(by).annotate(n=Count("id")).values("n"),
        output_field=IntegerField(),
    )


def activity_list(*, user: User) -> QuerySet[Activity]:
    """Activities in scope with registered / attended / hours: correlated subqueries, so the list
    is one query whatever the number of registrations (no join fan-out, no GROUP BY on the list)."""
    regs = Registration.objects.filter(activity_id=OuterRef("pk"))
    hours = Subquery(
        regs.order_by().values("activity_id").annotate(h=Sum("hours")).values("h"),
        output_field=DecimalField(max_digits=12, decimal_places=1),
    )
    return (
        activity_scope(Activity.objects.select_related("organisation"), user=user)
        .annotate(
            n_registered=Coalesce(_count(regs), 0),
            n_attended=Coalesce(_count(regs.filter(checked_in_at__isnull=False)), 0),
            total_hours=Coalesce(hours, ZERO),
        )
        .order_by("-starts_at", "id")
    )


def activity_get(*, user: User, pk: int | str) -> Activity:
    from django.http import Http404

    try:
        return activity_list(user=user).get(pk=pk)
    except (Activity.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_manage(activity: Activity, user: User) -> bool:
    """Staff in scope, or a cadre responsible for it: may register, check in and enter hours."""
    if user.sees_subtree:
        return True
    cadre = user_cadre(user)
    return cadre is not None and activity.responsible_cadres.filter(pk=cadre.pk).exists()


def attendance_pairs(activity: Activity) -> QuerySet:
    """(cadre_id, youth_id) for every attended youth × (each cadre linked to them ∪ each responsible
    cadre): the set activity_contacts_sync makes the derived contacts match. One UNION query."""
    attended = Registration.objects.filter(
        activity=activity, checked_in_at__isnull=False, youth__isnull=False
    ).order_by()
    linked = (
        CadreYouth.objects.filter(youth_id__in=attended.values("youth_id"))
        .order_by()
        .values_list("cadre_id", "youth_id")
    )
    responsible = attended.filter(activity__responsible_cadres__isnull=False).values_list(
        "activity__responsible_cadres", "youth_id"
    )
    return linked.union(responsible)


def registrations_for(activity: Activity) -> QuerySet[Registration]:
    return (
        activity.registrations.select_related("youth", "youth__sector")
        .order_by("checked_in_at", "created_at", "id")
        .only(
            "id",
            "activity_id",
            "name",
            "phone",
            "source",
            "created_at",
            "checked_in_at",
            "checked_out_at",
            "hours",
            "youth__id",
            "youth__name",
            "youth__phone",
            "youth__unit",
            "youth__sector__name",
        )
    )


def upcoming_activities(*, user: User, limit: int = 5) -> QuerySet[Activity]:
    return (
        activity_list(user=user)
        .filter(ends_at__gte=timezone.now())
        .exclude(status=Activity.Status.CANCELLED)
        .order_by("starts_at", "id")[:limit]
    )


def cadre_upcoming_activities(*, cadre: Cadre, limit: int = 5) -> QuerySet[Activity]:
    return (
        Activity.objects.filter(responsible_cadres=cadre, ends_at__gte=timezone.now())
        .exclude(status=Activity.Status.CANCELLED)
        .select_related("organisation")
        .order_by("starts_at", "id")[:limit]
    )


# --- volunteers ---------------------------------------------------------------------------------


def volunteer_attendance_hours(qs: QuerySet[Registration]) -> QuerySet[Registration]:
    """Attendance that counts as volunteer service: checked in at a volunteer-service activity."""
    return qs.filter(
        checked_in_at__isnull=False,
        activity__category=Activity.Category.VOLUNTEER,
        hours__isnull=False,
    )


def youth_volunteer_summary(youth: Youth) -> dict:
    """Hours (attendance at volunteer activities + approved entries), activities attended."""
    regs = Registration.objects.filter(youth=youth)
    agg = regs.aggregate(
        attended=Count("id", filter=Q(checked_in_at__isnull=False)),
        activity_hours=Sum(
            "hours",
            filter=Q(checked_in_at__isnull=False, activity__category=Activity.Category.VOLUNTEER),
        ),
    )
    entered = youth.volunteer_hours.filter(status=VolunteerHours.Status.APPROVED).aggregate(
        h=Sum("hours")
    )["h"]
    hours = (agg["activity_hours"] or Decimal("0")) + (entered or Decimal("0"))
    return {"attended": agg["attended"], "hours": hours}


def youth_attendances(youth: Youth) -> QuerySet[Registration]:
    return (
        Registration.objects.filter(youth=youth, checked_in_at__isnull=False)
        .select_related("activity", "activity__organisation")
        .order_by("-checked_in_at")
    )


def volunteer_hours_list(*, user: User) -> QuerySet[VolunteerHours]:
    return scope_queryset(
        VolunteerHours.objects.select_related("youth", "volunteer_organisation", "organisation"),
        user=user,
    )


def volunteer_organisation_list(*, user: User) -> QuerySet[VolunteerOrganisation]:
    """Volunteer organisations in scope with members and approved entered hours (subqueries)."""
    members = VolunteerOrganisation.members.through.objects.filter(
        volunteerorganisation_id=OuterRef("pk")
    )
    hours = VolunteerHours.objects.filter(
        volunteer_organisation_id=OuterRef("pk"), status=VolunteerHours.Status.APPROVED
    )
    # Attendance hours of the members at volunteer activities count for their organisation too.
    member_hours = volunteer_attendance_hours(
        Registration.objects.filter(youth__volunteer_organisations=OuterRef("pk"))
    )
    return (
        scope_queryset(VolunteerOrganisation.objects.select_related("organisation"), user=user)
        .annotate(
            n_members=Coalesce(_count(members, by="volunteerorganisation_id"), 0),
            entered_hours=Coalesce(
                Subquery(
                    hours.order_by()
                    .values("volunteer_organisation_id")
                    .annotate(h=Sum("hours"))
                    .values("h"),
                    output_field=DecimalField(max_digits=12, decimal_places=1),
                ),
                ZERO,
            ),
            activity_hours=Coalesce(
                Subquery(
                    member_hours.order_by()
                    .annotate(g=Value(1))
                    .values("g")
                    .annotate(h=Sum("hours"))
                    .values("h"),
                    output_field=DecimalField(max_digits=12, decimal_places=1),
                ),
                ZERO,
            ),
        )
        .order_by("name")
    )


def commendation_list(*, user: User) -> QuerySet[Commendation]:
    return scope_queryset(
        Commendation.objects.select_related("youth", "activity", "organisation"), user=user
    )


def project_list(*, user: User) -> QuerySet[EntrepreneurshipProject]:
    """Projects in scope with their support counts and the referred loan total (subqueries)."""
    from .models import ProjectSupport

    supports = ProjectSupport.objects.filter(project_id=OuterRef("pk")).order_by()
    return scope_queryset(
        EntrepreneurshipProject.objects.select_related("youth", "organisation"), user=user
    ).annotate(
        n_supports=Coalesce(
            Subquery(
                supports.values("project_id").annotate(n=Count("id")).values("n"),
                output_field=IntegerField(),
            ),
            0,
        ),
        loan_total=Coalesce(
            Subquery(
                supports.filter(kind="loan")
                .exclude(loan_status="rejected")
                .values("project_id")
                .annotate(s=Sum("loan_amount"))
                .values("s"),
                output_field=DecimalField(max_digits=12, decimal_places=0),
            ),
            Value(Decimal("0"), output_field=DecimalField(max_digits=12, decimal_places=0)),
        ),
    )


# --- for other apps -----------------------------------------------------------------------------


def _day_bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, ...]:
    tz = timezone.get_current_timezone()
    lo = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    hi = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return lo, hi


def activity_totals(
    *, user: User, organisation: Organisation, start: datetime.date, end: datetime.date
) -> dict:
    """Activities of the organisation's subtree, as far as `user` may see them, that started in
    [start, end] (cancelled ones not counted): number of activities, distinct attended youths,
    attendances, volunteer hours (attendance hours at volunteer activities + approved entered
    hours recorded by the subtree). Two aggregate queries whatever the size of the subtree: the
    activities with their attendance (each registration joins one activity, so the join
    duplicates nothing), and the entered hours."""
    lo, hi = _day_bounds(start, end)
    activities = in_subtree(
        activity_scope(Activity.objects.all(), user=user), organisation=organisation
    ).filter(starts_at__gte=lo, starts_at__lt=hi)
    activities = activities.exclude(status=Activity.Status.CANCELLED)
    attended = Q(registrations__checked_in_at__isnull=False)
    agg = activities.aggregate(
        n_activities=Count("pk", distinct=True),
        attendances=Count("registrations", filter=attended),
        participants=Count("registrations__youth", distinct=True, filter=attended),
        hours=Sum(
            "registrations__hours",
            filter=attended & Q(category=Activity.Category.VOLUNTEER),
        ),
    )
    n_activities = agg["n_activities"]
    entered = (
        in_subtree(volunteer_hours_list(user=user), organisation=organisation)
        .filter(status=VolunteerHours.Status.APPROVED, date__gte=start, date__lte=end)
        .aggregate(h=Sum("hours"))["h"]
    )
    return {
        "activities": n_activities,
        "participants": agg["participants"],
        "attendances": agg["attendances"],
        "volunteer_hours": (agg["hours"] or Decimal("0")) + (entered or Decimal("0")),
    }


def photo_for_user(*, user: User, name: str) -> ActivityPhoto:
    """The activity photo stored under `name` (its path in MEDIA_ROOT) if the user may see its
    activity; else Http404. The media view serves files only through this (no public media)."""
    from django.http import Http404

    photo = (
        ActivityPhoto.objects.filter(
            image=name, activity__in=activity_scope(Activity.objects.all(), user=user)
        )
        .only("image")
        .first()
    )
    if photo is None:
        raise Http404
    return photo
