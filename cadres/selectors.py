"""Reads of the cadres app: organisations, users, cadres, youths and quota progress.

Scoping lives in `cadres.scoping` (the one home of "who sees which rows"); its names are
re-exported here because every app imports them from `cadres.selectors`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest

from .models import (
    Cadre,
    CadreType,
    CadreYouth,
    LiaisonChannel,
    Organisation,
    QuotaRule,
    Sector,
    User,
    Youth,
)
from .quota import DEFAULT_MIN_CHANNELS, DEFAULT_MIN_SECTORS, DEFAULT_QUOTA

# Re-exported: every app imports scoping from here.
from .scoping import (  # noqa: F401
    CadreRule,
    get_in_scope_or_404,
    in_subtree,
    organisation_subtree,
    scope_queryset,
    user_cadre,
    user_subtree_q,
)


def is_programme_committee(user: User) -> bool:
    """Who may change programme-wide settings (quota rules, the fields list, the scoring
    policy): a superuser, or staff/admins of a province, city or banner committee. A township admin
    manages their own subtree but must not change the rules every other cadre is held to."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    org = user.organisation
    return (
        user.sees_subtree
        and org is not None
        and org.kind
        in (Organisation.Kind.PROVINCE, Organisation.Kind.CITY, Organisation.Kind.BANNER)
    )


def organisation_list(*, user: User) -> QuerySet[Organisation]:
    """Organisations the user may see, in tree order."""
    return scope_queryset(Organisation.objects.all(), user=user, org_field="").order_by("path")


def user_list(*, user: User) -> QuerySet[User]:
    return scope_queryset(User.objects.select_related("organisation"), user=user)


def cadre_list(*, user: User) -> QuerySet[Cadre]:
    """Cadres in scope; a cadre user sees only themself."""
    return scope_queryset(Cadre.objects.select_related("organisation"), user=user, cadre_field="pk")


# --- Quota progress (1+100): the one place these numbers are computed. ---

# The defaults and the rule itself live in cadres/quota.py; re-exported for existing callers.


def count_subquery(qs: QuerySet, group: str, counted: str, *, distinct: bool = False) -> Coalesce:
    """A correlated COUNT per row as a scalar subquery, 0 when there is nothing to count.

    Scalar subqueries instead of JOIN + GROUP BY: counts over different tables would otherwise
    multiply each other's rows."""
    sub = qs.order_by().values(group).annotate(n=Count(counted, distinct=distinct)).values("n")[:1]
    return Coalesce(Subquery(sub, output_field=IntegerField()), Value(0))


def held_channels() -> QuerySet[LiaisonChannel]:
    """Liaison channels cadres hold now: an ended channel stays on record but counts nowhere."""
    return LiaisonChannel.objects.filter(ended_on__isnull=True)


def channel_list(*, user: User, cadre: Cadre) -> QuerySet[LiaisonChannel]:
    """A cadre's channels, held first then ended, as far as `user` may see them (a cadre their
    own, staff their subtree's cadres)."""
    return scope_queryset(
        LiaisonChannel.objects.filter(cadre=cadre),
        user=user,
        org_field="cadre__organisation",
        cadre_field="cadre",
    ).order_by(F("ended_on").desc(nulls_first=True), "kind", "id")


def progress_counts() -> dict:
    """The exact counts behind quota progress, per cadre (OuterRef "cadre"), for the refresh."""
    links = CadreYouth.objects.filter(cadre=OuterRef("cadre"))
    return {
        "youth_count": count_subquery(links, "cadre", "youth"),
        "sector_count": count_subquery(links, "cadre", "youth__sector", distinct=True),
        "channel_count": count_subquery(
            held_channels().filter(cadre=OuterRef("cadre")), "cadre", "kind", distinct=True
        ),
    }


def quota_rules() -> dict[str, tuple[int, int, int]]:
    """Cadre type -> (quota, min_sectors, min_channels); types without a rule use the defaults."""
    rules = {
        t: (r_quota, r_sectors, r_channels)
        for t, r_quota, r_sectors, r_channels in QuotaRule.objects.values_list(
            "cadre_type", "quota", "min_sectors", "min_channels"
        )
    }
    defaults = (DEFAULT_QUOTA, DEFAULT_MIN_SECTORS, DEFAULT_MIN_CHANNELS)
    return {t.value: rules.get(t.value, defaults) for t in CadreType}


