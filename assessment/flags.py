"""Flags (预警): opened, kept or resolved from one computation's metric rows (the rule of what
raises a flag is assessment/scoring.py: flag_reasons). Called by services.scores_compute and the
bounded steps of assessment/chunked.py, inside their transaction."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from . import scoring
from .flag_stats import flag_stats_store
from .models import Flag, ScoringPolicy, SupervisionCase
from .periods import Period

# Flags are written in batches, like the scores.
UPSERT_BATCH = 5000


def flags_refresh(
    *,
    rows: list[dict[str, Any]],
    policy: ScoringPolicy,
    period: Period,
    as_of: datetime.date,
    now: datetime.datetime,
    cadre_ids: Collection[int] | None = None,
) -> dict[str, int]:
    """Open, update or resolve flags from one computation. Set-based: a handful of statements.

    A cadre still below the thresholds keeps their one open flag (reasons and last period
    updated); a cadre back above them has the flag resolved and an open case closed as recovered.
    With `cadre_ids` (an incremental run, `rows` only theirs) no other cadre's flag is touched.
    """
    flagged: dict[int, tuple[int, list[dict]]] = {}
    for m in rows:
        reasons = scoring.flag_reasons(m, m["score"], policy, as_of)
        if reasons:
            flagged[m["cadre_id"]] = (m["organisation_id"], reasons)
    open_qs = Flag.objects.filter(resolved_at__isnull=True)
    if cadre_ids is not None:
        open_qs = open_qs.filter(cadre_id__in=list(cadre_ids))
    open_flags = {f.cadre_id: f for f in open_qs}
    new, changed = [], []
    touched: set[int] = set()  # organisations whose open flags change (flag_stats_store)
    for cadre_id, (org_id, reasons) in flagged.items():
        flag = open_flags.get(cadre_id)
        if flag is None:
            new.append(
                Flag(
                    cadre_id=cadre_id,
                    organisation_id=org_id,
                    first_period=period.code,
                    last_period=period.code,
                    reasons=reasons,
                )
            )
        elif (flag.reasons, flag.last_period, flag.organisation_id) != (
            reasons,
            period.code,
            org_id,
        ):
            touched.update((flag.organisation_id, org_id))
            flag.reasons, flag.last_period, flag.organisation_id = reasons, period.code, org_id
            changed.append(flag)
    Flag.objects.bulk_create(new, batch_size=UPSERT_BATCH)
    _flags_update(changed)
    recovered = [cid for cid in open_flags if cid not in flagged]
    Flag.objects.filter(cadre_id__in=recovered, resolved_at__isnull=True).update(resolved_at=now)
    closed = SupervisionCase.objects.filter(
        cadre_id__in=recovered, status=SupervisionCase.Status.OPEN
    ).update(
        status=SupervisionCase.Status.RECOVERED,
        closed_at=now,
        closing_note=_("%(p)s 活跃度恢复，预警解除，自动结案。") % {"p": period.code},
    )
    # The pages' per-organisation counts follow the flags, in this transaction: all of them
    # after a whole run (which also mends any drift), the touched organisations' otherwise.
    touched.update(f.organisation_id for f in new)
    touched.update(open_flags[cid].organisation_id for cid in recovered)
    flag_stats_store(organisation_ids=None if cadre_ids is None else touched)
    return {"opened": len(new), "kept": len(changed), "resolved": len(recovered), "closed": closed}


def _flags_update(changed: list[Flag]) -> None:
    """Persisting flags with new reasons: one UPDATE … FROM (VALUES …) per batch on PostgreSQL
    (Django's bulk_update builds a CASE per row, slow for thousands of flags)."""
    if connection.vendor != "postgresql":
        Flag.objects.bulk_update(
            changed, ["reasons", "last_period", "organisation"], batch_size=UPSERT_BATCH
        )
        return
    import json

    for start in range(0, len(changed), UPSERT_BATCH):
        batch = changed[start : start + UPSERT_BATCH]
        values = ", ".join(["(%s, %s::jsonb, %s, %s)"] * len(batch))
        params: list[int | str | None] = []
        for f in batch:
            params += [
                f.pk,
                json.dumps(f.reasons, ensure_ascii=False),
                f.last_period,
                f.organisation_id,
            ]
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE assessment_flag f SET reasons = v.reasons, last_period = v.last_period, "
                "organisation_id = v.org FROM (VALUES " + values + ") AS v(id, reasons, "
                "last_period, org) WHERE f.id = v.id",
                params,
            )
