"""A banner-scale dataset with padding planted in a known, random 10 % of cadres, for
`benchmark_integrity` (issue 13, "measured, not asserted") and the demo's padded cadres.

Written from a description of how padding and honest busy weeks look in practice, NOT from
assessment/integrity.py: nothing here imports its thresholds, and the ranges are the
generator's own (its own random draws per cadre, intensities that sometimes fall below what a
signal can see). Honest cadres include the legitimately busy: an activity with 60 check-ins,
a quarter-end campaign week, a Sunday catch-up of the week's logs, family phones, a cadre back
from training entering two weeks late, habitual short topics, a branch meeting of 30–45.

Padding patterns (each padded cadre gets one to three, with random intensity):
- sitting: invented contacts typed from a list in one go, seconds apart;
- copy_paste: one note pasted over many contacts, varied by a number, punctuation or (half the
  time) the youth's name;
- end_dump: contacts dated across the quarter, entered in its last days or just after;
- ghosts: invented youths (phones in a block, missing, one shared number, malformed), each
  "contacted" online once or twice;
- big_meeting: one hand-typed talk or visit with 25–90 youths;
- quota_fill: just enough new youths in the last days to land on the quota.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from activities.models import Activity, Registration
from cadres.models import Cadre, CadreYouth, Organisation, QuotaRule, Sector, Youth
from cadres.quota import DEFAULT_QUOTA
from cadres.services import organisation_create
from contacts.models import OFFLINE_CHANNELS, Contact, ContactYouth, Need

from .periods import Period

ROOT_NAME = "基准测试旗团委（真实性核查）"
PATTERNS = ("sitting", "copy_paste", "end_dump", "ghosts", "big_meeting", "quota_fill")
ONLINE = ("wechat", "wechat", "wechat", "qq", "phone", "youth_voice", "weibang")
OFFLINE = ("talk", "talk", "visit", "meeting")
SHORT_TOPICS = [
    "日常问候",
    "了解近况",
    "就业咨询",
    "政策宣传",
    "活动通知",
    "学习交流",
    "创业项目",
    "心理疏导",
    "技能培训",
    "返乡情况",
    "志愿服务",
    "入团咨询",
    "读书分享",
    "法律咨询",
    "家庭困难",
    "考试辅导",
]
LONG_TOPICS = [
    "了解毕业后的就业打算",
    "沟通青年之家活动安排",
    "介绍创业担保贷款政策",
    "反映村里道路照明问题",
    "咨询技能培训报名时间",
    "交流牧区电商销售经验",
    "了解父母生病后的困难",
]
NOTES = [
    "聊了最近的工作情况，",
    "他说想参加培训，",
    "提到家里的牲畜收入，",
    "问了考公的事，",
    "说打算回旗里发展，",
    "对上次活动的反馈，",
    "有点迷茫，聊了很久，",
    "需要帮忙联系单位，",
]
PADDED_NOTES = [
    "与青年进行了深入交流，了解其思想动态和工作生活情况，宣传了团的政策。",
    "开展“1+100”联系活动，倾听青年心声，帮助解决实际困难。",
    "通过微信与青年沟通交流，青年表示满意。",
    "走访联系青年，了解基本情况，做好记录。",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁宝包乌其"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华巴特尔图雅琪"


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


class _Gen:
    def __init__(self, rng: random.Random, period: Period):
        self.rng = rng
        self.period = period
        self.days = (period.end - period.start).days + 1
        self.contacts: list[tuple] = []  # (cadre_id, date, channel, topic, notes, at, activity)
        self.contact_youths: list[list[int]] = []
        self.phone_pool: set[str] = set()
        self.quota_of: dict[int, int] = {}

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

    def honest_text(self, habit: str | None) -> tuple[str, str]:
        r = self.rng
        if habit and r.random() < 0.6:
            topic = habit
        else:
            topic = r.choice(SHORT_TOPICS if r.random() < 0.8 else LONG_TOPICS)
        notes = "" if r.random() < 0.5 else "".join(r.sample(NOTES, r.randint(1, 3)))
        return topic, notes


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
        rules = dict(QuotaRule.objects.values_list("cadre_type", "quota"))
        g.quota_of = {c.pk: rules.get(c.cadre_type, DEFAULT_QUOTA) for c in cadres}
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
        truth.n_contacts = len(g.contacts)
        truth.n_youths = Youth.objects.filter(
            organisation_id__in=[root.pk, *[t.pk for t in towns]]
        ).count()
    return truth


def _youth(g: _Gen, phone: str, org_id: int, sectors) -> Youth:
    return Youth(
        name=g.name(),
        gender=g.rng.choice("MF"),
        birth_year=g.rng.randint(1988, 2006),
        sector=g.rng.choice(sectors),
        organisation_id=org_id,
        phone=phone,
    )


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
        at = g.evening(sunday)
        for _ in range(r.randint(6, 16)):
            at += datetime.timedelta(seconds=r.randint(45, 300))
            topic, notes = g.honest_text(None)
            g.add(
                cadre_id,
                sunday - datetime.timedelta(days=r.randint(0, 6)),
                r.choice(ONLINE + OFFLINE),
                topic,
                notes,
                at,
                [r.choice(youths)],
            )
    elif kind == "late_return":  # back from three weeks' training: entered 10–25 days late
        entered = g.day(40, g.days - 5)
        at = g.evening(entered)
        for _ in range(r.randint(8, 20)):
            at += datetime.timedelta(seconds=r.randint(60, 600))
            topic, notes = g.honest_text(None)
            g.add(
                cadre_id,
                entered - datetime.timedelta(days=r.randint(10, 25)),
                r.choice(ONLINE),
                topic,
                notes,
                at,
                [r.choice(youths)],
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
            at = g.evening(day_typed)
            for _ in range(r.randint(10, 45)):
                at += datetime.timedelta(seconds=r.randint(8, 50))
                topic, notes = g.honest_text(None)
                g.add(
                    cadre_id,
                    day_typed - datetime.timedelta(days=r.randint(0, 20)),
                    r.choice(ONLINE + OFFLINE),
                    topic,
                    notes,
                    at,
                    [r.choice(youths)],
                )
        elif pattern == "copy_paste":
            text = r.choice(PADDED_NOTES)
            with_name = r.random() < 0.5
            for i in range(r.randint(15, 60)):
                day = g.day()
                yid = r.choice(youths)
                variant = f"（{i + 1}）" if r.random() < 0.5 else r.choice(["", "。", " ", "！"])
                notes = (f"{g.name()}：" if with_name else "") + text + variant
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
            at = g.evening(end - datetime.timedelta(days=r.randint(0, 3)))
            for _ in range(r.randint(20, 80)):
                at += datetime.timedelta(seconds=r.randint(70, 400))
                topic, notes = g.honest_text(None)
                g.add(
                    cadre_id,
                    g.day(0, g.days - 12),
                    r.choice(ONLINE + OFFLINE),
                    topic,
                    notes,
                    at,
                    [r.choice(youths)],
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


def _write_contacts(g: _Gen) -> None:
    offline = {c.value for c in OFFLINE_CHANNELS}
    with _keep_created_at():
        for start in range(0, len(g.contacts), 5000):
            chunk = g.contacts[start : start + 5000]
            rows = Contact.objects.bulk_create(
                Contact(
                    cadre_id=c,
                    date=d,
                    channel=ch,
                    topic=t[:100],
                    notes=n,
                    created_at=at,
                    activity_id=act,
                )
                for c, d, ch, t, n, at, act in chunk
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
                    for row, ys in zip(rows, g.contact_youths[start : start + 5000], strict=True)
                    for y in set(ys)
                ],
                batch_size=5000,
            )


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
