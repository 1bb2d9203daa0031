"""Reads of the surveys app, shared by views, exports, panels, tasks and other apps.

Who may see a campaign (one rule, here): staff of an organisation ABOVE the branch, through the
project's scoping selector — never anybody whose organisation is the branch itself, and never the
rated secretary (by their login), whatever their role. Everybody else gets 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Length
from django.http import Http404

from cadres.models import Organisation, User
from cadres.selectors import organisation_list, scope_queryset

from .models import BallotBox, Campaign, Elector, Outcome, VotingCode
from .sealing import CIPHERTEXT_LENGTH


def campaign_list(*, user: User) -> QuerySet[Campaign]:
    """Campaigns the user may see and manage."""
    qs = scope_queryset(
        Campaign.objects.select_related("branch", "secretary"), user=user, org_field="branch"
    )
    if not user.is_authenticated:
        return qs
    if user.organisation_id is not None:
        qs = qs.exclude(branch_id=user.organisation_id)
    return qs.exclude(secretary__user_id=user.pk)


def campaign_get_for_user(*, user: User, pk: int | str) -> Campaign:
    try:
        return campaign_list(user=user).get(pk=pk)
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def branch_choices(*, user: User) -> QuerySet[Organisation]:
    """Branches the user may run ballots for: in scope, below (not equal to) their organisation."""
    qs = organisation_list(user=user).filter(kind=Organisation.Kind.BRANCH, is_active=True)
    if user.organisation_id is not None:
        qs = qs.exclude(pk=user.organisation_id)
    return qs


def _used_codes_subquery() -> Coalesce:
    """Used codes of the campaign: the length of its box's used-digest set (octet_length reads
    the stored size, not the value), 0 without a box."""
    return Coalesce(
        Subquery(
            BallotBox.objects.filter(campaign=OuterRef("pk")).values(
                n=Length("used") / BallotBox.DIGEST_LENGTH
            ),
            output_field=IntegerField(),
        ),
        Value(0),
    )


def campaign_overview(*, user: User, year: int | None = None) -> QuerySet[Campaign]:
    """The committee's overview rows: one query, with the live turnout (used codes) per row.

    Results (turnout by answer, rate, outcome) exist only on closed campaigns; the templates and
    the table also hide rate and counts below the campaign's small-group threshold.
    """
    qs = campaign_list(user=user).annotate(votes_so_far=_used_codes_subquery())
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("branch__path", "-opens_at")


def branches_not_evaluated(*, user: User, year: int) -> QuerySet[Organisation]:
    """Branches in scope with no campaign (of any state) for the year."""
    has_campaign = Campaign.objects.filter(year=year).values("branch_id")
    return branch_choices(user=user).exclude(pk__in=has_campaign).order_by("path")


def overview_summary(campaigns: Iterable[Campaign]) -> dict:
    """Counts by state and outcome over already-fetched overview rows (no extra query)."""
    summary = {"total": 0, "planned": 0, "open": 0, "closed": 0, "valid": 0}
    summary.update({o.value: 0 for o in Outcome})
    for campaign in campaigns:
        summary["total"] += 1
        status = campaign.status
        if status == Campaign.Status.CLOSED:
            summary["closed"] += 1
            summary[campaign.outcome] += 1
            summary["valid"] += bool(campaign.is_valid)
        elif status == Campaign.Status.PLANNED:
            summary["planned"] += 1
        else:
            summary["open"] += 1
    return summary


def box_counts(*, campaign_id: int) -> tuple[int, int]:
    """(sealed ballots, used codes) of a campaign's box, from the stored lengths only (on
    PostgreSQL octet_length reads the TOAST pointer, not the 600 KB value); (0, 0) when the box
    is not open or was settled."""
    row = (
        BallotBox.objects.filter(campaign_id=campaign_id)
        .values_list(Length("sealed"), Length("used"))
        .first()
    )
    if row is None:
        return 0, 0
    return row[0] // CIPHERTEXT_LENGTH, row[1] // BallotBox.DIGEST_LENGTH


def campaign_integrity(*, campaign: Campaign) -> dict[str, int]:
    """Sealed ballots and used codes (equal until settlement), all codes, and the 领票登记
    (electors frozen at opening, how many received a slip). After settlement the ballot rows
    are gone: the counted receipts stand for the ballots."""
    register = Elector.objects.filter(campaign=campaign).aggregate(
        electors=Count("pk"), slips=Count("pk", filter=Q(slip_received=True))
    )
    if campaign.closed_at is not None:
        counted = len(campaign.counted_receipts)
        return {"ballots": counted, "used": campaign.turnout or 0, "codes": 0, **register}
    ballots, used = box_counts(campaign_id=campaign.pk)
    return {
        "ballots": ballots,
        "used": used,
        "codes": VotingCode.objects.filter(campaign=campaign).count(),
        **register,
    }


def campaign_comments(*, campaign: Campaign) -> list[str]:
    """Free-text comments of a settled campaign with enough ballots, in the random order the
    settlement gave them. Empty for unsettled campaigns and small groups (the small-group rule
    lives in Campaign.shows_counts; below it settlement does not even keep them)."""
    if not campaign.shows_counts or not campaign.allow_comment:
        return []
    return list(campaign.comments)


def published_receipts(*, public_id: uuid.UUID | str) -> tuple[Campaign, list[str]]:
    """The public receipt list of a settled campaign: the hashes of the ciphertexts counted,
    sorted (an order that tells nothing)."""
    try:
        campaign = Campaign.objects.select_related("branch").get(public_id=public_id)
    except (Campaign.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if campaign.closed_at is None:
        return campaign, []
    return campaign, list(campaign.counted_receipts)


def secretary_outcomes(*, year: int, cadre_ids: Iterable[int] | None = None) -> dict[int, str]:
    """Secretary cadre id → "satisfied" | "not_satisfied" | "invalid", for closed campaigns of the
    year (for the assessment app). When a secretary had several closed campaigns in a year (a
    repeated ballot after an invalid one), the latest closed one counts."""
    qs = Campaign.objects.filter(year=year, closed_at__isnull=False).exclude(outcome="")
    if cadre_ids is not None:
        qs = qs.filter(secretary_id__in=list(cadre_ids))
    outcomes: dict[int, str] = {}
    for secretary_id, outcome in qs.order_by("secretary_id", "closed_at", "pk").values_list(
        "secretary_id", "outcome"
    ):
        outcomes[secretary_id] = outcome  # later rows overwrite earlier ones
    return outcomes


def reelections_open(*, user: User) -> QuerySet:
    """Re-election procedures not yet done, in the user's scope (for the committee)."""
    from .models import ReelectionProcedure

    return (
        ReelectionProcedure.objects.filter(
            campaign__in=campaign_list(user=user).values("pk"),
        )
        .exclude(status=ReelectionProcedure.Status.DONE)
        .select_related("campaign__branch", "campaign__secretary")
        .order_by("campaign__branch__path")
    )
