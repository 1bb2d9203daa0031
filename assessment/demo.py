"""Demo data of the assessment: computed scores for past quarters (through the real service),
flags, supervision cases at each step, a mid-year review, so the bulletin is ready to print;
a few padded cadres the integrity page flags with evidence, and one verification outcome."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from cadres.models import CadreYouth, User, Youth
from cadres.selectors import in_subtree

from . import padding_bench, services, supervision
from .models import Flag, IntegrityFinding, IntegrityReview
from .periods import Period, period_containing


def seed(ctx) -> None:
    today = ctx.today
    current = period_containing(today)
    quarters = [current]
    for _ in range(1 if ctx.province else 3):
        quarters.insert(0, quarters[0].previous())
    periods = [*quarters]
    if not ctx.province:
        periods.insert(-1, period_containing(today, kind="half"))
        periods.insert(-1, period_containing(today, kind="year"))
        if current.start.month > 6:
            periods.insert(0, period_containing(datetime.date(today.year, 6, 30), kind="half"))
    if not ctx.province:  # entry times are plausible already (contacts/demo.py, entry_time)
        _plant_padding(ctx, current, quarters[-2] if len(quarters) > 1 else None)
    for period in periods:
        if period.start.year < today.year - 1:
            continue
        run = services.scores_compute(period=period, today=today)
        services.contact_stats_compute(run=run, today=today)
        ctx.log(f"活跃度 {run.period}：{run.n_cadres} 名团干部")

    banner = ctx.data["banner"]
    county = User.objects.filter(username="county").first()
    flags = list(
        in_subtree(Flag.objects.filter(resolved_at__isnull=True), organisation=banner).order_by(
            "id"
        )[:5]
    )
    steps_text = [
        ("提醒", "电话提醒本季度联系人数偏少", "两周内联系 20 名联系青年"),
        ("约谈", "旗团委书记约谈，分析原因：乡镇中心工作多", "每周固定半天走访青年"),
        ("诫勉", "诫勉谈话，记入干部档案", "一个月内完成“1+100”指标"),
    ]
    for i, flag in enumerate(flags):
        case = supervision.case_open(flag=flag, by=county)
        n_steps = min(i, 3)
        for k in range(n_steps):
            day = today - datetime.timedelta(days=30 - 10 * k)
            supervision.case_step_add(
                case=case,
                kind=k + 1,
                date=day,
                conducted_by="旗团委·王书记",
                notes=steps_text[k][1],
                agreed_actions=steps_text[k][2],
                follow_up_on=day + datetime.timedelta(days=14),
                by=county,
            )
        if i == 4:
            supervision.case_close(
                case=case, note="经旗团委研究，岗位调整后结案。", recovered=False, by=county
            )
    half = period_containing(today, kind="half")
    supervision.review_save(
        organisation=banner,
        period=half,
        notes="总体推进有力，线上联系活跃；线上转线下比例偏低，下半年重点组织走访和青年之家活动。",
        by=county,
    )
    ctx.log(f"预警 {len(flags)} 条，督导案例 {min(len(flags), 5)} 件")
    if not ctx.province:
        _verify_one(ctx, county, current)


def _plant_padding(ctx, current: Period, previous: Period | None) -> None:
    """Three padded cadres of the banner, each a pattern the integrity page should show:
    a list typed in one sitting with one pasted note, a "talk" with 60 youths plus invented
    youths on a block of phone numbers, and (last quarter) the quarter's logs entered in its
    last days."""
    rng = random.Random(ctx.seed + 13)
    cadre_ids = ctx.data["cadre_ids"]
    if len(cadre_ids) < 10:
        return
    sitting, meeting, dump = cadre_ids[3], cadre_ids[6], cadre_ids[9]
    links: dict[int, list[int]] = {}
    for cid, yid in CadreYouth.objects.filter(cadre_id__in=[sitting, meeting, dump]).values_list(
        "cadre_id", "youth_id"
    ):
        links.setdefault(cid, []).append(yid)
    today = ctx.today
    g = padding_bench._Gen(rng, current)
    # 1. 28 contacts typed 15–40 seconds apart yesterday evening, the same note on each.
    at = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=1), datetime.time(21, 5))
    )
    note = "与青年进行了深入交流，了解其思想动态和工作生活情况，宣传了团的政策。"
    for i in range(28):
        at += datetime.timedelta(seconds=rng.randint(15, 40))
        day = max(current.start, today - datetime.timedelta(days=rng.randint(1, 40)))
        g.add(
            sitting,
            day,
            rng.choice(("wechat", "qq", "talk")),
            "日常联系",
            note + f"（{i + 1}）",
            at,
            [rng.choice(links.get(sitting, [0]))],
        )
    # 2. A "face-to-face talk" with 60 youths, and 15 invented youths on consecutive numbers.
    day = max(current.start, today - datetime.timedelta(days=9))
    youths = links.get(meeting, [])
    g.add(
        meeting,
        day,
        "talk",
        "集中走访座谈",
        "",
        g.evening(day),
        rng.sample(youths, min(60, len(youths))),
    )
    org_id = (
        Youth.objects.filter(pk__in=youths[:1]).values_list("organisation_id", flat=True).first()
    )
    sector_id = Youth.objects.filter(pk__in=youths[:1]).values_list("sector_id", flat=True).first()
    if org_id and sector_id:
        ghosts = Youth.objects.bulk_create(
            Youth(
                name=ctx.person_name(),
                birth_year=2001,
                sector_id=sector_id,
                organisation_id=org_id,
                phone=f"{15847100200 + i}",
            )
            for i in range(15)
        )
        CadreYouth.objects.bulk_create(
            CadreYouth(cadre_id=meeting, youth_id=y.pk, linked_on=current.start) for y in ghosts
        )
        for y in ghosts:
            d = current.start + datetime.timedelta(
                days=rng.randint(0, max(0, (today - current.start).days - 1))
            )
            g.add(meeting, d, "wechat", "近况问候", "", g.evening(d), [y.pk])
    # 3. Last quarter: 36 contacts dated across it, entered on its last two days.
    if previous is not None and dump in links:
        at = timezone.make_aware(
            datetime.datetime.combine(previous.end - datetime.timedelta(days=1), datetime.time(9))
        )
        for _ in range(36):
            at += datetime.timedelta(seconds=rng.randint(80, 300))
            d = previous.start + datetime.timedelta(days=rng.randint(0, 75))
            g.add(
                dump,
                d,
                rng.choice(("wechat", "phone", "visit")),
                "近况问候",
                "",
                at,
                [rng.choice(links[dump])],
            )
    padding_bench._write_contacts(g)
    ctx.data["padded_cadre_ids"] = [sitting, meeting, dump]


def _verify_one(ctx, county: User | None, current: Period) -> None:
    """One verification outcome: the supervisor called five of the sitting cadre's youths."""
    padded = ctx.data.get("padded_cadre_ids")
    if not padded or county is None:
        return
    finding = IntegrityFinding.objects.filter(cadre_id=padded[0], period=current.code).first()
    if finding is None:
        return
    supervision.integrity_review_record(
        finding=finding,
        outcome=IntegrityReview.Outcome.CONFIRMED,
        note="电话回访其中 5 名青年：3 名表示近两个月没有和该干部联系过。已约该干部说明情况。",
        open_case=True,
        by=county,
    )
    ctx.log(
        f"真实性核查：{IntegrityFinding.objects.filter(period=current.code).count()} 名团干部有线索"
    )
