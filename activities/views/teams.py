"""Teams at an activity (issue 15 item 7): the activity's teams, one team with its members,
check-in of a whole team, a team commendation. Staff in scope and the responsible cadres (as the
check-in list); writes in activities/services/teams.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.forms import run_action, save_form

from .. import services
from ..forms import TeamCommendForm, TeamForm, TeamMembersForm
from ..models import ActivityTeam, Registration
from .activity import _manageable


def _team_or_404(request: HttpRequest, pk: int, tid: int) -> ActivityTeam:
    activity = _manageable(request, pk)
    team = get_object_or_404(ActivityTeam, pk=tid, activity=activity)
    team.activity = activity
    return team


@login_required
def team_list(request: HttpRequest, pk: int) -> HttpResponse:
    activity = _manageable(request, pk)
    form = TeamForm(request.POST or None)
    team = save_form(
        request,
        form,
        lambda: services.team_create(activity=activity, by=request.user, **form.cleaned_data),
    )
    if team is not None:
        messages.success(request, _("已建立队伍“%(n)s”，请添加队员。") % {"n": team.name})
        return redirect("activities:team_detail", pk=activity.pk, tid=team.pk)
    teams = activity.teams.annotate(
        n_members=Count("members"),
        n_attended=Count("members", filter=Q(members__checked_in_at__isnull=False)),
    )
    return render(
        request,
        "activities/teams/list.html",
        {
            "activity": activity,
            "teams": list(teams),
            "form": form,
            "n_unassigned": activity.registrations.filter(team__isnull=True).count(),
        },
    )


@login_required
def team_detail(request: HttpRequest, pk: int, tid: int) -> HttpResponse:
    """Members (with attendance), adding registered people who have no team yet, a team
    commendation."""
    team = _team_or_404(request, pk, tid)
    activity = team.activity
    form = TeamMembersForm(request.POST or None, activity=activity)
    added = save_form(
        request,
        form,
        lambda: services.team_members_add(team=team, by=request.user, **form.cleaned_data),
    )
    if added is not None:
        messages.success(request, _("已加入队员 %(n)s 人。") % {"n": added})
        return redirect("activities:team_detail", pk=activity.pk, tid=team.pk)
    registrations = list(
        activity.registrations.select_related("youth", "youth__sector", "team").order_by(
            "team__name", "created_at", "id"
        )
    )
    return render(
        request,
        "activities/teams/detail.html",
        {
            "activity": activity,
            "team": team,
            "members": [r for r in registrations if r.team_id == team.pk],
            "others": [r for r in registrations if r.team_id != team.pk],
            "form": form,
            "ticked": {str(v) for v in form["registrations"].value() or []},
            "commend_form": TeamCommendForm(),
            "commendations": list(team.commendations.all()),
        },
    )


@login_required
@require_POST
def team_checkin(request: HttpRequest, pk: int, tid: int) -> HttpResponse:
    team = _team_or_404(request, pk, tid)
    result: dict[str, int] = {}

    def act() -> object:
        result["n"] = services.team_checkin(team=team, by=request.user)
        return result["n"]

    if run_action(request, act, _("整队签到完成。")):
        messages.info(request, _("本次签到 %(n)s 人。") % {"n": result["n"]})
    return redirect("activities:team_detail", pk=team.activity_id, tid=team.pk)


@login_required
@require_POST
def team_member_remove(request: HttpRequest, pk: int, tid: int, rid: int) -> HttpResponse:
    team = _team_or_404(request, pk, tid)
    registration = get_object_or_404(Registration, pk=rid, team=team)
    run_action(
        request,
        lambda: services.team_member_remove(registration=registration, by=request.user),
        _("已移出队伍；报名和签到保留。"),
    )
    return redirect("activities:team_detail", pk=team.activity_id, tid=team.pk)


@login_required
@require_POST
def team_commend(request: HttpRequest, pk: int, tid: int) -> HttpResponse:
    team = _team_or_404(request, pk, tid)
    form = TeamCommendForm(request.POST)

    def act() -> object:
        return services.team_commend(team=team, by=request.user, **form.cleaned_data)

    run_action(request, act, _("已表彰该队伍。"), form=form)
    return redirect("activities:team_detail", pk=team.activity_id, tid=team.pk)
