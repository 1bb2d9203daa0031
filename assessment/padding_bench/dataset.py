"""Build and clear the benchmark dataset, and score a detection against its answer key."""

from __future__ import annotations

import datetime
import random
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from activities.models import Activity, Registration
from cadres.models import Cadre, CadreYouth, Organisation, Sector, Youth
from cadres.selectors import quota_rules
from cadres.services import cadre_progress_refresh, organisation_create

from ..freshness import paused
from ..periods import Period
from .generator import Truth, _Gen, _write_contacts, _youth
from .honest import _busy_week, _honest_quarter
from .padded import _pad

ROOT_NAME = "基准测试旗团委（真实性核查）"


def clear() -> None:
    """Remove a previous benchmark dataset (everything under ROOT_NAME) with plain DELETEs in
    foreign-key order: through the ORM every deleted youth and contact would write a history
    row, one INSERT each (minutes for a banner)."""
    from django.db import connection

    from cadres.selectors import organisation_subtree

    for root in Organisation.objects.filter(name=ROOT_NAME, parent__isnull=True):
        orgs = list(organisation_subtree(organisation=root).values_list("pk", flat=True))
        marks = ", ".join(["%s"] * len(orgs))
        cadres = f"SELECT id FROM cadres_cadre WHERE organisation_id IN ({marks})"
        youths = f"SELECT id FROM cadres_youth WHERE organisation_id IN ({marks})"
        activities = f"SELECT id FROM activities_activity WHERE organisation_id IN ({marks})"
        statements = [
            f"DELETE FROM contacts_contactyouth WHERE cadre_id IN ({cadres})",
            f"DELETE FROM contacts_confirmation WHERE cadre_id IN ({cadres})",
            f"DELETE FROM contacts_need WHERE organisation_id IN ({marks})",
            f"DELETE FROM contacts_contact WHERE cadre_id IN ({cadres})",
            f"DELETE FROM activities_registration WHERE activity_id IN ({activities})",
            f"DELETE FROM activities_registration WHERE youth_id IN ({youths})",
            f"DELETE FROM activities_activity WHERE organisation_id IN ({marks})",
            f"DELETE FROM cadres_cadreyouth WHERE cadre_id IN ({cadres})",
            f"DELETE FROM cadres_cadreprogress WHERE cadre_id IN ({cadres})",
            f"DELETE FROM assessment_integrityreview WHERE cadre_id IN ({cadres})",
            f"DELETE FROM assessment_integrityfinding WHERE cadre_id IN ({cadres})",
            f"DELETE FROM assessment_flag WHERE cadre_id IN ({cadres})",
            f"DELETE FROM assessment_cadrescore WHERE cadre_id IN ({cadres})",
            f"DELETE FROM assessment_channelweekstat WHERE organisation_id IN ({marks})",
            f"DELETE FROM cadres_youth WHERE organisation_id IN ({marks})",
            f"DELETE FROM cadres_cadre WHERE organisation_id IN ({marks})",
            f"DELETE FROM cadres_organisation WHERE id IN ({marks})",
        ]
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql, orgs)


