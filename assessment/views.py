"""Pages of the assessment app. Thin: resolve in scope → form → service/selector → render.

No public ranking (MISSION.md, "No formalism"): a cadre sees only their own score; rankings,
flags, cases and bulletins are for supervising staff of the subtree."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin

from cadres.auth import staff_required
from cadres.exports import EscapingTableExport, ScopedExportMixin, export_log_create
from cadres.models import Cadre, Organisation, Youth
from cadres.selectors import get_in_scope_or_404, in_subtree, user_cadre
from config import ratelimit
from config.forms import save_form, service_error_text
from config.pagination import BoundedPaginator
from contacts.models import Contact

from . import freshness, integrity, selectors, services, supervision
from .editions import EDITIONS, SUPERVISORS, css_string, edition_from
from .exports import bulletin_xlsx
from .filters import ScoreFilter
from .forms import (
    CaseCloseForm,
    CaseStepForm,
    IntegrityReviewForm,
    PolicyForm,
    ReviewForm,
    ScopeForm,
)
from .models import Flag, IntegrityFinding, SupervisionCase
from .periods import parse_period, period_containing, recent_quarters
from .tables import EligibilityTable, ScoreTable


def _scope(request: HttpRequest, kinds=("quarter", "half", "year"), default_kind="quarter"):
    """The organisation (in scope, default: the user's own) and period of a staff page."""
    form = ScopeForm(request.GET or None, user=request.user, kinds=kinds)
    organisation = request.user.organisation
    today = timezone.localdate()
    period = period_containing(today, kind=default_kind)
    if form.is_bound and form.is_valid():
        organisation = form.cleaned_data["organisation"] or organisation
        period = form.cleaned_data["period"] or period
    if organisation is None:  # a superuser without an organisation: the root
        organisation = Organisation.objects.order_by("path").first()
    if organisation is None:
        raise Http404
    if not form.is_bound:
        form = ScopeForm(
            initial={"organisation": organisation, "period": period.code},
            user=request.user,
            kinds=kinds,
        )
    return form, organisation, period


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """/assessment/: the committee's dashboard for staff, the cadre's own score for a cadre."""
    if not request.user.sees_subtree:
        cadre = user_cadre(request.user)
        if cadre is None:
            raise Http404
        return _cadre_page(request, cadre, own=True)
    form, organisation, period = _scope(request)
    user = request.user  # the dashboard shows no work plans: not read (selectors.overview)
    ov = selectors.overview(user=user, organisation=organisation, period=period, plans=False)
    flags = list(selectors.open_flags(user=user, organisation=organisation)[:10])
    return render(
        request,
        "assessment/dashboard.html",
        {
            "form": form,
            "ov": ov,
            "flags": flags,
            "quarters": recent_quarters(timezone.localdate(), 6),
            "is_committee": selectors.is_committee(user),
            "fresh": freshness.freshness_for(period=period.code, run=ov.run),
        },
    )


def _cadre_page(request, cadre: Cadre, *, own: bool) -> HttpResponse:
    scores = selectors.cadre_scores(cadre=cadre)
    views = [selectors.score_view(s) for s in scores]
    context = {"cadre": cadre, "views": views, "own": own}
    if not own:
        context["flags"] = Flag.objects.filter(cadre=cadre).order_by("-opened_at")[:5]
        context["cases"] = SupervisionCase.objects.filter(cadre=cadre).order_by("-opened_at")
    return render(request, "assessment/cadre_score.html", context)


@staff_required
def cadre_score(request: HttpRequest, pk: int) -> HttpResponse:
    cadre = get_in_scope_or_404(
        Cadre.objects.select_related("organisation"), user=request.user, pk=pk
    )
    return _cadre_page(request, cadre, own=False)


class ScoreListView(ScopedExportMixin, SingleTableMixin, FilterView):
    """Cadres of the subtree ranked by score: supervising staff only."""

    table_class = ScoreTable
    template_name = "assessment/score_list.html"
    # Paginated once, by the table (a FilterView paginate_by would COUNT the list again).
    table_pagination = {"per_page": 50, "paginator_class": BoundedPaginator}
    export_name = "scores"
    export_formats = ("csv", "xlsx")
    filterset_class = ScoreFilter

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated or not request.user.sees_subtree:
            raise Http404
        self.form, self.organisation, self.period = _scope(request)
        self.run = selectors.run_for(self.period)
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        scores = selectors.score_list(user=self.request.user, run=self.run)
        return in_subtree(scores, organisation=self.organisation).order_by("-score", "cadre_id")

    def get_export_filename(self, export_format):
        return f"lianqing-scores-{self.period.code}.{export_format}"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            scope_form=self.form,
            period=self.period,
            run=self.run,
            fresh=freshness.freshness_for(period=self.period.code, run=self.run),
        )
        return context


