"""Demo contact logs and needs: a year (or `--years N`, at the same yearly rate) with a realistic
rhythm.

- more online than offline (about two contacts in three are WeChat, QQ, 微邦, 青年之声 or phone);
- bursts in the last fortnight of each quarter (the quarterly bulletin is coming), quieter weekends;
- cadres of very different diligence, from a handful of contacts a year to several a day;
- each cadre leaves some youths dormant (last contact more than 120 days ago, or never);
- needs raised in logs, at the venue and through the public form: most answered in time, some
  open past their due date;
- entry times a cadre typing on a phone leaves (`entry_time`): the evening of the contact's day
  mostly, one in six one to three days later, one in forty up to a month later, never in the
  future — not the load time, which the padding detection would read as everyone's giant burst
  and a year of backdating;
- youth confirmations of the last 90 days (banner scale): 见面码 scans of face-to-face talks and
  answered share links, at very different rates per cadre (the demo cadre about half), one
  same-device confirmation, and one denial ("没有这回事") for the supervisors.

Province scale (`--scale province`) writes ~5,000,000 contacts for the 10,000 cadres with their
ContactYouth rows through `ctx.insert` (COPY on PostgreSQL), block by block of cadres, with
explicit ids, so memory stays bounded whatever the size.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator

from django.utils import timezone

from cadres.demo import DemoContext
from cadres.models import CadreYouth
from config.bulk import indexes_deferred

from .models import Channel, Contact, ContactYouth, Need
from .notes_key import notes_key

# Average contacts per cadre and year: 5M / 10k at province scale; fewer for the fast banner demo.
PROVINCE_RATE = 500
BANNER_RATE = 110
CADRE_BLOCK = 100  # cadres generated (and their links read) per step: bounded memory

# (channel, weight, (min, max) youths per contact)
CHANNEL_MIX = [
    (Channel.WECHAT, 30, (1, 1)),
    (Channel.QQ, 6, (1, 1)),
    (Channel.WEIBANG, 6, (1, 1)),
    (Channel.YOUTH_VOICE, 10, (1, 1)),
    (Channel.PHONE, 16, (1, 1)),
    (Channel.TALK, 16, (1, 2)),
    (Channel.VISIT, 9, (1, 2)),
    (Channel.MEETING, 7, (3, 8)),
]
OFFLINE = {Channel.TALK, Channel.VISIT, Channel.MEETING, Channel.ACTIVITY}
TOPICS = {
    "online": ["近况问候", "就业信息推送", "政策解读", "学习交流", "志愿活动通知", "创业咨询回复"],
    "offline": ["走访慰问", "座谈交流", "入户了解困难", "到单位看望", "青年之家座谈", "主题团日"],
}
NOTES = [
    "聊了近期工作和生活情况。",
    "介绍了青年之家近期活动。",
    "转发了招聘会信息，对方有意参加。",
    "了解到家里农忙缺人手。",
    "讨论了返乡创业的想法。",
    "",
    "",
    "",
]
NEEDS = [
    ("employment", "想了解旗里近期的招聘会和就业见习岗位。"),
    ("skills", "希望参加电商直播技能培训。"),
    ("finance", "返乡养牛想申请创业担保贷款，需要哪些材料？"),
    ("legal", "工资被拖欠两个月，怎么维权？"),
    ("psych", "孩子备考压力大，有没有心理咨询渠道？"),
    ("study", "成人高考报名时间和条件是什么？"),
    ("policy", "大学生回乡就业有什么补贴政策？"),
    ("hardship", "家中老人住院，生活有困难。"),
    ("other", "想加入青年志愿者协会。"),
]
ANSWERS = [
    "已将招聘会时间地点发给您，另有三个见习岗位可报名。",
    "已帮您报名下期培训，开班前会电话通知。",
    "已对接人社局，材料清单已发微信。",
    "已联系法律服务志愿队，周三下午到青年之家面谈。",
    "已转介心理健康服务中心，预约电话已告知。",
]
HELP = ["帮助联系了就业岗位", "协调解决了培训名额", "对接了法律援助", "送去了慰问物资", ""]


def _day_weights(today: datetime.date, years: int = 1) -> tuple[list[datetime.date], list[float]]:
    """The last 365 × years days with their relative likelihood of a contact (cumulative
    weights)."""
    days, cumulative, total = [], [], 0.0
    for back in range(365 * years):
        day = today - datetime.timedelta(days=back)
        weight = 0.55 if day.weekday() >= 5 else 1.0
        if day.month in (3, 6, 9, 12) and day.day >= 16:
            weight *= 2.2  # end-of-quarter burst before the bulletin
        days.append(day)
        total += weight
        cumulative.append(total)
    return days, cumulative


# Entry times (`created_at`): derived from the contact's id, not drawn from ctx.rng, so that
# every other demo row stays what it was; the same rule as SQL (ENTRY_TIME_SQL) rewrites the
# entry times of an already loaded database (a province copy) in one UPDATE.
ENTRY_EVENING_MINUTES = 600  # entered between 12:00 and 22:00 local time of the day entered
ENTRY_NOW_SPREAD_SECONDS = 3600  # an entry that would lie in the future: within the last hour


def entry_delay_days(contact_id: int) -> int:
    """Days between a contact and its entry: 0 for most, 1–3 for one in six (logged at the
    weekend, after a trip), 4–30 for one in forty (a busy fortnight, a forgotten one)."""
    if contact_id % 40 == 0:
        return 4 + (contact_id // 40) % 27
    if contact_id % 5 == 0:
        return 1 + contact_id % 3
    return 0


def entry_time(contact_id: int, day: datetime.date, now: datetime.datetime) -> datetime.datetime:
    """When the contact was typed in: `entry_delay_days` after its day, at a time between noon
    and 22:00 spread by id; an entry that would be later than now lies within the hour before
    it (spread too: stamping them all `now` would be a burst of its own)."""
    local = datetime.datetime.combine(
        day + datetime.timedelta(days=entry_delay_days(contact_id)), datetime.time(12)
    ) + datetime.timedelta(minutes=(contact_id * 7919) % ENTRY_EVENING_MINUTES)
    latest = now - datetime.timedelta(seconds=(contact_id * 7919) % ENTRY_NOW_SPREAD_SECONDS)
    return min(timezone.make_aware(local), latest).replace(microsecond=0)


# entry_time as one UPDATE (PostgreSQL; `%(tz)s` the local time zone, `%(now)s` the load time):
# for a database loaded before the rule (the province seed of 2 December 2026), without
# reseeding. tests/contacts/test_demo_entry_times.py holds the two to the same result.
ENTRY_TIME_SQL = f"""UPDATE contacts_contact SET created_at = date_trunc('second', LEAST(
    (date + (CASE WHEN id %% 40 = 0 THEN 4 + (id / 40) %% 27
                  WHEN id %% 5 = 0 THEN 1 + id %% 3 ELSE 0 END)::int
      + time '12:00' + ((id * 7919) %% {ENTRY_EVENING_MINUTES}) * interval '1 minute')
     AT TIME ZONE %(tz)s,
    %(now)s - ((id * 7919) %% {ENTRY_NOW_SPREAD_SECONDS}) * interval '1 second'))"""


def seed(ctx: DemoContext) -> None:
    rng = ctx.rng
    today = ctx.today
    cadre_ids: list[int] = ctx.data["cadre_ids"]
    cadre_orgs: list[int] = ctx.data["cadre_org_ids"]
    org_of = dict(zip(cadre_ids, cadre_orgs, strict=True))
    base_rate = PROVINCE_RATE if ctx.province else BANNER_RATE
    days, cum_days = _day_weights(today, ctx.years)
    old_days = [d for d in days if (today - d).days >= 120]
    channels = [c for c, _w, _s in CHANNEL_MIX]
    channel_weights = [w for _c, w, _s in CHANNEL_MIX]
    group_size = {c: s for c, _w, s in CHANNEL_MIX}
    now = timezone.now()

    contact_id = ctx.next_id(Contact)
    cy_id = ctx.next_id(ContactYouth)
    need_id = ctx.next_id(Need)
    n_contacts = n_rows = 0
    need_rows: list[tuple] = []

    contact_cols = [
        "id",
        "cadre_id",
        "date",
        "channel",
        "topic",
        "notes",
        "need_raised",
        "help_given",
        "activity_id",
        "created_by_id",
        "created_at",
        "is_deleted",
        "notes_key",
        "notes_chars",
    ]
    # The demo's notes name no youth: one key per note text (contacts/notes_key.py).
    keys = {note: notes_key(note, ()) for note in NOTES}
    cy_cols = ["id", "contact_id", "youth_id", "cadre_id", "date", "is_offline"]

    # The contact tables' secondary indexes are built once after the load, not row by row.
    with indexes_deferred(Contact._meta.db_table, ContactYouth._meta.db_table):
        for start in range(0, len(cadre_ids), CADRE_BLOCK):
            block = cadre_ids[start : start + CADRE_BLOCK]
            links: dict[int, list[int]] = {cid: [] for cid in block}
            for cid, yid in (
                CadreYouth.objects.filter(cadre_id__gte=block[0], cadre_id__lte=block[-1])
                .order_by("cadre_id", "youth_id")
                .values_list("cadre_id", "youth_id")
            ):
                if cid in links:
                    links[cid].append(yid)
            contacts: list[tuple] = []
            youth_rows: list[tuple] = []
            for cid in block:
                youths = links[cid]
                if not youths:
                    continue
                # Diligence differs a lot between cadres; the demo cadre is a steady one.
                tier = rng.choices((0.12, 0.6, 1.0, 1.8), weights=(10, 20, 50, 20))[0]
                if cid == cadre_ids[0]:
                    tier = 1.0
                n = max(1, int(base_rate * ctx.years * tier * rng.uniform(0.8, 1.2)))
                # Some youths go quiet: dormant ones were last met long ago (or never).
                shuffled = youths[:]
                rng.shuffle(shuffled)
                n_dormant = max(2, len(shuffled) * rng.choice((5, 10, 15, 25)) // 100)
                dormant, active = shuffled[:n_dormant], shuffled[n_dormant:] or shuffled
                favour = [1.0 / (1 + i % 15) for i in range(len(active))]
                dates = rng.choices(days, cum_weights=cum_days, k=n)
                chans = rng.choices(channels, weights=channel_weights, k=n)
                picks = rng.choices(active, weights=favour, k=n)
                for i in range(n):
                    channel, day, first = chans[i], dates[i], picks[i]
                    if rng.random() < 0.03 and old_days:
                        first = rng.choice(dormant[: max(1, n_dormant // 2)])  # half never
                        day = rng.choice(old_days)
                    low, high = group_size[channel]
                    group = {first}
                    if high > 1:
                        size = min(rng.randint(low, high), len(active))
                        group.update(rng.sample(active, size - 1) if size > 1 else ())
                    offline = channel in OFFLINE
                    kind = "offline" if offline else "online"
                    need = ""
                    if rng.random() < 0.02:
                        category, need = rng.choice(NEEDS)
                        due = day + datetime.timedelta(days=7)
                        age = (today - day).days
                        if age > 14 and rng.random() < 0.88:
                            status = rng.choice((Need.Status.ANSWERED, Need.Status.CLOSED))
                            answered = timezone.make_aware(
                                datetime.datetime.combine(
                                    day + datetime.timedelta(days=rng.randint(1, 9)),
                                    datetime.time(16, 30),
                                )
                            )
                            answer = rng.choice(ANSWERS)
                        else:
                            status = rng.choice((Need.Status.NEW, Need.Status.IN_PROGRESS))
                            answered, answer = None, ""
                        need_rows.append(
                            (
                                need_id,
                                org_of[cid],
                                Need.Source.LOG,
                                category,
                                need,
                                first,
                                "",
                                "",
                                cid,
                                None,
                                contact_id,
                                status,
                                due,
                                answer,
                                answered,
                                None,
                                timezone.make_aware(
                                    datetime.datetime.combine(day, datetime.time(20))
                                ),
                            )
                        )
                        need_id += 1
                    # Drawn in this order (topic, then note) as before: the same demo per seed.
                    topic, note = rng.choice(TOPICS[kind]), rng.choice(NOTES)
                    contacts.append(
                        (
                            contact_id,
                            cid,
                            day,
                            channel.value,
                            topic,
                            note,
                            need,
                            rng.choice(HELP) if rng.random() < 0.05 else "",
                            None,
                            None,
                            entry_time(contact_id, day, now),
                            False,
                            *keys[note],
                        )
                    )
                    for yid in sorted(group):
                        youth_rows.append((cy_id, contact_id, yid, cid, day, offline))
                        cy_id += 1
                    contact_id += 1
            # Contacts before their youth rows (FK), needs after both.
            n_contacts += ctx.insert(Contact, contact_cols, contacts)
            n_rows += ctx.insert(ContactYouth, cy_cols, youth_rows)
            if ctx.province and start % (CADRE_BLOCK * 20) == 0:
                ctx.log(f"  联系记录 {n_contacts:,} 条（{start + len(block):,} 名团干部）")

    need_rows.extend(_desk_needs(ctx, need_id))
    need_cols = [
        "id",
        "organisation_id",
        "source",
        "category",
        "question",
        "youth_id",
        "asker_name",
        "reply_to",
        "owner_cadre_id",
        "owner_user_id",
        "contact_id",
        "status",
        "due_date",
        "answer",
        "answered_at",
        "activity_id",
        "created_at",
    ]
    n_needs = ctx.insert(Need, need_cols, need_rows)
    ctx.reset_sequence(Contact, ContactYouth, Need)
    ctx.log(f"联系记录 {n_contacts:,} 条，联系青年 {n_rows:,} 人次，需求 {n_needs:,} 条")
    if not ctx.province:  # the province benchmark measures scoring, not the demo's story
        _confirmations(ctx, cadre_ids)


def _confirmations(ctx: DemoContext, cadre_ids: list[int]) -> None:
    """Youths who confirmed their cadre's contacts in the last 90 days (see the docstring)."""
    from .models import Confirmation

    # A generator of its own: the apps seeded after this one get exactly the data they got
    # before confirmations existed (their tests and screenshots name demo people).
    rng = random.Random(ctx.seed * 7919 + 13)
    since = ctx.today - datetime.timedelta(days=90)
    demo_cadre = cadre_ids[0]
    # Each cadre's youths confirm at their own rate: many never, the demo cadre's about half.
    rate = {cid: rng.choice((0.0, 0.0, 0.1, 0.25, 0.4, 0.6)) for cid in cadre_ids}
    rate[demo_cadre] = 0.5
    rows = (
        ContactYouth.objects.filter(date__gte=since, contact__activity__isnull=True)
        .values_list("contact_id", "cadre_id", "youth_id", "date", "contact__channel")
        .order_by("contact_id", "youth_id")
    )
    seen_meeting: set[tuple[int, int, datetime.date]] = set()
    seen_share: set[tuple[int, int]] = set()
    out: list[Confirmation] = []
    for contact_id, cadre_id, youth_id, day, channel in rows.iterator(chunk_size=5000):
        if rng.random() >= rate.get(cadre_id, 0.0):
            continue
        meeting = channel == Channel.TALK and (cadre_id, youth_id, day) not in seen_meeting
        if meeting:
            seen_meeting.add((cadre_id, youth_id, day))
        elif (contact_id, youth_id) in seen_share:
            continue
        else:
            seen_share.add((contact_id, youth_id))
        out.append(
            Confirmation(
                contact_id=contact_id,
                cadre_id=cadre_id,
                youth_id=youth_id,
                kind=Confirmation.Kind.MEETING if meeting else Confirmation.Kind.SHARE,
                outcome=Confirmation.Outcome.CONFIRMED,
                day=day,
                device=f"demo{youth_id:028d}",
            )
        )
    # One cadre confirmed a contact from their own phone, and one youth denied a logged contact.
    for index, (field, value) in enumerate(
        (("same_device", True), ("outcome", Confirmation.Outcome.DENIED))
    ):
        candidates = [c for c in out if c.cadre_id != demo_cadre and c.kind == "share"]
        if len(candidates) > index:
            setattr(candidates[index], field, value)
    Confirmation.objects.bulk_create(out, batch_size=5000)
    denied = sum(1 for c in out if c.outcome == Confirmation.Outcome.DENIED)
    ctx.log(f"青年确认 {len(out):,} 条（其中否认 {denied} 条）")


