"""Staff pages of the member roster (团员名册) and the 领票登记 of a campaign (issue 12 item 5).
Thin: resolve in scope → form → service (surveys/members.py) → redirect."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cadres.auth import staff_required
from cadres.roster import clean_filename
from cadres.spreadsheet import MAX_BYTES, RosterFileError
from config.forms import form_error_text, save_form, service_error_text
from config.pagination import BoundedPaginator

from . import members
from .forms import (
    MemberEndForm,
    MemberForm,
    RosterUploadForm,
)
from .models import Campaign
from .views import _campaign_for

# --- Member roster (团员名册) and 领票登记 ---------------------------------------------------------


@staff_required
def roster_index(request: HttpRequest) -> HttpResponse:
    """The branches whose rosters the user keeps, with their member counts."""
    paginator = BoundedPaginator(members.roster_branches(user=request.user), 50)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "surveys/roster_index.html", {"page": page})


@staff_required
def roster(request: HttpRequest, branch_pk: int) -> HttpResponse:
    branch = members.branch_get_for_user(user=request.user, pk=branch_pk)
    include_ended = request.GET.get("ended") == "1"
    paginator = BoundedPaginator(
        members.member_list(branch=branch, include_ended=include_ended), 100
    )
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "surveys/roster.html",
        {
            "branch": branch,
            "page": page,
            "active": members.roster_size(branch=branch),
            "include_ended": include_ended,
            "form": MemberForm(),
            "upload_form": RosterUploadForm(),
        },
    )


@staff_required
def member_create(request: HttpRequest, branch_pk: int) -> HttpResponse:
    branch = members.branch_get_for_user(user=request.user, pk=branch_pk)
    form = MemberForm(request.POST or None)
    member = save_form(
        request,
        form,
        lambda: members.member_create(branch=branch, by=request.user, **form.service_kwargs()),
    )
    if member is not None:
        messages.success(request, _("已登记团员 %(name)s。") % {"name": member.name})
        return redirect("surveys:roster", branch_pk=branch.pk)
    return render(
        request,
        "surveys/member_form.html",
        {"branch": branch, "form": form, "member": None},
        status=400 if form.errors else 200,
    )


@staff_required
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = members.member_get_for_user(user=request.user, pk=pk)
    initial = {
        "name": member.name,
        "gender": member.gender,
        "birth_year": member.birth_year,
        "joined_on": member.joined_on,
        "phone": member.phone,
    }
    form = MemberForm(request.POST or None, initial=initial)
    end_form = MemberEndForm(initial={"left_on": timezone.localdate()})
    saved = save_form(
        request,
        form,
        lambda: members.member_update(member=member, by=request.user, **form.service_kwargs()),
    )
    if saved is not None:
        messages.success(request, _("已保存。"))
        return redirect("surveys:roster", branch_pk=member.branch_id)
    return render(
        request,
        "surveys/member_form.html",
        {"branch": member.branch, "form": form, "member": member, "end_form": end_form},
        status=400 if form.errors else 200,
    )


@staff_required
@require_POST
def member_end(request: HttpRequest, pk: int) -> HttpResponse:
    member = members.member_get_for_user(user=request.user, pk=pk)
    form = MemberEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return redirect("surveys:member_edit", pk=member.pk)
    try:
        members.member_end(member=member, left_on=form.cleaned_data["left_on"], by=request.user)
    except ValidationError as exc:
        messages.error(request, service_error_text(exc))
        return redirect("surveys:member_edit", pk=member.pk)
    messages.success(request, _("%(name)s 已移出名册（记录保留）。") % {"name": member.name})
    return redirect("surveys:roster", branch_pk=member.branch_id)


@staff_required
def roster_import(request: HttpRequest, branch_pk: int) -> HttpResponse:
    """Upload a roster file: all rows or none, with a row-by-row report."""
    branch = members.branch_get_for_user(user=request.user, pk=branch_pk)
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            form.add_error("file", _("文件太大：请不超过 10 MB。"))
        else:
            try:
                report = members.roster_import(
                    branch=branch,
                    data=upload.read(),
                    filename=clean_filename(upload.name),
                    by=request.user,
                )
            except (RosterFileError, ValidationError) as exc:
                form.add_error(
                    "file",
                    exc.messages if isinstance(exc, ValidationError) else str(exc),
                )
            else:
                if report.added or (report.known and not report.errors):
                    messages.success(
                        request,
                        _("导入完成：新增 %(n)s 人，%(k)s 人已在名册中。")
                        % {"n": report.added, "k": len(report.known)},
                    )
                    return redirect("surveys:roster", branch_pk=branch.pk)
    return render(
        request,
        "surveys/roster_import.html",
        {
            "branch": branch,
            "form": form,
            "report": report,
            "errors": report.errors[:500] if report else [],
            "headers": members.template_headers(),
        },
        status=400 if (form.errors or (report and report.errors)) else 200,
    )


@staff_required
def slips(request: HttpRequest, pk: int) -> HttpResponse:
    """领票登记: tick who received a code slip (never which slip)."""
    campaign = _campaign_for(request, pk)
    rows = list(members.electors(campaign=campaign))
    error = ""
    if request.method == "POST":
        received = {int(v) for v in request.POST.getlist("member") if v.isdigit()}
        try:
            count = members.slips_register(campaign=campaign, received=received, by=request.user)
        except ValidationError as exc:
            error = service_error_text(exc)
        else:
            messages.success(request, _("领票登记已保存：%(n)s 人已领票。") % {"n": count})
            return redirect("surveys:slips", pk=campaign.pk)
    return render(
        request,
        "surveys/slips.html",
        {
            "campaign": campaign,
            "rows": rows,
            "received": sum(r.slip_received for r in rows),
            "error": error,
            "editable": campaign.status in (Campaign.Status.PLANNED, Campaign.Status.OPEN),
        },
        status=400 if error else 200,
    )
