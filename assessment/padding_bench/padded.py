"""The padding patterns planted in padded cadres (see the package docstring)."""

from __future__ import annotations

import datetime

from cadres.models import CadreYouth, Youth
from cadres.quota import DEFAULT_QUOTA

from .generator import Truth, _Gen, _youth
from .words import OFFLINE, ONLINE, PADDED_NOTES, SHORT_TOPICS

PATTERNS = ("sitting", "copy_paste", "end_dump", "ghosts", "big_meeting", "quota_fill")


def _pad(
    g: _Gen, cadre_id: int, youths: list[int], org_id: int, sectors, truth: Truth
) -> list[str]:
    r = g.rng
    patterns = r.sample(PATTERNS, r.choices([1, 2, 3], [45, 40, 15])[0])
    # Filling up to the quota comes last, when the cadre's other (invented) contacts are known.
    patterns.sort(key=lambda p: p == "quota_fill")
    end = g.period.end
    for pattern in patterns:
        if pattern == "sitting":
            day_typed = g.day(10, g.days - 1)
            g.sitting(
                cadre_id,
                youths,
                at=g.evening(day_typed),
                n=r.randint(10, 45),
                gap=(8, 50),
                day=lambda typed=day_typed: typed - datetime.timedelta(days=r.randint(0, 20)),
                channels=ONLINE + OFFLINE,
            )
        elif pattern == "copy_paste":
            text = r.choice(PADDED_NOTES)
            # Half the padders type each youth's name into the pasted note, each in one habit
            # of their own: in front, in place of "青年", or after it.
            naming = r.choice(["none", "none", "none", "front", "inside", "after"])
            for i in range(r.randint(15, 60)):
                day = g.day()
                yid = r.choice(youths)
                variant = f"（{i + 1}）" if r.random() < 0.5 else r.choice(["", "。", " ", "！"])
                notes = _named(text, g.names.get(yid) or g.name(), naming) + variant
                g.add(
                    cadre_id,
                    day,
                    r.choice(ONLINE),
                    r.choice(SHORT_TOPICS[:4]),
                    notes,
                    g.evening(day + datetime.timedelta(days=r.randint(0, 2))),
                    [yid],
                )
        elif pattern == "end_dump":
            g.sitting(
                cadre_id,
                youths,
                at=g.evening(end - datetime.timedelta(days=r.randint(0, 3))),
                n=r.randint(20, 80),
                gap=(70, 400),
                day=lambda: g.day(0, g.days - 12),
                channels=ONLINE + OFFLINE,
            )
        elif pattern == "ghosts":
            n = r.randint(12, 50)
            style = r.choice(["block", "missing", "shared", "malformed", "mixed"])
            base = int(f"13{r.randint(0, 9)}{r.randrange(10**8):08d}")
            shared = g.phone()
            ghosts = []
            for i in range(n):
                s = style if style != "mixed" else r.choice(["block", "missing", "shared"])
                phone = {
                    "block": str(base + i * r.choice((1, 1, 2))),
                    "missing": "",
                    "shared": shared,
                    "malformed": f"{r.randrange(10**7, 10**8)}",
                }[s]
                ghosts.append(_youth(g, phone, org_id, sectors))
            Youth.objects.bulk_create(ghosts)
            CadreYouth.objects.bulk_create(
                CadreYouth(cadre_id=cadre_id, youth_id=y.pk, linked_on=g.period.start)
                for y in ghosts
            )
            for y in ghosts:
                for _ in range(r.randint(1, 2)):
                    day = g.day()
                    topic, notes = g.honest_text(None)
                    g.add(
                        cadre_id,
                        day,
                        r.choice(ONLINE),
                        topic,
                        notes,
                        g.evening(day + datetime.timedelta(days=r.randint(0, 3))),
                        [y.pk],
                    )
        elif pattern == "big_meeting":
            day = g.day()
            pool = youths
            g.add(
                cadre_id,
                day,
                r.choice(("talk", "visit", "talk")),
                "集中走访座谈",
                "",
                g.evening(day),
                r.sample(pool, min(r.randint(25, 90), len(pool))),
            )
        elif pattern == "quota_fill":
            reached = {
                y
                for (c, *_rest), ys in zip(g.contacts, g.contact_youths, strict=True)
                if c == cadre_id
                for y in ys
            }
            quota = g.quota_of.get(cadre_id, DEFAULT_QUOTA)
            missing = quota - len(reached)
            spare = [y for y in youths if y not in reached]
            if missing < 20 or len(spare) < missing:  # too close to pad visibly: new youths
                extra = [
                    _youth(g, g.phone(), org_id, sectors)
                    for _ in range(max(0, missing - len(spare)))
                ]
                Youth.objects.bulk_create(extra)
                CadreYouth.objects.bulk_create(
                    CadreYouth(cadre_id=cadre_id, youth_id=y.pk, linked_on=g.period.start)
                    for y in extra
                )
                spare += [y.pk for y in extra]
            for yid in spare[: max(0, missing)]:
                day = end - datetime.timedelta(days=r.randint(0, 8))
                topic, notes = g.honest_text(None)
                g.add(cadre_id, day, r.choice(ONLINE), topic, notes, g.evening(day), [yid])
    return patterns


def _named(text: str, name: str, naming: str) -> str:
    if naming == "front":
        return f"{name}：{text}"
    if naming == "inside" and "青年" in text:
        return text.replace("青年", name, 1)
    if naming in ("inside", "after"):
        return f"{text}（{name}）"
    return text
