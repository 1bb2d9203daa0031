"""Erasure of a youth's personal data in the contacts app's tables (called by
`cadres.privacy.youth_erase`, in its transaction): names, phones and WeChat IDs in contact notes
and in needs, in the rows and in their django-simple-history rows. Counts stay: the contact rows,
their youth rows and the needs remain, only their text loses the person."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from cadres.models import Youth
from cadres.privacy import redact, text_mentions

from .models import Contact, ContactYouth, Need

CONTACT_TEXT = ("topic", "notes", "need_raised", "help_given")
NEED_TEXT = ("question", "answer")


def _redact_rows(queryset, fields: Iterable[str], needles: list[str], extra=None) -> int:
    """Rewrite each row's text fields without the needles (a queryset update per row: no new
    history row is written by the erasure itself)."""
    fields = list(fields)
    touched = 0
    for row in queryset.only("pk", *fields):
        values = {f: redact(getattr(row, f), needles) for f in fields}
        values |= extra or {}
        type(row).objects.filter(pk=row.pk).update(**values)
        touched += 1
    return touched


def youth_erase_rows(*, youth: Youth, needles: list[str], cadre_ids: list[int]) -> dict[str, int]:
    """1. contacts the youth took part in, or logged by a cadre who held them (a deleted contact
    keeps no youth rows), whose text names them; the same for their historical rows;
    2. needs the youth raised (or whose reply address is their phone): asker name and reply
    address cleared, text redacted; the same for the needs' historical rows."""
    counts: dict[str, int] = {}
    if needles:
        taking_part = ContactYouth.objects.filter(youth=youth).values("contact_id")
        whose = Q(pk__in=taking_part) | Q(cadre_id__in=cadre_ids)
        mentions = text_mentions(CONTACT_TEXT, needles)
        counts["contacts.Contact"] = _redact_rows(
            Contact.objects.filter(whose).filter(mentions), CONTACT_TEXT, needles
        )
        history_whose = Q(id__in=taking_part) | Q(cadre_id__in=cadre_ids)
        counts["contacts.HistoricalContact"] = _redact_rows(
            Contact.history.filter(history_whose).filter(mentions), CONTACT_TEXT, needles
        )
    asked = Q(youth_id=youth.pk)
    if youth.phone:
        asked |= Q(reply_to__contains=youth.phone)
    cleared = {"asker_name": "", "reply_to": ""}
    counts["contacts.Need"] = _redact_rows(Need.objects.filter(asked), NEED_TEXT, needles, cleared)
    counts["contacts.HistoricalNeed"] = _redact_rows(
        Need.history.filter(asked), NEED_TEXT, needles, cleared
    )
    return counts
