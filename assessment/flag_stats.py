"""Open flags counted per organisation (models_subtree.OrganisationFlagStat), for the staff home
and the circulated bulletin.

Both pages counted a subtree's open flags on each view, the bulletin also by reason (a jsonb
containment test per reason over every open flag: 7,744 at province scale, 35–150 ms under
load). Flags are written only by the computation (assessment/flags.py: flags_refresh), so their
counts are written there too, in the same transaction: one grouped aggregate over the open flags,
then only the organisations whose counts changed. A page sums its subtree's rows (one indexed
range of at most one row per organisation).

`reason_counts` is the one way of counting: the store and the live read of a database whose
rows were never written (before the first computation after this table existed) use it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from django.db import connection
from django.db.models import Count, IntegerField, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from cadres.models import Organisation, User
from cadres.selectors import in_subtree, scope_queryset

from . import scoring
from .models import Flag
from .models_subtree import OrganisationFlagStat

Counts = tuple[int, dict[str, int]]  # (cadres flagged, {reason code: cadres flagged for it})


def reason_counts(flags: QuerySet[Flag]) -> dict[int, Counts]:
    """Organisation id -> counts of the flags in `flags` (a cadre flagged for two reasons counts
    once in the total and once under each reason). One query."""
    codes = list(scoring.REASON_LABELS)
    flags = flags.order_by()
    out: dict[int, Counts] = {}
    if connection.vendor == "postgresql":
        by_code = {
            f"r_{code}": Count("id", filter=Q(reasons__contains=[{"code": code}])) for code in codes
        }
        for row in flags.values("organisation_id").annotate(n=Count("id"), **by_code):
            out[row["organisation_id"]] = (row["n"], {c: row[f"r_{c}"] for c in codes})
        return out
    # SQLite has no JSON containment lookup: the same counts in Python.
    totals: dict[int, int] = defaultdict(int)
    per_code: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(codes, 0))
    for org_id, reasons in flags.values_list("organisation_id", "reasons"):
        totals[org_id] += 1
        counts = per_code[org_id]
        for code in {r.get("code") for r in reasons or []}:
            if code in counts:
                counts[code] += 1
    return {org_id: (n, per_code[org_id]) for org_id, n in totals.items()}


def flag_stats_store(*, organisation_ids: Collection[int] | None = None) -> int:
    """Bring the organisations' rows up to their open flags; returns the rows written.

    1. the open flags counted per organisation (reason_counts: one aggregate), of every
       organisation or, with `organisation_ids` (an incremental run: the organisations whose
       flags it opened, changed or resolved), of those only;
    2. a row for every organisation (zeros for those without flags, so that a subtree whose
       top has a row is known to be complete), written only where the counts changed.
    Called by flags_refresh, inside its transaction."""
    flags = Flag.objects.filter(resolved_at__isnull=True)
    organisations = Organisation.objects.all()
    stored_rows = OrganisationFlagStat.objects.all()
    if organisation_ids is not None:
        if not organisation_ids:
            return 0
        ids = list(organisation_ids)
        flags = flags.filter(organisation_id__in=ids)
        organisations = organisations.filter(pk__in=ids)
        stored_rows = stored_rows.filter(organisation_id__in=ids)
    fresh = reason_counts(flags)
    zero: Counts = (0, dict.fromkeys(scoring.REASON_LABELS, 0))
    stored = {
        org_id: (flagged, reasons)
        for org_id, flagged, reasons in stored_rows.values_list(
            "organisation_id", "flagged", "reasons"
        )
    }
    new, changed = [], []
    for org_id in organisations.values_list("pk", flat=True):
        counts = fresh.get(org_id, zero)
        row = OrganisationFlagStat(organisation_id=org_id, flagged=counts[0], reasons=counts[1])
        if org_id not in stored:
            new.append(row)
        elif stored[org_id] != counts:
            changed.append(row)
    OrganisationFlagStat.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    OrganisationFlagStat.objects.bulk_update(changed, ["flagged", "reasons"], batch_size=2000)
    return len(new) + len(changed)


def open_flag_counts(*, user: User, organisation: Organisation) -> Counts:
    """Open flags of `organisation`'s subtree as the user may see them: one query over the
    subtree's stored rows; counted live from the flags when `organisation` has no row yet
    (the computation has not run since the table existed, or the organisation is newer)."""
    codes = list(scoring.REASON_LABELS)
    rows = in_subtree(
        scope_queryset(OrganisationFlagStat.objects.all(), user=user), organisation=organisation
    )
    row = rows.aggregate(
        top=Count("pk", filter=Q(organisation=organisation)),
        flagged=Sum("flagged"),
        **{
            f"r_{code}": Sum(Cast(KT(f"reasons__{code}"), output_field=IntegerField()))
            for code in codes
        },
    )
    if row["top"]:
        return row["flagged"] or 0, {code: row[f"r_{code}"] or 0 for code in codes}
    flags = scope_queryset(
        Flag.objects.filter(resolved_at__isnull=True), user=user, cadre_field=None
    )
    live = reason_counts(in_subtree(flags, organisation=organisation))
    return (
        sum(n for n, _ in live.values()),
        {code: sum(r[code] for _, r in live.values()) for code in codes},
    )