score_list = ScoreListView.as_view()


@staff_required
def flag_list(request: HttpRequest) -> HttpResponse:
    form, organisation, _period = _scope(request)
    return render(
        request,
        "assessment/flag_list.html",
        {
            "form": form,
            "flags": selectors.open_flags(user=request.user, organisation=organisation)[:200],
            "cases": selectors.case_list(user=request.user, organisation=organisation)[:200],
        },
    )


@staff_required
@require_POST
def case_open(request: HttpRequest, flag_pk: int) -> HttpResponse:
    flag = get_in_scope_or_404(Flag.objects.all(), user=request.user, pk=flag_pk)
    try:
        case = supervision.case_open(flag=flag, by=request.user)
    except ValidationError as exc:
        messages.error(request, service_error_text(exc))
        return redirect("assessment:flags")
    return redirect("assessment:case", pk=case.pk)


def _get_case_for_user(request, pk) -> SupervisionCase:
    return get_in_scope_or_404(
        SupervisionCase.objects.select_related("cadre", "organisation", "flag"),
        user=request.user,
        pk=pk,
    )


@staff_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _get_case_for_user(request, pk)
    steps = list(case.steps.select_related("recorded_by"))
    next_kind = len(steps) + 1 if len(steps) < 3 else None
    step_form = CaseStepForm(request.POST or None, next_kind=next_kind)
    saved = save_form(
        request,
        step_form,
        lambda: supervision.case_step_add(case=case, by=request.user, **step_form.cleaned_data),
    )
    if saved is not None:
        messages.success(request, _("已记录督导措施。"))
        return redirect("assessment:case", pk=case.pk)
    return render(
        request,
        "assessment/case_detail.html",
        {"case": case, "steps": steps, "step_form": step_form, "close_form": CaseCloseForm()},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
@require_POST
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    case = _get_case_for_user(request, pk)
    form = CaseCloseForm(request.POST)
    if form.is_valid():
        try:
            supervision.case_close(
                case=case,
                note=form.cleaned_data["note"],
                recovered=form.cleaned_data["recovered"],
                by=request.user,
            )
            messages.success(request, _("案例已结案。"))
        except ValidationError as exc:
            messages.error(request, service_error_text(exc))
    else:
        messages.error(request, _("请填写结案说明。"))
    return redirect("assessment:case", pk=case.pk)


@staff_required
def bulletin(request: HttpRequest) -> HttpResponse:
    """季度通报 of a subtree and quarter: printable page, or Excel with ?format=xlsx, in the
    edition asked for (?edition=circulated|supervisors, assessment/editions.py)."""
    form, organisation, period = _scope(request, kinds=("quarter",))
    return _report(
        request,
        form,
        organisation,
        period,
        template="assessment/bulletin.html",
        edition=edition_from(request.GET.get("edition")),
    )


@staff_required
def bulletin_print_css(request: HttpRequest) -> HttpResponse:
    """The bulletin's running header for print: organisation and period at the top of every
    page, 内部 on every page of the supervisors' edition. A stylesheet, not an inline <style>
    (the Content Security Policy refuses those), built from the same scope as the page."""
    _form, organisation, period = _scope(request, kinds=("quarter",))
    edition = edition_from(request.GET.get("edition"))
    left = f"{organisation.name} · {period.label}"
    rules = [f"@top-left {{ content: {css_string(left)}; }}"]
    if edition.internal:
        rules.append(f"@top-right {{ content: {css_string(str(_('内部')))}; }}")
    css = "@page {\n  " + "\n  ".join(rules) + "\n}\n"
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@staff_required
def review(request: HttpRequest) -> HttpResponse:
    """Mid-year (2026H1) and year-end (2026) assessment of an organisation, with notes."""
    form, organisation, period = _scope(request, kinds=("half", "year"), default_kind="half")
    if request.method == "POST":
        review_form = ReviewForm(request.POST)
        if review_form.is_valid():
            try:
                supervision.review_save(
                    organisation=organisation,
                    period=period,
                    notes=review_form.cleaned_data["notes"],
                    by=request.user,
                )
            except ValidationError as exc:
                messages.error(request, service_error_text(exc))
            else:
                messages.success(request, _("评估意见已保存。"))
                return redirect(request.get_full_path())
    return _report(request, form, organisation, period, template="assessment/review.html")


def _report(request, form, organisation, period, *, template, edition=SUPERVISORS):
    ov = selectors.overview(user=request.user, organisation=organisation, period=period)
    # What the edition may not show is not even queried (assessment/editions.py).
    ranking = (
        selectors.organisation_ranking(user=request.user, organisation=organisation, run=ov.run)
        if edition.ranking
        else []
    )
    flags: list[Flag] = []
    cases: list[SupervisionCase] = []
    summary = None
    if edition.names:
        flags = list(selectors.open_flags(user=request.user, organisation=organisation)[:100])
        open_cases = selectors.case_list(
            user=request.user, organisation=organisation, open_only=True
        )
        cases = list(open_cases[:100])
    else:
        summary = selectors.flag_summary(user=request.user, organisation=organisation)
    saved = selectors.review_for(user=request.user, organisation=organisation, period=period)
    if request.GET.get("format") == "xlsx":
        fresh = freshness.freshness_for(period=period.code, run=ov.run)
        response = bulletin_xlsx(
            ov, ranking, flags, cases, saved, fresh, edition=edition, summary=summary
        )
        export_log_create(
            user=request.user,
            list_name="bulletin",
            export_format="xlsx",
            querystring=request.GET.urlencode(),
            row_count=len(ranking) + len(flags),
        )
        return response
    return render(
        request,
        template,
        {
            "form": form,
            "ov": ov,
            "ranking": ranking,
            "flags": flags,
            "cases": cases,
            "review": saved,
            "review_form": ReviewForm(initial={"notes": saved.notes if saved else ""}),
            "today": timezone.localdate(),
            "fresh": freshness.freshness_for(period=period.code, run=ov.run),
            "edition": edition,
            "editions": EDITIONS.values(),
            "summary": summary,
        },
    )


@staff_required
def eligibility(request: HttpRequest) -> HttpResponse:
    form, organisation, period = _scope(request, kinds=("year",), default_kind="year")
    run, rows = selectors.eligibility_list(
        user=request.user, year=period.year, organisation=organisation
    )
    table = EligibilityTable(rows)
    RequestConfig(
        request, paginate={"per_page": 100, "paginator_class": BoundedPaginator}
    ).configure(table)
    export = request.GET.get("_export")
    if export in ("csv", "xlsx"):
        exporter = EscapingTableExport(export, table)
        export_log_create(
            user=request.user,
            list_name="eligibility",
            export_format=export,
            querystring=request.GET.urlencode(),
            row_count=len(exporter.dataset),
        )
        return exporter.response(f"lianqing-eligibility-{period.year}.{export}")
    n_ok = sum(1 for r in rows if r.eligible)
    return render(
        request,
        "assessment/eligibility.html",
        {
            "form": form,
            "table": table,
            "run": run,
            "period": period,
            "n_ok": n_ok,
            "n": len(rows),
            "as_of": selectors.eligibility_as_of(period.year),
            "year_over": period.is_closed(timezone.localdate()),
            "fresh": freshness.freshness_for(period=period.code, run=run),
        },
    )


@staff_required
def policy(request: HttpRequest) -> HttpResponse:
    current = services.policy_current()
    can_edit = selectors.is_committee(request.user)
    if request.method == "POST":
        if not can_edit:
            raise Http404
        form = PolicyForm(request.POST)
        if form.is_valid():
            new = services.policy_create(
                values=form.values(), note=form.cleaned_data["note"], by=request.user
            )
            messages.success(
                request, _("已保存为第 %(v)s 版规则；此后的计算使用新版本。") % {"v": new.version}
            )
            return redirect("assessment:policy")
    else:
        form = PolicyForm(instance=current, initial={"note": ""})
    return render(
        request,
        "assessment/policy.html",
        {
            "form": form,
            "current": current,
            "versions": selectors.policy_list()[:20],
            "can_edit": can_edit,
        },
        status=400 if request.method == "POST" else 200,
    )


# "重新计算": at most this many presses per address a minute; each is one queued run anyway.
RECOMPUTE_LIMIT = 3


@staff_required
@require_POST
def compute(request: HttpRequest) -> HttpResponse:
    """Staff's "重新计算" of a period: queued (coalesced with pending changes), never a second
    concurrent run; the page then shows "计算中…" and the new 统计时间."""
    back = reverse("assessment:dashboard")
    if ratelimit.hit(request, "recompute", limit=RECOMPUTE_LIMIT, window=60):
        messages.error(request, _("重新计算请求太频繁，请一分钟后再试。"))
        return redirect(back)
    try:
        message = freshness.request_recompute(period=request.POST.get("period", ""))
    except ValidationError as exc:
        messages.error(request, service_error_text(exc))
    else:
        messages.success(request, message)
    code = request.POST.get("period", "")
    next_url = request.POST.get("next", "")
    if next_url.startswith("/assessment/") and "//" not in next_url:
        return redirect(next_url)
    if code and code.isalnum() and len(code) <= 7:
        return redirect(f"{back}?period={code}")
    return redirect(back)


@staff_required
def freshness_status(request: HttpRequest) -> JsonResponse:
    """When a period's numbers were computed and whether a run is pending: polled by the
    pages' 统计时间 note (static assessment/freshness.js)."""
    try:
        period = parse_period(request.GET.get("period", ""))
    except ValidationError as exc:
        return JsonResponse({"error": service_error_text(exc)}, status=400)
    fresh = freshness.freshness_for(period=period.code, run=selectors.run_for(period))
    return JsonResponse(fresh.as_json())


# --- Integrity (padding detection): supervisors only, never on cadre pages or rankings ---------

INTEGRITY_PER_PAGE = 20


def _signal_rows(signals: list[dict]) -> list[dict]:
    return [
        {
            **s,
            "label": integrity.LABELS.get(s.get("code"), s.get("code")),
            "text": integrity.describe(s),
        }
        for s in signals
    ]


@staff_required
def integrity_list(request: HttpRequest) -> HttpResponse:
    """/assessment/integrity/: cadres whose logs show signs of padding in a quarter, with their
    signals and the newest verification. Reads stored findings (computed with the scores)."""
    form, organisation, period = _scope(request, kinds=("quarter",))
    run = selectors.run_for(period)
    findings = selectors.integrity_findings(user=request.user, run=run, organisation=organisation)
    paginator = BoundedPaginator(findings, INTEGRITY_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    rows = [{"f": f, "signals": _signal_rows(f.signals)} for f in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "assessment/integrity_list.html",
        {
            "form": form,
            "period": period,
            "organisation": organisation,
            "run": run,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "outcomes": dict(IntegrityReviewForm.base_fields["outcome"].choices),
        },
    )


@staff_required
def integrity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One finding: the signals with their evidence (the contacts and youths concerned), the
    verification history and the form to record an outcome (属实 can open a supervision case)."""
    finding = get_in_scope_or_404(
        IntegrityFinding.objects.select_related("cadre", "organisation", "run"),
        user=request.user,
        pk=pk,
    )
    form = IntegrityReviewForm(request.POST or None)
    review = save_form(
        request,
        form,
        lambda: supervision.integrity_review_record(
            finding=finding,
            outcome=form.cleaned_data["outcome"],
            note=form.cleaned_data["note"],
            open_case=form.cleaned_data["open_case"],
            by=request.user,
        ),
    )
    if review is not None:
        messages.success(request, _("核实结果已记录。"))
        if review.case_id:
            return redirect("assessment:case", pk=review.case_id)
        return redirect("assessment:integrity_detail", pk=finding.pk)
    contact_ids = {i for s in finding.signals for i in s.get("contacts", [])}
    youth_ids = {i for s in finding.signals for i in s.get("youths", [])}
    contacts = {
        c.pk: c
        for c in Contact.objects.filter(cadre_id=finding.cadre_id, pk__in=contact_ids).only(
            "id", "date", "channel", "topic", "created_at", "is_deleted"
        )
    }
    youths = {y.pk: y for y in Youth.objects.filter(pk__in=youth_ids).only("id", "name", "phone")}
    for y in youths.values():
        # Enough of the number to see a pattern (shared, sequential), not to call it from here.
        y.masked_phone = f"{y.phone[:3]}****{y.phone[-4:]}" if len(y.phone) >= 8 else y.phone
    signals = [
        {
            **s,
            "evidence_contacts": [contacts[i] for i in s.get("contacts", []) if i in contacts],
            "evidence_youths": [youths[i] for i in s.get("youths", []) if i in youths],
        }
        for s in _signal_rows(finding.signals)
    ]
    return render(
        request,
        "assessment/integrity_detail.html",
        {
            "finding": finding,
            "signals": signals,
            "reviews": list(selectors.integrity_reviews(finding=finding)),
            "form": form,
        },
    )


# --- Reminders (/notifications/) ------------------------------------------------------------

NOTIFICATIONS_PER_PAGE = 20


@login_required
def notification_centre(request: HttpRequest) -> HttpResponse:
    """The user's own reminders, unread first; each links to what it is about."""
    from .reminders import describe, notification_url

    today = timezone.localdate()
    paginator = BoundedPaginator(
        selectors.notification_list(user=request.user), NOTIFICATIONS_PER_PAGE
    )
    page = paginator.get_page(request.GET.get("page"))
    for n in page:
        n.url = notification_url(n)
        n.text = describe(n, today)
    return render(request, "assessment/notifications.html", {"page": page, "today": today})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    if not selectors.notification_list(user=request.user).filter(pk=pk).exists():
        raise Http404
    services.notification_mark_read(user=request.user, notification_id=pk)
    return redirect("notifications:centre")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    services.notification_mark_read(user=request.user)
    messages.success(request, _("已全部标为已读。"))
    return redirect("notifications:centre")


@login_required
def notification_settings(request: HttpRequest) -> HttpResponse:
    from .forms import NotificationPreferenceForm

    preference = selectors.notification_preference(user=request.user)
    form = NotificationPreferenceForm(request.POST or None, instance=preference, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.notification_preference_save(user=request.user, values=form.cleaned_data)
        messages.success(request, _("提醒设置已保存。"))
        return redirect("notifications:settings")
    return render(
        request,
        "assessment/notification_settings.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )
