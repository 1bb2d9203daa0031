"""Pages of the surveys app.

Staff pages (overview, campaign create/detail/edit, codes, close, re-election): staff of an
organisation above the branch; anybody else — including the rated secretary and the branch's own
users — gets 404 (surveys.selectors.campaign_list).

The public voting page writes nothing but the vote itself: no session, no messages, no logging,
no cache entry except a per-address counter of code evaluations (hashed address, no code): it is
counted BEFORE a code is evaluated, so parallel guesses cannot outrun it, and given back when the
code turned out to be a real one (a room of voters behind one address is not blocked).

Settlement (结算): the scrutineers type or scan their share slips on one screen; the key is
rebuilt in memory by surveys.settlement.campaign_settle and never leaves that request.
"""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from cadres.auth import staff_required
from cadres.exports import ScopedExportMixin
from config import ratelimit
from config.forms import run_action, save_form, service_error_text
from config.pagination import BoundedPaginator
from config.qr import qr_data_uri

from . import campaigns, members, sealing, selectors, services, settlement
from .filters import CampaignFilter
from .forms import (
    BallotForm,
    CampaignForm,
    CodeEntryForm,
    ReelectionForm,
    ReelectionResultForm,
    SettleForm,
    SharesLostForm,
)
from .models import Campaign, ReelectionProcedure
from .tables import CampaignOverviewTable

# Code evaluations that found no code, per address, before the voting page refuses for the
# window. A room of voters behind one address is unaffected: real codes are given back.
VOTE_FAILURE_LIMIT = getattr(settings, "SURVEYS_VOTE_FAILURE_LIMIT", 10)
VOTE_FAILURE_WINDOW = getattr(settings, "SURVEYS_VOTE_FAILURE_WINDOW", 15 * 60)  # seconds


def _close_due() -> None:
    """Closing by time also happens on read, so a deployment without beat still closes."""
    if Campaign.objects.filter(closed_at__isnull=True, closes_at__lte=timezone.now()).exists():
        services.close_due_campaigns()


def _qr_data_uri(data: str) -> str:
    import qrcode.constants

    # Medium error correction: slips are printed, folded and handled.
    return qr_data_uri(data, error_correction=qrcode.constants.ERROR_CORRECT_M)


def _campaign_for(request: HttpRequest, pk: int) -> Campaign:
    """The campaign in the user's scope (404 otherwise), its voting ended if its closing time
    has passed: every staff page sees the status the voting page applies (one guard)."""
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk)
    if campaign.status == Campaign.Status.DUE and campaign.voting_closed_at is None:
        services.campaign_close(campaign=campaign, by=None)
        campaign = selectors.campaign_get_for_user(user=request.user, pk=pk)
    return campaign


def _refused(request: HttpRequest, exc: ValidationError, campaign: Campaign) -> HttpResponse:
    """A refused POST action: the service's message on the campaign page."""
    messages.error(request, service_error_text(exc))
    return redirect("surveys:campaign_detail", pk=campaign.pk)


# --- Staff pages -------------------------------------------------------------------------------


@method_decorator(staff_required, name="dispatch")
class OverviewView(ScopedExportMixin, SingleTableMixin, FilterView):
    table_class = CampaignOverviewTable
    filterset_class = CampaignFilter
    template_name = "surveys/overview.html"
    export_formats = ("csv", "xlsx")
    table_pagination = {"per_page": 50, "paginator_class": BoundedPaginator}

    def get_queryset(self):
        return selectors.campaign_overview(user=self.request.user)

    def get(self, request, *args, **kwargs):
        _close_due()
        return super().get(request, *args, **kwargs)

    def get_export_filename(self, export_format):
        return f"satisfaction-{self.filterset.selected_year}.{export_format}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        year = self.filterset.selected_year
        rows = list(context["table"].data)
        context.update(
            year=year,
            summary=selectors.overview_summary(rows),
            not_evaluated=selectors.branches_not_evaluated(user=self.request.user, year=year),
            reelections=selectors.reelections_open(user=self.request.user),
        )
        return context


