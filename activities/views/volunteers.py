"""Volunteer organisations, entered hours and their approval, a youth's record and certificate,
commendations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cadres.auth import staff_required
from cadres.models import Youth
from cadres.selectors import get_in_scope_or_404, scope_queryset
from config.forms import save_form

from .. import selectors, services
from ..forms import CommendationForm, VolunteerHoursForm, VolunteerOrganisationForm
from ..models import VolunteerHours, VolunteerOrganisation

# --- volunteers ---------------------------------------------------------------------------------


@staff_required
def volunteer_index(request: HttpRequest) -> HttpResponse:
    form = VolunteerOrganisationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.volunteer_organisation_create(by=request.user, **form.cleaned_data)
        messages.success(request, _("志愿服务组织已添加。"))
        return redirect("activities:volunteers")
    organisations = list(selectors.volunteer_organisation_list(user=request.user))
    return render(
        request, "activities/volunteers.html", {"organisations": organisations, "form": form}
    )


@staff_required
def volunteer_hours(request: HttpRequest) -> HttpResponse:
    form = VolunteerHoursForm(request.POST or None, user=request.user)
    if save_form(
        request, form, lambda: services.volunteer_hours_enter(by=request.user, **form.cleaned_data)
    ):
        messages.success(request, _("已录入，待审核认定。"))
        return redirect("activities:volunteer_hours")
    records = selectors.volunteer_hours_list(user=request.user)
    return render(
        request,
        "activities/volunteer_hours.html",
        {
            "form": form,
            "pending": list(records.filter(status=VolunteerHours.Status.PENDING)[:100]),
            "recent": list(records.exclude(status=VolunteerHours.Status.PENDING)[:30]),
        },
    )


@staff_required
@require_POST
def volunteer_hours_decide(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_in_scope_or_404(VolunteerHours.objects.all(), user=request.user, pk=pk)
    approve = request.POST.get("decision") == "approve"
    services.volunteer_hours_decide(record=record, approve=approve, by=request.user)
    messages.success(request, _("已认定。") if approve else _("已标记为不予认定。"))
    return redirect("activities:volunteer_hours")


def _youth(request: HttpRequest, youth_id: int) -> Youth:
    try:
        return (
            selectors.youth_scope(request.user)
            .select_related("sector", "organisation")
            .get(pk=youth_id)
        )
    except (Youth.DoesNotExist, ValueError):
        raise Http404 from None


def _record_context(request: HttpRequest, youth: Youth) -> dict:
    return {
        "youth": youth,
        "summary": selectors.youth_volunteer_summary(youth),
        "attendances": list(selectors.youth_attendances(youth)[:200]),
        "hour_records": list(
            youth.volunteer_hours.select_related("volunteer_organisation").order_by("-date")
        ),
        "commendations": list(youth.commendations.select_related("activity")),
        "volunteer_orgs": list(youth.volunteer_organisations.all()),
        "projects": list(youth.projects.all()),
        "now": timezone.localdate(),
    }


@login_required
def youth_record(request: HttpRequest, youth_id: int) -> HttpResponse:
    youth = _youth(request, youth_id)
    if request.method == "POST" and request.user.sees_subtree:
        vo = get_in_scope_or_404(
            VolunteerOrganisation.objects.all(), user=request.user, pk=request.POST.get("vo")
        )
        services.volunteer_members_add(volunteer_organisation=vo, youths=[youth], by=request.user)
        messages.success(request, _("已加入 %(name)s。") % {"name": vo.name})
        return redirect("activities:youth_record", youth_id=youth.pk)
    context = _record_context(request, youth)
    if request.user.sees_subtree:
        context["vo_choices"] = scope_queryset(
            VolunteerOrganisation.objects.all(), user=request.user
        )
    return render(request, "activities/youth_record.html", context)


@login_required
def youth_certificate(request: HttpRequest, youth_id: int) -> HttpResponse:
    youth = _youth(request, youth_id)
    context = _record_context(request, youth)
    context["issuer"] = request.user.organisation
    return render(request, "activities/certificate.html", context)


# --- commendations ------------------------------------------------------------------------------


@staff_required
def commendation_index(request: HttpRequest) -> HttpResponse:
    form = CommendationForm(request.POST or None, user=request.user)
    if save_form(
        request, form, lambda: services.commendation_create(by=request.user, **form.cleaned_data)
    ):
        messages.success(request, _("表彰已登记。"))
        return redirect("activities:commendations")
    return render(
        request,
        "activities/commendations.html",
        {"form": form, "commendations": list(selectors.commendation_list(user=request.user)[:200])},
    )
