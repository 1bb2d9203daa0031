"""Honest cadres: an ordinary quarter of logging, and the legitimately busy weeks."""

from __future__ import annotations

import datetime

from django.utils import timezone

from activities.models import Activity, Registration
from cadres.models import Youth

from .generator import Truth, _Gen
from .words import LONG_TOPICS, OFFLINE, ONLINE, SHORT_TOPICS


def _honest_quarter(g: _Gen, cadre_id: int, youths: list[int], truth: Truth, *, quiet: bool):
    """A quarter of ordinary logging: contacts spread over the days, mostly entered the same
    evening, sometimes a few days later; topics short labels, sometimes a habitual one."""
    r = g.rng
    n = r.randint(10, 40) if quiet else r.randint(30, 160)
    habit = r.choice(SHORT_TOPICS + LONG_TOPICS[:2]) if r.random() < 0.2 else None
    for _ in range(n):
        day = g.day()
        delay = 0 if r.random() < 0.75 else min(int(r.expovariate(1 / 3)) + 1, 12)
        at = g.evening(day + datetime.timedelta(days=delay))
        offline = r.random() < 0.35
        channel = r.choice(OFFLINE if offline else ONLINE)
        k = 1 if r.random() < 0.8 else r.randint(2, 4)
        topic, notes = g.honest_text(habit)
        g.add(cadre_id, day, channel, topic, notes, at, r.sample(youths, min(k, len(youths))))


def _busy_week(g: _Gen, cadre_id: int, youths: list[int], org_id: int, truth: Truth) -> None:
    """Honest cadres with a legitimately unusual week (about a third of them)."""
    r = g.rng
    kind = r.choices(
        ["none", "activity60", "campaign", "catch_up", "late_return", "branch_meeting", "family"],
        [62, 6, 10, 10, 4, 6, 2],
    )[0]
    if kind == "none":
        return
    truth.busy.setdefault(cadre_id, []).append(kind)
    end = g.period.end
    if kind == "activity60":
        day = g.day(20, 70)
        start = timezone.make_aware(datetime.datetime.combine(day, datetime.time(14)))
        activity = Activity.objects.create(
            title="青年就业招聘会",
            category="employment",
            organisation_id=org_id,
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=3),
            status="done",
        )
        attendees = r.sample(youths, min(60, len(youths)))
        Registration.objects.bulk_create(
            Registration(activity=activity, youth_id=y, source="staff", checked_in_at=start)
            for y in attendees
        )
        g.add(
            cadre_id,
            day,
            "activity",
            activity.title,
            "",
            start + datetime.timedelta(hours=4),
            attendees,
            activity=activity.pk,
        )
    elif kind == "campaign":  # a quarter-end visiting campaign, each entered the same evening
        for _ in range(r.randint(20, 50)):
            day = end - datetime.timedelta(days=r.randint(0, 6))
            topic, notes = g.honest_text(None)
            g.add(
                cadre_id,
                day,
                r.choice(OFFLINE),
                topic,
                notes,
                g.evening(day),
                r.sample(youths, r.randint(1, 3)),
            )
    elif kind == "catch_up":  # Sunday evening: the week's contacts in one sitting
        sunday = g.day(14, g.days - 8)
        g.sitting(
            cadre_id,
            youths,
            at=g.evening(sunday),
            n=r.randint(6, 16),
            gap=(45, 300),
            day=lambda: sunday - datetime.timedelta(days=r.randint(0, 6)),
            channels=ONLINE + OFFLINE,
        )
    elif kind == "late_return":  # back from three weeks' training: entered 10–25 days late
        entered = g.day(40, g.days - 5)
        g.sitting(
            cadre_id,
            youths,
            at=g.evening(entered),
            n=r.randint(8, 20),
            gap=(60, 600),
            day=lambda: entered - datetime.timedelta(days=r.randint(10, 25)),
            channels=ONLINE,
        )
    elif kind == "branch_meeting":
        day = g.day()
        g.add(
            cadre_id,
            day,
            "meeting",
            "团支部组织生活会",
            "",
            g.evening(day),
            r.sample(youths, min(r.randint(30, 45), len(youths))),
        )
    elif kind == "family":  # a household of four youths on one phone, all really met
        phone = g.phone()
        ids = r.sample(youths, 4)
        Youth.objects.filter(pk__in=ids).update(phone=phone)
