"""Reads of the assessment app shared by views, exports, panels and tasks.

Every read goes through cadres.selectors.scope_queryset (narrowed to a chosen organisation
with cadres.selectors.in_subtree). Dashboards and bulletins read stored
scores and the stored weekly channel statistics of a run, never the contact tables: a constant
number of queries whatever the size of the subtree.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from cadres.models import Cadre, Organisation, User
from cadres.quota import quota_met, quota_met_q
from cadres.selectors import in_subtree, is_programme_committee, scope_queryset
from contacts.models import Channel

from . import scoring, sentences, sources
from .flag_stats import open_flag_counts
from .models import (
    CadreScore,
    Flag,
    IntegrityFinding,
    IntegrityReview,
    Notification,
    NotificationPreference,
    OrganisationReview,
    ScoreRun,
    ScoringPolicy,
    SubtreeScoreStat,
    SupervisionCase,
)
from .periods import Period
from .subtree_stats import (
    QUOTA_BUCKETS,
    SCORE_BUCKETS,
    score_aggregates,
    subtree_scores,
    subtree_weeks,
)


def is_committee(user: User) -> bool:
    """Who may change the scoring policy and start a computation: the programme's committee
    (cadres.selectors.is_programme_committee), since both affect every cadre."""
    return is_programme_committee(user)


def run_for(period: Period | str) -> ScoreRun | None:
    """The run of a period under the newest policy version that has one."""
    code = period if isinstance(period, str) else period.code
    return (
        ScoreRun.objects.select_related("policy")
        .filter(period=code)
        .order_by("-policy__version")
        .first()
    )


def policy_list() -> QuerySet[ScoringPolicy]:
    return ScoringPolicy.objects.select_related("created_by").order_by("-version")


def score_list(*, user: User, run: ScoreRun | None) -> QuerySet[CadreScore]:
    qs = CadreScore.objects.filter(run=run) if run else CadreScore.objects.none()
    return scope_queryset(
        qs.select_related("cadre", "organisation"), user=user, cadre_field="cadre"
    )


def cadre_scores(*, cadre: Cadre) -> list[CadreScore]:
    rows = CadreScore.objects.filter(cadre=cadre).select_related("policy", "run")
    rows = rows.order_by("-period", "-policy__version")
    seen, out = set(), []
    for row in rows:
        if row.period not in seen:
            seen.add(row.period)
            out.append(row)
    return out


@dataclass
class ScoreView:
    score: CadreScore
    lines: list
    steps: list
    label: str


def score_view(score: CadreScore) -> ScoreView:
    from .periods import parse_period

    period = parse_period(score.period, allow_future=True)
    label = {"quarter": "本季度", "half": "本半年", "year": "本年度"}[period.kind]
    weights = score.policy.weights()
    return ScoreView(
        score=score,
        lines=scoring.explain(score, weights, label),
        steps=scoring.next_steps(score, weights),
        label=period.label,
    )


def open_flags(*, user: User, organisation: Organisation | None = None) -> QuerySet[Flag]:
    qs = Flag.objects.filter(resolved_at__isnull=True).select_related("cadre", "organisation")
    qs = scope_queryset(qs, user=user, cadre_field=None)
    if organisation is not None:
        qs = in_subtree(qs, organisation=organisation)
    return qs.order_by("organisation__path", "id")


@dataclass
class FlagSummary:
    """Open flags and cases of a subtree as counts, for the circulated bulletin (no names)."""

    n_flagged: int
    by_reason: list[tuple[str, int]]  # (label, cadres flagged for it), in REASON_LABELS order
    n_cases: int


def flag_summary(*, user: User, organisation: Organisation) -> FlagSummary:
    """Two queries: the subtree's stored open-flag counts (assessment/flag_stats.py) and the
    open cases. A cadre flagged for two reasons counts once in n_flagged and once under each
    reason."""
    n_flagged, counts = open_flag_counts(user=user, organisation=organisation)
    n_cases = case_list(user=user, organisation=organisation, open_only=True).count()
    by_reason = [(str(scoring.REASON_LABELS[code]), n) for code, n in counts.items() if n]
    return FlagSummary(n_flagged=n_flagged, by_reason=by_reason, n_cases=n_cases)


def case_list(
    *, user: User, organisation: Organisation | None = None, open_only: bool = False
) -> QuerySet[SupervisionCase]:
    qs = SupervisionCase.objects.select_related("cadre", "organisation").annotate(
        n_steps=Count("steps")
    )
    qs = scope_queryset(qs, user=user, cadre_field=None)
    if organisation is not None:
        qs = in_subtree(qs, organisation=organisation)
    if open_only:
        qs = qs.filter(status=SupervisionCase.Status.OPEN)
    return qs.order_by("-opened_at")


@dataclass
class Overview:
    """What the dashboard and the bulletin show for an organisation subtree and a period."""

    period: Period
    organisation: Organisation
    run: ScoreRun | None
    totals: dict = field(default_factory=dict)
    quota_buckets: list = field(default_factory=list)
    score_buckets: list = field(default_factory=list)
    sectors: list = field(default_factory=list)
    weeks: list = field(default_factory=list)
    channel_names: list = field(default_factory=list)
    channel_totals: list = field(default_factory=list)
    activities: sources.SourceResult | None = None
    # Work-plan completion of the subtree for the period's year, as of its last counted day.
    plans: sources.SourceResult | None = None

    @property
    def weeks_chart(self) -> dict:
        return {"weeks": self.weeks, "channels": self.channel_names}

    @property
    def has_data(self) -> bool:
        return bool(self.run and self.totals.get("n"))

    @property
    def sentences(self) -> sentences.ReportSentences | None:
        """The report's sentences (assessment/sentences.py), once the period is computed."""
        if self.run is None:
            return None
        return sentences.report_sentences(
            label=self.period.label,
            start=self.period.start,
            as_of=self.run.as_of,
            totals=self.totals,
        )


def _pct(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def overview(
    *, user: User, organisation: Organisation, period: Period, plans: bool = True
) -> Overview:
    """Four queries on stored rows (run, aggregate, field distribution, weekly channels), plus
    whatever the activities adapter needs, and the plans adapter unless `plans=False` (the
    dashboard, which does not show them: a row per organisation of the subtree, 2,513 for a
    province)."""
    run = run_for(period)
    ov = Overview(period=period, organisation=organisation, run=run)
    if plans:
        # Plans do not depend on a score run: shown even before the period is computed.
        ov.plans = sources.plan_completion(
            user=user,
            organisation=organisation,
            year=period.year,
            as_of=run.as_of if run else period.as_of(timezone.localdate()),
        )
    if run is None:
        return ov
    # The subtree's stored figures (assessment/subtree_stats.py, written with the scores): one
    # row instead of aggregating every score of the subtree; aggregated live for a run written
    # before the rollups existed (the same aggregates, score_aggregates).
    stored = subtree_scores(user=user, organisation=organisation, run=run)
    if stored is None:
        scores = in_subtree(score_list(user=user, run=run), organisation=organisation)
        t = scores.aggregate(**score_aggregates(run))
        sectors = list(scores.values_list("sectors").annotate(n=Count("id")).order_by("sectors"))
    else:
        t, sectors = stored
    t = {k: (v or 0) for k, v in t.items()}
    t["avg_score"] = round(float(t["avg_score"]), 1) if t["n"] else None
    t["quota_pct"] = _pct(t["met_quota"], t["n"])
    t["sectors_pct"] = _pct(t["met_sectors"], t["n"])
    t["conversion_pct"] = _pct(t["converted"], t["online"])
    t["on_time_pct"] = _pct(t["needs_on_time_sum"], t["needs_due_sum"])
    t["ballot_none"] = (
        t["secretaries"] - t["ballot_satisfied"] - t["ballot_not"] - t["ballot_invalid"]
    )
    t["ballots_available"] = run.sources.get("ballots") == "ok"
    ov.totals = t
    ov.score_buckets = [
        (f"{lo}–{min(hi, 100)}" if hi < 101 else f"{lo}–100", t[f"s{lo}"])
        for lo, hi in SCORE_BUCKETS
    ]
    ov.score_buckets[-1] = ("80–100", t["s80"])
    ov.quota_buckets = [
        (f"{lo}%–{hi}%" if hi else f"≥{lo}%", t[f"q{lo}"]) for lo, hi in QUOTA_BUCKETS
    ]
    ov.sectors = sectors
    # The subtree's stored sums (assessment/subtree_stats.py): one organisation's rows, not a
    # sum over every organisation of the subtree (~250,000 rows for a province quarter).
    weekly = subtree_weeks(user=user, organisation=organisation, run=run)
    by_week: dict[datetime.date, dict[str, int]] = defaultdict(dict)
    totals: dict[str, int] = defaultdict(int)
    for week, channel, n in weekly:
        by_week[week][channel] = n
        totals[channel] += n
    labels = dict(Channel.choices)
    channels = [c for c in Channel.values if totals.get(c)]
    ov.channel_names = [(c, str(labels[c])) for c in channels]
    ov.weeks = [
        (week.isoformat(), [by_week[week].get(c, 0) for c in channels]) for week in sorted(by_week)
    ]
    ov.channel_totals = [(str(labels[c]), totals[c]) for c in channels]
    ov.activities = sources.activity_totals(
        user=user, organisation=organisation, start=period.start, end=run.as_of
    )
    return ov


def organisation_ranking(
    *, user: User, organisation: Organisation, run: ScoreRun | None
) -> list[dict[str, Any]]:
    """The organisations directly under `organisation` (with their subtrees), ranked by average
    score: for supervising staff only. Two or three queries.

    Each branch's figures are its stored subtree row (SubtreeScoreStat, written with the
    scores from the same aggregates), so a province reads ~12 rows instead of grouping its
    10,000 scores by path prefix on every view; the cadres of `organisation` itself (本级) are
    one aggregate over the run × organisation index. A run without subtree rows for the
    branches (computed before the rollups existed, or no branch has scores) is grouped live."""
    if run is None:
        return []
    branches = _ranking_from_rollups(user=user, organisation=organisation, run=run)
    if branches is None:
        branches = _ranking_live(user=user, organisation=organisation, run=run)
    out = [
        {
            "name": name or f"{organisation.name}（本级）",
            "n": r["n"],
            "avg": round(float(r["avg"]), 1),
            "met_pct": _pct(r["met"], r["n"]),
            "overdue": r["overdue"] or 0,
            "backlog": r["backlog"] or 0,
        }
        for name, r in branches
    ]
    for rank, row in enumerate(out, 1):
        row["rank"] = rank
    return out


_RANK_FIGURES = {"n": "n", "avg": "avg_score", "met": "met_quota"}
_RANK_FIGURES |= {"overdue": "needs_overdue_sum", "backlog": "needs_backlog_sum"}


def _ranking_aggregates() -> dict[str, Any]:
    return {
        "n": Count("id"),
        "avg": Avg("score"),
        "met": Count("id", filter=quota_met_q()),
        "overdue": Sum("needs_overdue"),
        "backlog": Sum("needs_backlog"),
    }


def _ranking_from_rollups(
    *, user: User, organisation: Organisation, run: ScoreRun
) -> list[tuple[str | None, dict[str, Any]]] | None:
    """(branch name or None for 本级, figures) by average score, highest first (ties by path),
    from the children's subtree rows; None when there are none."""
    children = list(
        scope_queryset(
            SubtreeScoreStat.objects.filter(run=run, organisation__parent=organisation), user=user
        ).values_list("organisation__path", "organisation__name", "totals")
    )
    if not children:
        return None
    rows: list[tuple[str, str | None, dict[str, Any]]] = [
        (path, name, {key: totals.get(stored) for key, stored in _RANK_FIGURES.items()})
        for path, name, totals in children
        if totals.get("n")
    ]
    own = scope_queryset(
        CadreScore.objects.filter(run=run, organisation=organisation), user=user
    ).aggregate(**_ranking_aggregates())
    if own["n"]:
        rows.append((organisation.path, None, own))
    rows.sort(key=lambda r: (-float(r[2]["avg"]), r[0]))
    return [(name, figures) for _path, name, figures in rows]


def _ranking_live(
    *, user: User, organisation: Organisation, run: ScoreRun
) -> list[tuple[str | None, dict[str, Any]]]:
    """The same figures grouped from the scores by the first path segment below
    `organisation`."""
    width = len(organisation.path) + 8  # one more path segment: "0000001."
    rows = (
        in_subtree(score_list(user=user, run=run), organisation=organisation)
        .annotate(branch=Substr("organisation__path", 1, width))
        .values("branch")
        .annotate(**_ranking_aggregates())
        .order_by("-avg", "branch")
    )
    branches = list(rows)
    names = dict(
        Organisation.objects.filter(path__in=[r["branch"] for r in branches]).values_list(
            "path", "name"
        )
    )
    return [(names.get(r["branch"]) if len(r["branch"]) == width else None, r) for r in branches]


def review_for(
    *, user: User, organisation: Organisation, period: Period
) -> OrganisationReview | None:
    return (
        scope_queryset(OrganisationReview.objects.all(), user=user)
        .filter(organisation=organisation, period=period.code)
        .first()
    )


@dataclass
class Eligibility:
    score: CadreScore
    reasons: list[str]

    @property
    def eligible(self) -> bool:
        return not self.reasons


def eligibility_as_of(year: int, today: datetime.date | None = None) -> datetime.date:
    """The day eligibility for `year` is decided on: 31 December of that year, or today while
    the year is still running (the page says which)."""
    today = today or timezone.localdate()
    return min(datetime.date(year, 12, 31), today)


def eligibility_list(
    *,
    user: User,
    year: int,
    organisation: Organisation | None = None,
    today: datetime.date | None = None,
) -> tuple[ScoreRun | None, list[Eligibility]]:
    """Cadres who may be nominated as excellent cadres for `year`, and why the others may not:
    quota met (cadres/quota.py: youths and fields) in the stored year score (run `year`, counted
    to 31 December), no supervision case open at the end of 31 December of `year` (a case
    opened later, or closed since, does not change a past year's answer), and a "satisfied"
    ballot of `year` for secretaries. Three queries."""
    run = run_for(str(year))
    if run is None:
        return None, []
    scores = score_list(user=user, run=run)
    if organisation is not None:
        scores = in_subtree(scores, organisation=organisation)
    as_of = eligibility_as_of(year, today)
    # The first instant after the as-of day, local time: cases open then are the ones that count.
    cutoff = timezone.make_aware(
        datetime.datetime.combine(as_of + datetime.timedelta(days=1), datetime.time.min)
    )
    open_cases = set(
        SupervisionCase.objects.filter(opened_at__lt=cutoff)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gte=cutoff))
        .values_list("cadre_id", flat=True)
    )
    ballot_text = {
        "not_satisfied": _("满意度测评结果为“不满意”"),
        "invalid": _("满意度测评无效"),
    }
    out = []
    for s in scores.order_by("organisation__path", "cadre__name", "cadre_id"):
        reasons = []
        if not quota_met(s.linked, s.sectors, s):
            if s.linked < s.quota:
                reasons.append(
                    _("联系青年 %(n)s/%(q)s 名，未达到指标") % {"n": s.linked, "q": s.quota}
                )
            if s.sectors < s.min_sectors:
                reasons.append(
                    _("覆盖领域 %(n)s/%(r)s 个，未达到要求") % {"n": s.sectors, "r": s.min_sectors}
                )
        if s.cadre_id in open_cases:
            reasons.append(_("%(d)s 有未结案的督导（约谈/诫勉）案例") % {"d": as_of.isoformat()})
        if s.is_secretary and s.ballot != "satisfied":
            if run.sources.get("ballots") != "ok":
                reasons.append(_("满意度测评数据尚未接入，无法确认"))
            else:
                reasons.append(ballot_text.get(s.ballot, _("尚无满意度测评结果")))
        out.append(Eligibility(score=s, reasons=reasons))
    return run, out


# --- Integrity (padding detection): supervisors only ---------------------------------------------


def integrity_findings(
    *, user: User, run: ScoreRun | None, organisation: Organisation | None = None
) -> QuerySet[IntegrityFinding]:
    """A run's findings in the user's subtree (a cadre sees none: cadre_field=None), each with
    `outcome` / `reviewed_at`, the newest verification of that cadre and period (subqueries,
    so a page of findings is one query)."""
    if run is None:
        return IntegrityFinding.objects.none()
    latest = IntegrityReview.objects.filter(
        cadre_id=OuterRef("cadre_id"), period=OuterRef("period")
    ).order_by("-recorded_at", "-id")
    qs = (
        IntegrityFinding.objects.filter(run=run)
        .select_related("cadre", "organisation")
        .annotate(
            outcome=Subquery(latest.values("outcome")[:1]),
            reviewed_at=Subquery(latest.values("recorded_at")[:1]),
        )
    )
    qs = scope_queryset(qs, user=user, cadre_field=None)
    if organisation is not None:
        qs = in_subtree(qs, organisation=organisation)
    return qs.order_by("organisation__path", "cadre__name", "id")


def integrity_reviews(*, finding: IntegrityFinding) -> QuerySet[IntegrityReview]:
    """The verification history of a finding's cadre and period, newest first."""
    return IntegrityReview.objects.filter(
        cadre_id=finding.cadre_id, period=finding.period
    ).select_related("recorded_by", "case")


# --- Reminders ------------------------------------------------------------------------------


def notification_list(*, user: User) -> QuerySet[Notification]:
    """The user's own reminders (nobody sees another's), unread first, then by date."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user).order_by(
        F("read_at").desc(nulls_first=True), F("due_on").asc(nulls_last=True), "-id"
    )


def notification_unread_count(*, user: User) -> int:
    """The bell's number: one indexed count (notification_unread_idx)."""
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_preference(*, user: User) -> NotificationPreference:
    """The user's reminder settings; the defaults (all kinds, no e-mail) when never saved."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(
        user=user
    )