def _by_type(rules: dict[str, tuple[int, int, int]], index: int, default: int) -> Case:
    # The committee's handful of rules inlined as CASE: no per-row lookup, whatever the scale.
    return Case(
        *[When(cadre_type=t, then=Value(values[index])) for t, values in rules.items()],
        default=Value(default),
        output_field=IntegerField(),
    )


def with_progress(qs: QuerySet[Cadre], *, counted_only: bool = False) -> QuerySet[Cadre]:
    """Annotate cadres with their quota progress: one query for the rules now, and no per-row
    work in the list query (a constant number of queries, at any scale).

    Annotations (the assessment app reads the same names):
    - `n_youths`: distinct youths linked to the cadre (CadreYouth is unique per pair);
    - `n_sectors`: distinct fields (Youth.sector) among those youths;
    - `n_channels`: distinct liaison-channel kinds the cadre holds;
    - `quota`, `min_sectors`, `min_channels`: the QuotaRule for the cadre's type, or the defaults
      100 / 5 / 9 when the committee has set none;
    - `quota_met`: enough youths AND enough fields (channels are guidance, not the bar);
    - `progress`: n_youths / quota capped at 1.0, for sorting.
    The counts and the rule's verdict on them (`quota_met`, `progress`) are stored
    (CadreProgress), kept exact by every cadres service that writes links, channels, a cadre's
    type or a quota rule (`services.cadre_progress_refresh`).

    `counted_only`: only cadres with their stored row (every cadre has one, see CadreProgress),
    joined as an inner join and read as stored, so that an ORDER BY on `progress` walks
    `cadreprogress_list_order_idx` instead of sorting every cadre in scope. Otherwise a LEFT
    JOIN, and a cadre never counted yet reads as no youths: 0 and not met (a quota is >= 1).
    """
    rules = quota_rules()
    if counted_only:
        qs = qs.filter(progress_counts__isnull=False)

    def stored(column: str, default: Any) -> Any:
        value = F(f"progress_counts__{column}")
        return value if counted_only else Coalesce(value, Value(default))

    return qs.annotate(
        n_youths=stored("youth_count", 0),
        n_sectors=stored("sector_count", 0),
        n_channels=stored("channel_count", 0),
        quota=_by_type(rules, 0, DEFAULT_QUOTA),
        min_sectors=_by_type(rules, 1, DEFAULT_MIN_SECTORS),
        min_channels=_by_type(rules, 2, DEFAULT_MIN_CHANNELS),
        quota_met=stored("quota_met", False),
        progress=stored("progress", 0.0),
    )


def progress_shortfalls(cadre: Cadre) -> dict[str, int]:
    """How many youths, fields and channels an annotated cadre still misses (each >= 0)."""
    c: Any = cadre  # the counts are with_progress() annotations, which the stubs cannot see
    return {
        "youths": max(0, c.quota - c.n_youths),
        "sectors": max(0, c.min_sectors - c.n_sectors),
        "channels": max(0, c.min_channels - c.n_channels),
    }


def cadre_progress_list(*, user: User) -> QuerySet[Cadre]:
    """Cadres in the user's scope with their quota progress (see `with_progress`), the cadre
    list's default order served by an index (EXPLAIN ANALYZE, province: 12 ms → 0.8 ms)."""
    return with_progress(cadre_list(user=user), counted_only=True)


@dataclass
class Progress:
    """One cadre's quota progress, spelled out for the cadre's page and home panel."""

    cadre: Cadre
    missing_sectors: list[Sector] = field(default_factory=list)
    held_channels: list[LiaisonChannel] = field(default_factory=list)
    missing_channel_kinds: list[tuple[str, str]] = field(default_factory=list)

    @property
    def percent(self) -> int:
        c: Any = self.cadre  # with_progress() annotations
        return min(100, round(100 * c.n_youths / c.quota))

    @property
    def short(self) -> dict[str, int]:
        return progress_shortfalls(self.cadre)