def build(*, seed: int, n_cadres: int, period: Period, share_padded: float = 0.10) -> Truth:
    """Create the dataset (one transaction) and return its answer key."""
    rng = random.Random(seed)
    g = _Gen(rng, period)
    clear()
    with transaction.atomic():
        root = organisation_create(name=ROOT_NAME, kind=Organisation.Kind.BANNER)
        towns = [
            organisation_create(name=f"基准{i + 1}镇团委", kind="township", parent=root)
            for i in range(max(1, n_cadres // 25))
        ]
        sectors = list(Sector.objects.order_by("sort_order")[:8])
        if not sectors:
            sectors = [Sector.objects.create(code="bench", name="基准领域")]
        cadres = Cadre.objects.bulk_create(
            Cadre(
                name=g.name(),
                gender=rng.choice("MF"),
                organisation=towns[i % len(towns)],
                cadre_type="part_time" if rng.random() < 0.6 else "full_time",
                active_from=period.start - datetime.timedelta(days=400),
            )
            for i in range(n_cadres)
        )
        cadre_ids = [c.pk for c in cadres]
        rules = quota_rules()  # the one reading of the rules, defaults included
        g.quota_of = {c.pk: rules[c.cadre_type][0] for c in cadres}
        padded_ids = set(rng.sample(cadre_ids, max(1, round(share_padded * n_cadres))))
        truth = Truth(root=root, cadre_ids=cadre_ids, padded={})
        org_of = {c.pk: c.organisation_id for c in cadres}

        # Youths: every cadre's real 60–140, with family phones and a few missing numbers.
        youth_rows: list[Youth] = []
        owner: list[int] = []
        for c in cadres:
            n = rng.randint(60, 140)
            no_phone = rng.uniform(0.03, 0.25)  # some cadres note every number, some few
            family_phone = None
            for _ in range(n):
                if family_phone and rng.random() < 0.5:
                    phone = family_phone  # a sibling on the parent's phone
                    family_phone = None
                elif rng.random() < no_phone:
                    phone = ""
                else:
                    phone = g.phone()
                    family_phone = phone if rng.random() < 0.06 else None
                youth_rows.append(_youth(g, phone, c.organisation_id, sectors))
                owner.append(c.pk)
        Youth.objects.bulk_create(youth_rows, batch_size=2000)
        youths_of: dict[int, list[int]] = defaultdict(list)
        for y, cid in zip(youth_rows, owner, strict=True):
            youths_of[cid].append(y.pk)
            g.names[y.pk] = y.name
        CadreYouth.objects.bulk_create(
            [
                CadreYouth(cadre_id=cid, youth_id=yid, linked_on=period.start)
                for cid, ys in youths_of.items()
                for yid in ys
            ],
            batch_size=5000,
        )

        # Youth-side evidence for some real youths: check-ins at a venue activity, own needs.
        venue = Activity.objects.create(
            title="青年之家读书会",
            category="culture",
            organisation=root,
            starts_at=timezone.make_aware(
                datetime.datetime.combine(period.start, datetime.time(9))
            ),
            ends_at=timezone.make_aware(datetime.datetime.combine(period.start, datetime.time(11))),
            status="done",
        )
        regs = []
        for cid in cadre_ids:
            for yid in youths_of[cid]:
                if rng.random() < 0.15:
                    regs.append(
                        Registration(
                            activity=venue,
                            youth_id=yid,
                            source="walk_in",
                            checked_in_at=venue.starts_at,
                        )
                    )
        Registration.objects.bulk_create(regs, batch_size=5000)

        for c in cadres:
            reals = youths_of[c.pk]
            if c.pk in padded_ids:
                _honest_quarter(g, c.pk, reals, truth, quiet=True)
                truth.padded[c.pk] = _pad(g, c.pk, reals, org_of[c.pk], sectors, truth)
            else:
                _honest_quarter(g, c.pk, reals, truth, quiet=False)
                _busy_week(g, c.pk, reals, org_of[c.pk], truth)
        _write_contacts(g)
        # Bulk writes bypass the services: every cadre gets its stored progress, counted from
        # its links (padding adds some), as the cadre list and the rollups expect of any cadre;
        # no recomputation scheduled behind the benchmark's back: it times its own runs.
        with paused():
            cadre_progress_refresh(cadre_ids=cadre_ids)
        truth.n_contacts = len(g.contacts)
        truth.n_youths = Youth.objects.filter(
            organisation_id__in=[root.pk, *[t.pk for t in towns]]
        ).count()
    return truth


def score(truth: Truth, flagged: set[int]) -> dict[str, float]:
    """recall, precision and false-flag rate of a detection against the answer key."""
    padded = set(truth.padded)
    honest = set(truth.cadre_ids) - padded
    flagged = flagged & set(truth.cadre_ids)
    hits = len(flagged & padded)
    return {
        "recall": hits / len(padded) if padded else 1.0,
        "precision": hits / len(flagged) if flagged else 1.0,
        "false_flag_rate": len(flagged & honest) / len(honest) if honest else 0.0,
    }
