"""Demo data of the assessment: computed scores for past quarters (through the real service),
flags, supervision cases at each step, a mid-year review, so the bulletin is ready to print."""

from __future__ import annotations

import datetime

from cadres.models import User
from cadres.selectors import in_subtree

from . import services
from .models import Flag
from .periods import period_containing


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
        case = services.case_open(flag=flag, by=county)
        n_steps = min(i, 3)
        for k in range(n_steps):
            day = today - datetime.timedelta(days=30 - 10 * k)
            services.case_step_add(
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
            services.case_close(
                case=case, note="经旗团委研究，岗位调整后结案。", recovered=False, by=county
            )
    half = period_containing(today, kind="half")
    services.review_save(
        organisation=banner,
        period=half,
        notes="总体推进有力，线上联系活跃；线上转线下比例偏低，下半年重点组织走访和青年之家活动。",
        by=county,
    )
    ctx.log(f"预警 {len(flags)} 条，督导案例 {min(len(flags), 5)} 件")