@staff_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    branches = selectors.branch_choices(user=request.user)
    initial = {}
    if request.GET.get("branch", "").isdigit():
        initial["branch"] = int(request.GET["branch"])
        branch = branches.filter(pk=initial["branch"]).first()
        if branch is not None:
            initial["electorate"] = members.roster_size(branch=branch) or None
    form = CampaignForm(request.POST or None, branches=branches, initial=initial)
    created = save_form(
        request,
        form,
        lambda: campaigns.campaign_create(
            branch=form.cleaned_data["branch"],
            secretary=form.cleaned_data["secretary"],
            year=form.cleaned_data["year"],
            by=request.user,
            **form.service_kwargs(),
        ),
    )
    if created is not None:
        messages.success(request, _("测评已创建。下一步：生成投票码。"))
        return redirect("surveys:campaign_detail", pk=created.pk)
    return render(request, "surveys/campaign_form.html", {"form": form, "campaign": None})


@staff_required
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_for(request, pk)
    if campaign.status != Campaign.Status.PLANNED:
        messages.error(request, _("测评已经开始，不能再修改设置。"))
        return redirect("surveys:campaign_detail", pk=campaign.pk)
    initial = {
        "branch": campaign.branch_id,
        "secretary": campaign.secretary_id,
        "year": campaign.year,
        "electorate": campaign.electorate,
        "opens_at": timezone.localtime(campaign.opens_at).strftime("%Y-%m-%dT%H:%M"),
        "closes_at": timezone.localtime(campaign.closes_at).strftime("%Y-%m-%dT%H:%M"),
        "aspects": "\n".join(campaign.aspects),
        "allow_comment": campaign.allow_comment,
        "quorum": f"{campaign.quorum_num}/{campaign.quorum_den}",
        "not_satisfied": f"{campaign.not_satisfied_num}/{campaign.not_satisfied_den}",
        "min_ballots_shown": campaign.min_ballots_shown,
        "shares": f"{campaign.share_threshold}/{campaign.share_count}",
    }
    form = CampaignForm(
        request.POST or None,
        branches=selectors.branch_choices(user=request.user),
        initial=initial,
        editing=True,
        sealed=campaign.is_sealed,
    )
    saved = save_form(
        request,
        form,
        lambda: campaigns.campaign_update(
            campaign=campaign, by=request.user, **form.service_kwargs()
        ),
    )
    if saved is not None:
        messages.success(request, _("测评设置已保存。"))
        return redirect("surveys:campaign_detail", pk=campaign.pk)
    return render(request, "surveys/campaign_form.html", {"form": form, "campaign": campaign})


@staff_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _campaign_for(request, pk))


def _detail(request: HttpRequest, campaign: Campaign, status: int = 200, **forms) -> HttpResponse:
    integrity = selectors.campaign_integrity(campaign=campaign)
    reelection = (
        ReelectionProcedure.objects.filter(campaign=campaign)
        .select_related("new_secretary")
        .first()
    )
    context = {
        "campaign": campaign,
        "status": campaign.status,
        "integrity": integrity,
        "turnout": integrity["used"],
        "comments": selectors.campaign_comments(campaign=campaign),
        "reelection": reelection,
        "reelection_form": ReelectionForm(
            initial={"status": reelection.status, "notes": reelection.notes}
        )
        if reelection
        else None,
        "reelection_result_form": forms.get("reelection_result_form")
        or (
            ReelectionResultForm(
                branch=campaign.branch,
                rated=campaign.secretary,
                initial={"elected_on": timezone.localdate()},
            )
            if reelection and reelection.new_secretary_id is None
            else None
        ),
        "roster_size": members.roster_size(branch=campaign.branch),
        "vote_url": request.build_absolute_uri(reverse("surveys:vote")),
        "receipts_url": request.build_absolute_uri(
            reverse("surveys:receipts", args=[campaign.public_id])
        ),
        "shares_lost_form": SharesLostForm(initial={"lost": campaign.shares_lost}),
    }
    return render(request, "surveys/campaign_detail.html", context, status=status)


