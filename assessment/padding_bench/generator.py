"""The answer key, the generator's random primitives and the bulk writes of its contacts."""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.utils import timezone

from cadres.models import Organisation, Youth
from contacts.models import OFFLINE_CHANNELS, Contact, ContactYouth, Need
from contacts.notes_key import notes_key

from ..periods import Period
from .words import GIVEN, LONG_TOPICS, NOTES, SHORT_TOPICS, SURNAMES


@dataclass
class Truth:
    """What was planted: the benchmark's answer key."""

    root: Organisation
    cadre_ids: list[int]
    padded: dict[int, list[str]]  # cadre id → patterns planted
    busy: dict[int, list[str]] = field(default_factory=dict)  # honest cadres' busy weeks
    n_contacts: int = 0
    n_youths: int = 0


@contextmanager
def _keep_created_at() -> Iterator[None]:
    """Let bulk_create write the generated created_at (auto_now_add would stamp "now"): the
    entry times ARE the dataset. Only this generator writes rows this way."""
    fields = [Contact._meta.get_field("created_at"), Need._meta.get_field("created_at")]
    for f in fields:
        f.auto_now_add = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for f in fields:
            f.auto_now_add = True  # type: ignore[attr-defined]


class _Gen:
    def __init__(self, rng: random.Random, period: Period):
        self.rng = rng
        self.period = period
        self.days = (period.end - period.start).days + 1
        self.contacts: list[tuple] = []  # (cadre_id, date, channel, topic, notes, at, activity)
        self.contact_youths: list[list[int]] = []
        self.phone_pool: set[str] = set()
        self.quota_of: dict[int, int] = {}
        self.names: dict[int, str] = {}  # youth id → name, for notes that name the youth

    # --- primitives

    def name(self) -> str:
        r = self.rng
        return r.choice(SURNAMES) + "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2))))

    def phone(self) -> str:
        while True:
            p = f"1{self.rng.choice('35789')}{self.rng.randrange(10**9):09d}"
            if p not in self.phone_pool:
                self.phone_pool.add(p)
                return p

    def day(self, lo: int = 0, hi: int | None = None) -> datetime.date:
        hi = self.days - 1 if hi is None else hi
        return self.period.start + datetime.timedelta(days=self.rng.randint(lo, hi))

    def evening(self, day: datetime.date) -> datetime.datetime:
        hour = self.rng.choice((12, 13, 18, 19, 20, 21, 21, 22))
        base = datetime.datetime.combine(day, datetime.time(hour, self.rng.randrange(60)))
        return timezone.make_aware(base) + datetime.timedelta(seconds=self.rng.randrange(60))

    def add(self, cadre_id, day, channel, topic, notes, at, youths, activity=None) -> None:
        self.contacts.append((cadre_id, day, channel, topic, notes, at, activity))
        self.contact_youths.append(youths)

    def sitting(self, cadre_id, youths, *, at, n, gap, day, channels) -> None:
        """`n` contacts typed one after another from `at`, each `gap` (lo, hi) seconds after the
        last, each dated `day()` (when it is said to have happened), one youth each: an evening
        of catching up, honest or not (the generator's random draws stay in this order, so a
        seed gives the same dataset)."""
        r = self.rng
        for _ in range(n):
            at += datetime.timedelta(seconds=r.randint(*gap))
            topic, notes = self.honest_text(None)
            self.add(cadre_id, day(), r.choice(channels), topic, notes, at, [r.choice(youths)])

    def honest_text(self, habit: str | None) -> tuple[str, str]:
        r = self.rng
        if habit and r.random() < 0.6:
            topic = habit
        else:
            topic = r.choice(SHORT_TOPICS if r.random() < 0.8 else LONG_TOPICS)
        notes = "" if r.random() < 0.5 else "".join(r.sample(NOTES, r.randint(1, 3)))
        return topic, notes


def _youth(g: _Gen, phone: str, org_id: int, sectors) -> Youth:
    return Youth(
        name=g.name(),
        gender=g.rng.choice("MF"),
        birth_year=g.rng.randint(1988, 2006),
        sector=g.rng.choice(sectors),
        organisation_id=org_id,
        phone=phone,
    )


def _write_contacts(g: _Gen) -> None:
    offline = {c.value for c in OFFLINE_CHANNELS}
    with _keep_created_at():
        for start in range(0, len(g.contacts), 5000):
            chunk = g.contacts[start : start + 5000]
            chunk_youths = g.contact_youths[start : start + 5000]
            # The stored note key as contact_log would write it (the youths' names out).
            wanted = {y for ys in chunk_youths for y in ys} - set(g.names)
            names = {
                **g.names,
                **dict(Youth.objects.filter(pk__in=wanted).values_list("pk", "name")),
            }
            keys = [
                notes_key(n, [names.get(y, "") for y in ys]) if act is None else (None, None)
                for (_c, _d, _ch, _t, n, _at, act), ys in zip(chunk, chunk_youths, strict=True)
            ]
            rows = Contact.objects.bulk_create(
                Contact(
                    cadre_id=c,
                    date=d,
                    channel=ch,
                    topic=t[:100],
                    notes=n,
                    notes_key=key,
                    notes_chars=chars,
                    created_at=at,
                    activity_id=act,
                )
                for (c, d, ch, t, n, at, act), (key, chars) in zip(chunk, keys, strict=True)
            )
            ContactYouth.objects.bulk_create(
                [
                    ContactYouth(
                        contact_id=row.pk,
                        youth_id=y,
                        cadre_id=row.cadre_id,
                        date=row.date,
                        is_offline=row.channel in offline,
                    )
                    for row, ys in zip(rows, chunk_youths, strict=True)
                    for y in set(ys)
                ],
                batch_size=5000,
            )