def _desk_needs(ctx: DemoContext, need_id: int) -> Iterator[tuple]:
    """Needs from the venue (owner: the banner committee's staff) and the public form (owner:
    the cadre whose card QR code was scanned), spread over the year, including the demo cadre's
    open and overdue ones."""
    rng, today = ctx.rng, ctx.today
    cadre_ids, cadre_orgs = ctx.data["cadre_ids"], ctx.data["cadre_org_ids"]
    banner_id = ctx.data["banner"].pk
    n = 60 if not ctx.province else 2_000
    for i in range(n):
        back = rng.randrange(365)
        if i < 4:
            back = (0, 2, 10, 20)[i]  # the demo cadre: two new, two overdue
        day = today - datetime.timedelta(days=back)
        category, question = rng.choice(NEEDS)
        public = i < 4 or rng.random() < 0.5
        k = 0 if i < 4 else rng.randrange(len(cadre_ids))
        if back > 14 and rng.random() < 0.85:
            status = rng.choice((Need.Status.ANSWERED, Need.Status.CLOSED))
            answer = rng.choice(ANSWERS)
            answered = timezone.make_aware(
                datetime.datetime.combine(
                    day + datetime.timedelta(days=rng.randint(1, 6)), datetime.time(10)
                )
            )
        else:
            status, answer, answered = Need.Status.NEW, "", None
        anonymous = rng.random() < 0.3
        yield (
            need_id + i,
            cadre_orgs[k] if public else banner_id,
            Need.Source.PUBLIC if public else Need.Source.VENUE,
            category,
            question,
            None,
            "" if anonymous else ctx.person_name()[:1] + "同学",
            "" if anonymous else ctx.phone(),
            cadre_ids[k] if public else None,
            None,
            None,
            status,
            day + datetime.timedelta(days=7),
            answer,
            answered,
            None,
            timezone.make_aware(datetime.datetime.combine(day, datetime.time(9))),
        )