@staff_required
@require_POST
def ballot_box_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Open the ballot box and show the scrutineers' share slips ONCE (QR + code, printable)."""
    campaign = _campaign_for(request, pk)
    try:
        shares = services.ballot_box_open(campaign=campaign, by=request.user)
    except ValidationError as exc:
        return _refused(request, exc, campaign)
    campaign.refresh_from_db()
    slips = [{"n": n, "code": code, "qr": _qr_data_uri(code)} for n, code in enumerate(shares, 1)]
    response = render(request, "surveys/share_slips.html", {"campaign": campaign, "slips": slips})
    response["Cache-Control"] = "no-store"
    return response


@staff_required
def campaign_settle(request: HttpRequest, pk: int) -> HttpResponse:
    """结算: the scrutineers enter their shares on this one screen; all or nothing."""
    campaign = _campaign_for(request, pk)
    form = SettleForm(request.POST or None, campaign=campaign)
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            campaign = settlement.campaign_settle(
                campaign=campaign, shares=form.shares(), by=request.user
            )
        except ValidationError as exc:
            error = service_error_text(exc)
        else:
            messages.success(
                request,
                _("结算完成，结果：%(o)s。密文已删除，请监票人销毁份额票签。")
                % {"o": campaign.get_outcome_display()},
            )
            return redirect("surveys:campaign_detail", pk=campaign.pk)
    # Never echo a share back: a failed attempt shows empty fields.
    if request.method == "POST":
        form = SettleForm(campaign=campaign)
    response = render(
        request,
        "surveys/settle.html",
        {"campaign": campaign, "form": form, "error": error, "status": campaign.status},
        status=400 if error else 200,
    )
    response["Cache-Control"] = "no-store"
    return response


@staff_required
@require_POST
def shares_lost(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_for(request, pk)
    form = SharesLostForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写 0 到 9 之间的整数。"))
        return redirect("surveys:campaign_detail", pk=campaign.pk)
    run_action(
        request,
        lambda: services.shares_lost_report(
            campaign=campaign, lost=form.cleaned_data["lost"], by=request.user
        ),
        _("已登记遗失份额数。"),
    )
    return redirect("surveys:campaign_detail", pk=campaign.pk)


@staff_required
@require_POST
def codes_generate(request: HttpRequest, pk: int) -> HttpResponse:
    """Generate the codes and show them ONCE: printable slips with QR codes and, in the same
    response, the list as a CSV download (a data: link). The server keeps only hashes."""
    campaign = _campaign_for(request, pk)
    try:
        codes = services.codes_generate(campaign=campaign, by=request.user)
    except ValidationError as exc:
        return _refused(request, exc, campaign)
    vote_url = request.build_absolute_uri(reverse("surveys:vote"))
    slips = [
        {"code": code, "qr": _qr_data_uri(f"{vote_url}?code={code}"), "n": n}
        for n, code in enumerate(codes, start=1)
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("序号"), _("投票码"), _("投票网址")])
    for slip in slips:
        writer.writerow([slip["n"], slip["code"], f"{vote_url}?code={slip['code']}"])
    csv_href = "data:text/csv;charset=utf-8," + quote("\ufeff" + buffer.getvalue())
    response = render(
        request,
        "surveys/code_slips.html",
        {"campaign": campaign, "slips": slips, "csv_href": csv_href, "vote_url": vote_url},
    )
    response["Cache-Control"] = "no-store"
    return response


