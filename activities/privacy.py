"""Erasure of a youth's personal data in the activities app's tables (called by
`cadres.privacy.youth_erase`, in its transaction). Attendances, volunteer hours, commendations
and projects stay (they are counted) and keep pointing at the anonymised youth; the name and
phone typed at a sign-up, and the youth's name in a citation or a project description, go."""

from __future__ import annotations

from django.db.models import Q

from cadres.models import Youth
from cadres.privacy import ERASED_NAME, redact, text_mentions

from .models import Commendation, EntrepreneurshipProject, Registration


def youth_erase_rows(*, youth: Youth, needles: list[str], cadre_ids: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    counts["activities.Registration"] = Registration.objects.filter(youth_id=youth.pk).update(
        name="", phone=""
    )
    if youth.phone:
        # A pending public sign-up with their phone (no youth yet): a name is required there.
        counts["activities.Registration"] += Registration.objects.filter(
            youth__isnull=True, phone=youth.phone
        ).update(name=ERASED_NAME, phone="")
    for model, field in ((Commendation, "citation"), (EntrepreneurshipProject, "description")):
        touched = 0
        rows = model.objects.filter(Q(youth_id=youth.pk) & text_mentions([field], needles))
        for row in rows.only("pk", field):
            model.objects.filter(pk=row.pk).update(**{field: redact(getattr(row, field), needles)})
            touched += 1
        counts[f"activities.{model.__name__}"] = touched
    return counts