def cadre_progress(*, cadre_id: int) -> Progress:
    """Progress of one cadre with the details the counts do not say: which fields and which
    channels are missing. Four queries whatever the cadre's number of youths."""
    cadre = with_progress(Cadre.objects.select_related("organisation", "user")).get(pk=cadre_id)
    covered = set(
        CadreYouth.objects.filter(cadre=cadre)
        .values_list("youth__sector", flat=True)
        .distinct()
        .order_by()
    )
    missing = [s for s in Sector.objects.filter(is_active=True) if s.pk not in covered]
    channels = list(held_channels().filter(cadre=cadre).order_by("kind", "id"))
    held_kinds = {c.kind for c in channels}
    return Progress(
        cadre=cadre,
        missing_sectors=missing,
        held_channels=channels,
        missing_channel_kinds=[
            (k.value, str(k.label)) for k in LiaisonChannel.Kind if k.value not in held_kinds
        ],
    )


def youths_held_by(cadre: Cadre) -> Q:
    """The cadre rule for youths (`scoping.CadreRule`): a cadre sees the youths they hold.

    A subquery on the links rather than a join, so a youth never appears twice in a list."""
    return Q(pk__in=CadreYouth.objects.filter(cadre=cadre).values("youth"))


def youth_scope(*, user: User) -> QuerySet[Youth]:
    """Youths the user may see: staff their subtree's youths; a cadre the youths they hold.
    Every list, form choice and detail lookup of youths, in every app, starts here. An erased
    youth (`cadres.privacy.youth_erase`) is in nobody's scope."""
    return scope_queryset(
        Youth.objects.filter(erased_at__isnull=True), user=user, cadre_field=youths_held_by
    )


def youth_list(*, user: User) -> QuerySet[Youth]:
    """Youths in scope (`youth_scope`) with what the registry shows.

    `n_cadres` counts the cadres holding each youth (>1: the committee sees a duplicate)."""
    return (
        youth_scope(user=user)
        .select_related("sector", "organisation")
        .annotate(n_cadres=_youth_cadre_count())
    )


def linkable_youths(*, cadre: Cadre) -> QuerySet[Youth]:
    """The linking rule, the one place it is written: a cadre links only youths of the cadre's
    own organisation subtree. `cadres.services.cadre_youths_link` enforces it through this
    selector (every path that links: the registry, the quick log, the roster import); the quick
    log's search offers only these youths."""
    # A youth who moved away (`cadres.registry.youth_move_away`) is nobody's to link any more.
    youths = Youth.objects.filter(erased_at__isnull=True, moved_away_on__isnull=True)
    return in_subtree(youths, organisation=cadre.organisation)


def link_ceiling(cadre: Cadre) -> int:
    """The most youths one cadre may hold: LIANQING_LINK_CEILING_FACTOR (default 3) × the
    quota of the cadre's type. Far above any real 1+100 list; it stops an import from piling
    20,000 youths on one cadre (a 6 MB quick-log page, and a cadre who opens them all)."""
    quota = quota_rules()[cadre.cadre_type][0]
    return max(1, settings.LIANQING_LINK_CEILING_FACTOR) * quota


def _youth_cadre_count() -> Coalesce:
    return count_subquery(CadreYouth.objects.filter(youth=OuterRef("pk")), "youth", "cadre")


def get_youth_for_user(*, user: User, pk: int | str) -> Youth:
    """A youth the user may see (staff: subtree; cadre: one of theirs), else 404."""
    try:
        return youth_list(user=user).get(pk=pk)
    except (Youth.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def youth_links(*, youth: Youth, user: User) -> QuerySet[CadreYouth]:
    """The cadres holding a youth, as far as the user may see them."""
    return scope_queryset(
        CadreYouth.objects.filter(youth=youth).select_related("cadre__organisation", "channel"),
        user=user,
        org_field="cadre__organisation",
        cadre_field="cadre",
    ).order_by("linked_on", "id")


def needs_form_url(*, cadre: Cadre, request: HttpRequest) -> str:
    """The public needs-desk form for this cadre, absolute: what the contact card's QR encodes.

    The contacts app serves the route (`contacts:ask_cadre`); it is spelled out here rather than
    reversed so that the card works whatever app is installed, and lives in this one function.
    """
    return request.build_absolute_uri(f"/contacts/ask/{cadre.pk}/")