@staff_required
@require_POST
def campaign_close(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_for(request, pk)
    run_action(
        request,
        lambda: services.campaign_close(campaign=campaign, by=request.user),
        _("投票已结束。请监票人到场输入份额进行结算。"),
    )
    return redirect("surveys:campaign_detail", pk=campaign.pk)


@staff_required
@require_POST
def campaign_delete(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_for(request, pk)
    try:
        campaigns.campaign_delete(campaign=campaign, by=request.user)
    except ValidationError as exc:
        return _refused(request, exc, campaign)
    messages.success(request, _("测评已删除。"))
    return redirect("surveys:overview")


@staff_required
@require_POST
def reelection_update(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_for(request, pk)
    procedure = ReelectionProcedure.objects.filter(campaign=campaign).first()
    if procedure is None:
        messages.error(request, _("该测评没有改选程序。"))
        return redirect("surveys:campaign_detail", pk=campaign.pk)
    form = ReelectionForm(request.POST)
    if form.is_valid():
        settlement.reelection_update(
            procedure=procedure,
            status=form.cleaned_data["status"],
            notes=form.cleaned_data["notes"],
            by=request.user,
        )
        messages.success(request, _("改选进度已更新。"))
    else:
        messages.error(request, _("请选择改选进度。"))
    return redirect("surveys:campaign_detail", pk=campaign.pk)


@staff_required
@require_POST
def reelection_result(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the re-election's result: the branch's secretary changes in the registry."""
    campaign = _campaign_for(request, pk)
    procedure = ReelectionProcedure.objects.filter(campaign=campaign).first()
    if procedure is None:
        messages.error(request, _("该测评没有改选程序。"))
        return redirect("surveys:campaign_detail", pk=campaign.pk)
    form = ReelectionResultForm(request.POST, branch=campaign.branch, rated=campaign.secretary)
    recorded = save_form(
        request,
        form,
        lambda: settlement.reelection_result_record(
            procedure=procedure,
            elected_on=form.cleaned_data["elected_on"],
            successor=form.cleaned_data["successor"],
            name=form.cleaned_data["name"],
            gender=form.cleaned_data["gender"],
            phone=form.cleaned_data["phone"],
            by=request.user,
        ),
    )
    if recorded is not None:
        messages.success(
            request,
            _("改选结果已登记：%(name)s 任团支部书记，下次测评将对新任书记进行。")
            % {"name": recorded.new_secretary.name},
        )
        return redirect("surveys:campaign_detail", pk=campaign.pk)
    return _detail(request, campaign, reelection_result_form=form, status=400)


# --- Public pages ------------------------------------------------------------------------------


VOTE_SCOPE = "surveys-vote-guess"


def _is_blocked(request: HttpRequest) -> bool:
    # The limiter keeps only a keyed hash of the address: never a code, never an answer.
    return ratelimit.is_limited(request, VOTE_SCOPE, limit=VOTE_FAILURE_LIMIT)


def _claim_evaluation(request: HttpRequest) -> bool:
    """Count one code evaluation BEFORE it happens (an atomic increment) and say whether it may
    go ahead: 60 parallel wrong codes get at most VOTE_FAILURE_LIMIT evaluations, not as many
    as slip between a check and a later count."""
    return not ratelimit.hit(
        request, VOTE_SCOPE, limit=VOTE_FAILURE_LIMIT, window=VOTE_FAILURE_WINDOW
    )


def _settle_evaluation(request: HttpRequest, exc: services.VoteError | None) -> None:
    """Give the claimed evaluation back unless it was a guess (an unknown code)."""
    if exc is None or not exc.counts_as_guess:
        ratelimit.release(request, VOTE_SCOPE)


def _too_many(request: HttpRequest) -> HttpResponse:
    return _entry(
        request,
        CodeEntryForm(),
        _("尝试次数过多，请 %(m)s 分钟后再试。如果投票码无法使用，请联系发放投票码的工作人员。")
        % {"m": VOTE_FAILURE_WINDOW // 60},
        status=429,
    )


def _private(response: HttpResponse) -> HttpResponse:
    """Voting responses: never cached, never leaking the URL (with a code) as a Referer: only the
    origin is sent (no-referrer would make browsers send "Origin: null" and fail CSRF)."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "strict-origin"
    return response


def _entry(request, form, error: str = "", status: int = 200) -> HttpResponse:
    return _private(
        render(request, "surveys/vote_entry.html", {"form": form, "error": error}, status=status)
    )


def vote(request: HttpRequest) -> HttpResponse:
    """Public voting page: enter (POST) or scan (GET ?code=…) a code, answer, submit."""
    if _is_blocked(request):
        return _too_many(request)
    if request.method == "POST" and request.POST.get("step") == "cast":
        return _vote_cast(request)
    raw = request.POST.get("code") if request.method == "POST" else request.GET.get("code")
    if raw is None:
        return _entry(request, CodeEntryForm())
    entry = CodeEntryForm({"code": raw})
    if not _claim_evaluation(request):
        return _too_many(request)
    try:
        check = services.code_check(code=raw)
    except services.VoteError as exc:
        _settle_evaluation(request, exc)
        return _entry(request, entry, exc.message)
    _settle_evaluation(request, None)
    form = BallotForm(
        campaign=check.campaign,
        initial={
            "code": services.format_code(services.normalise_code(raw)),
            "campaign": check.campaign.pk,
        },
    )
    return _ballot(request, form, check.campaign)


def _ballot(request, form, campaign, error: str = "") -> HttpResponse:
    return _private(
        render(
            request,
            "surveys/vote_ballot.html",
            {"form": form, "campaign": campaign, "error": error},
        )
    )


def _vote_cast(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("code", "")
    if not _claim_evaluation(request):
        return _too_many(request)
    try:
        check = services.code_check(code=raw)
    except services.VoteError as exc:
        _settle_evaluation(request, exc)
        return _entry(request, CodeEntryForm({"code": raw}), exc.message)
    # The code exists: give the claim back now; ballot_cast re-checks it under a row lock.
    _settle_evaluation(request, None)
    if request.POST.get("campaign") != str(check.campaign.pk):
        return _entry(
            request,
            CodeEntryForm({"code": raw}),
            _("该投票码不属于本次测评，请使用本支部发放的投票码。"),
        )
    form = BallotForm(request.POST, campaign=check.campaign)
    if not form.is_valid():
        return _ballot(request, form, check.campaign, _("还有题目没有作答，请补充后再提交。"))
    try:
        receipt = services.ballot_cast(
            code=form.cleaned_data["code"],
            campaign_id=form.cleaned_data["campaign"],
            **form.answers(),
        )
    except services.VoteError as exc:
        return _entry(request, CodeEntryForm(), exc.message)
    return _private(
        render(
            request,
            "surveys/vote_done.html",
            {
                "receipt": receipt,
                "campaign": check.campaign,
                "receipts_url": reverse("surveys:receipts", args=[check.campaign.public_id]),
            },
        )
    )


def receipts(request: HttpRequest, public_id) -> HttpResponse:
    """The published receipts of a campaign (public; after settlement; no answers): the hashes
    of the ciphertexts counted. ?r=… checks one receipt (typed as the voter copied it)."""
    _close_due()
    campaign, codes = selectors.published_receipts(public_id=public_id)
    query = request.GET.get("r", "")[:100]
    check = None
    if query.strip() and campaign.closed_at is not None:
        wanted = sealing.normalise_symbols(query)
        check = any(sealing.normalise_symbols(c) == wanted for c in codes)
    return render(
        request,
        "surveys/receipts.html",
        {
            "campaign": campaign,
            "receipts": codes,
            "closed": campaign.closed_at is not None,
            "query": query,
            "check": check,
        },
    )


overview = OverviewView.as_view()
