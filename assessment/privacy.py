"""Erasure of a youth's personal data in the assessment app's tables (called by
`cadres.privacy.youth_erase`, in its transaction): a reminder lists dormant youths by name
(Notification.data); those names go now rather than at the next daily reminder pass."""

from __future__ import annotations

import json

from django.db.models import TextField
from django.db.models.functions import Cast

from cadres.models import Youth
from cadres.privacy import redact, text_mentions

from .models import Notification


def youth_erase_rows(*, youth: Youth, needles: list[str], cadre_ids: list[int]) -> dict[str, int]:
    if not needles:
        return {}
    # JSON text may be stored \\u-escaped (SQLite): both spellings are searched.
    spellings = set(needles) | {json.dumps(n)[1:-1] for n in needles}
    rows = Notification.objects.annotate(text=Cast("data", TextField())).filter(
        text_mentions(["text"], spellings)
    )
    touched = 0
    for note in rows.only("pk", "data"):
        data = json.loads(redact(json.dumps(note.data, ensure_ascii=False), needles))
        Notification.objects.filter(pk=note.pk).update(data=data)
        touched += 1
    return {"assessment.Notification": touched}
