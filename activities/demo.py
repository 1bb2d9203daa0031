"""Demo data: a year of the activities the source report describes, with partners, sign-ups,
attendance (and so derived contacts), volunteer hours, commendations and entrepreneurship projects.

Bulk-loaded: attendance rows go in with ctx.insert, then each activity's contacts are derived by
the same service the pages use (activity_contacts_sync, set-based), so the demo obeys the rule.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from cadres.models import CadreYouth, Organisation, Youth
from cadres.selectors import organisation_subtree
from contacts.services import activity_contacts_sync

from . import plan_demo
from .models import (
    Activity,
    Commendation,
    EntrepreneurshipProject,
    Partner,
    ProjectSupport,
    Registration,
    VolunteerHours,
    VolunteerOrganisation,
    new_code,
)
from .selectors import attendance_pairs

PARTNERS = [
    ("阿鲁科尔沁旗农村信用合作联社", Partner.Kind.FINANCE),
    ("阿旗职业教育中心", Partner.Kind.SCHOOL),
    ("太平洋证券", Partner.Kind.FINANCE),
    ("旗教育局", Partner.Kind.GOVERNMENT),
    ("旗民政局", Partner.Kind.GOVERNMENT),
    ("北京爱心人士团队", Partner.Kind.CHARITY),
    ("旗人力资源和社会保障局", Partner.Kind.GOVERNMENT),
    ("中华石油班资助方", Partner.Kind.CHARITY),
]

# (month, day, title, category, partners, participants, hours, place)
CALENDAR = [
    (1, 12, "“新春送希望”慰问困难青少年", "care", [5, 4], 40, 3, "天山镇"),
    (3, 5, "“我为雷锋代言”学雷锋志愿服务", "volunteer", [], 60, 3, "天山镇街道"),
    (3, 18, "“1+100”团干部直接联系青年系统培训", "training", [], 45, 2, "旗团委会议室"),
    (4, 3, "“清明祭英烈”主题实践活动", "thematic", [], 80, 2, "烈士陵园"),
    (4, 20, "劳务输出工作培训会", "employment", [1], 70, 3, "阿旗职教中心"),
    (5, 4, "“健步走 迎五四”青年健步走", "culture", [], 150, 2, "罕山广场"),
    (5, 16, "全旗共青团干部金融知识专题培训会", "training", [0, 2], 60, 3, "信用联社培训室"),
    (5, 31, "“情暖童心 圆梦六一”关爱儿童", "care", [6, 3], 50, 3, "旗第二小学"),
    (6, 6, "“爱心送考 与文明城市一起奔跑”暨爱心车队启动", "volunteer", [], 40, 4, "第一中学"),
    (6, 20, "“一学一做”教育实践专题学习", "theory", [], 50, 2, "青年爱里"),
    (7, 1, "“红领巾心向党”主题教育", "thematic", [4], 90, 2, "旗第二小学"),
    (
        8,
        8,
        "“扶贫路上党旗飘”主题文艺汇演（22个代表队）",
        "culture",
        [0, 2],
        200,
        4,
        "旗文化中心",
    ),
    (9, 10, "“青春献礼70载·志愿服务亮北疆”法律咨询志愿服务", "volunteer", [], 40, 3, "天山镇"),
    (9, 25, "“就业援助月”返乡青年专场招聘会", "employment", [6, 1], 120, 4, "旗人才市场"),
    (10, 15, "“中华石油班”慰问", "care", [7], 30, 2, "蒙古族中学"),
    (11, 9, "“青春志愿行 共创文明城”主题志愿服务", "volunteer", [], 60, 3, "天山镇社区"),
    (12, 2, "青年创业小额贷款政策宣讲", "employment", [0], 50, 2, "青年爱里"),
]
UPCOMING = [
    (5, "“爱在红山 助梦迎新”助学活动", "care", [5, 3], 60, 3, "天山镇"),
    (12, "青年创业项目路演", "employment", [0, 2], 40, 3, "青年爱里"),
    (20, "冬季送温暖志愿服务", "volunteer", [], 50, 3, "天山镇社区"),
]
VOLUNTEER_ORGS = ["阿旗青年志愿者协会", "爱心送考车队", "青年法律服务志愿队"]
PROJECTS = [
    ("肉牛标准化养殖", "畜牧养殖", "operating"),
    ("蒙餐农家乐", "乡村旅游", "starting"),
    ("电商直播带货·沙果干", "电子商务", "growing"),
    ("小杂粮深加工", "农产品加工", "idea"),
    ("汽修快修店", "服务业", "operating"),
    ("草编手工艺合作社", "手工艺", "starting"),
]


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(hour), tzinfo=timezone.get_current_timezone()
    )


def seed(ctx) -> None:
    rng = ctx.rng
    banner: Organisation = ctx.data["banner"]
    township: Organisation = ctx.data["township"]
    orgs = list(organisation_subtree(organisation=banner).order_by("path"))
    lo, hi = ctx.data["youth_range"]
    # Activities draw on the banner's youths; at province scale keep to the first banner's range.
    hi = min(hi, lo + 8_000)
    cadre_ids = ctx.data["cadre_ids"][:80]

    partners = [Partner.objects.create(name=n, kind=k) for n, k in PARTNERS]
    today = ctx.today
    plan = []
    for month, day, title, cat, parts, n, hours, place in CALENDAR:
        date = datetime.date(today.year - 1, month, day)
        if date <= today - datetime.timedelta(days=365):
            date = date.replace(year=today.year)
        if date >= today:
            date = date.replace(year=today.year - 1)
        plan.append((date, title, cat, parts, n, hours, place, Activity.Status.DONE))
    for days, title, cat, parts, n, hours, place in UPCOMING:
        plan.append(
            (
                today + datetime.timedelta(days=days),
                title,
                cat,
                parts,
                n,
                hours,
                place,
                Activity.Status.OPEN,
            )
        )
    # One at the demo township, today, so the demo cadre has something to check people in at.
    plan.append((today, "青年爱里“有问必答”政策咨询会", "training", [0], 30, 2, "青年爱里", "open"))

    activities = []
    for i, (date, title, cat, parts, n, hours, place, status) in enumerate(plan):
        org = township if i % 3 == 0 or date == today else banner
        start = _at(date, 9 if date != today else max(timezone.localtime().hour - 1, 0))
        activity = Activity.objects.create(
            title=title,
            category=cat,
            organisation=org,
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=hours),
            place=place,
            capacity=n + 20 if rng.random() < 0.6 else None,
            status=status,
            description=f"{title}。",
            outcome=(f"约 {n} 名青年参加。" if status == Activity.Status.DONE else ""),
            register_code=new_code(),
            checkin_code=new_code(),
        )
        activity.partners.set([partners[p] for p in parts])
        responsible = [cadre_ids[0]] if org == township else []
        responsible += rng.sample(cadre_ids, 2)
        activity.responsible_cadres.set(responsible)
        activities.append((activity, n, hours))

    # Registrations and attendance: ~85% of registrants attend a past activity.
    now = timezone.now()
    rows = []
    for activity, n, hours in activities:
        youth_ids = rng.sample(range(lo, hi), min(n, hi - lo))
        past = activity.status == Activity.Status.DONE
        for yid in youth_ids:
            attended = past and rng.random() < 0.85
            rows.append(
                (
                    activity.pk,
                    yid,
                    "",
                    "",
                    rng.choice(["staff", "staff", "public"]),
                    now,
                    activity.starts_at if attended else None,
                    activity.ends_at if attended else None,
                    Decimal(hours) if attended else None,
                )
            )
    ctx.insert(
        Registration,
        [
            "activity_id",
            "youth_id",
            "name",
            "phone",
            "source",
            "created_at",
            "checked_in_at",
            "checked_out_at",
            "hours",
        ],
        rows,
    )
    # Derived contacts: the same rule as a check-in, one set-based sync per activity.
    n_pairs = 0
    for activity, _n, _h in activities:
        if activity.status == Activity.Status.DONE:
            n_pairs += activity_contacts_sync(
                activity=activity, pairs=list(attendance_pairs(activity))
            )
    ctx.log(f"活动 {len(activities)} 项，报名 {len(rows)} 人次，活动联系 {n_pairs} 条")

    # Volunteer organisations (named as the cadres' volunteer_org liaison channels), members,
    # entered hours (most approved, a few waiting for the township staff).
    vos = [
        VolunteerOrganisation.objects.create(
            name=name, organisation=banner if i else township, description=""
        )
        for i, name in enumerate(VOLUNTEER_ORGS)
    ]
    through = VolunteerOrganisation.members.through
    members = rng.sample(range(lo, hi), min(300, hi - lo))
    through.objects.bulk_create(
        [through(volunteerorganisation_id=vos[i % 3].pk, youth_id=y) for i, y in enumerate(members)]
    )
    hour_rows = []
    for i, yid in enumerate(members[:200]):
        status = "pending" if i % 10 == 0 else "approved"
        hour_rows.append(
            (
                yid,
                vos[i % 3].pk,
                township.pk if i % 2 else banner.pk,
                ctx.date_within_year(),
                Decimal(rng.choice([1, 2, 2, 3, 4])),
                rng.choice(["社区环境整治", "敬老院陪伴", "交通文明劝导", "图书馆整理"]),
                status,
                None,
                None,
                now,
            )
        )
    ctx.insert(
        VolunteerHours,
        [
            "youth_id",
            "volunteer_organisation_id",
            "organisation_id",
            "date",
            "hours",
            "description",
            "status",
            "entered_by_id",
            "approved_by_id",
            "created_at",
        ],
        hour_rows,
    )

    # Commendations at the performance: 脱贫攻坚标兵, 创新创业标兵; 优秀青年志愿者; a team.
    show = next(a for a, _n, _h in activities if "文艺汇演" in a.title)
    attended = list(
        Registration.objects.filter(activity=show, checked_in_at__isnull=False).values_list(
            "youth_id", flat=True
        )[:9]
    )
    day = timezone.localdate(show.starts_at)
    honours = [("脱贫攻坚标兵", "带领乡亲发展肉牛养殖，带动 12 户脱贫。")] * 3 + [
        ("创新创业标兵", "返乡创业，以电商带动本地农产品销售。")
    ] * 3
    commendations = [
        Commendation(title=t, youth_id=y, activity=show, organisation=banner, date=day, citation=c)
        for (t, c), y in zip(honours, attended, strict=False)
    ]
    commendations += [
        Commendation(
            title="优秀青年志愿者",
            youth_id=y,
            organisation=banner,
            date=day,
            citation="全年志愿服务时长名列前茅。",
        )
        for y in members[:5]
    ]
    commendations.append(
        Commendation(
            title="优秀代表队",
            team_name="天山镇团委代表队",
            activity=show,
            organisation=banner,
            date=day,
            citation="原创节目《党旗飘扬》。",
        )
    )
    # The demo cadre's first youth is commended too, so their record shows it.
    first_link = CadreYouth.objects.filter(cadre_id=cadre_ids[0]).order_by("youth_id").first()
    if first_link is not None:
        commendations.append(
            Commendation(
                title="优秀青年志愿者",
                youth_id=first_link.youth_id,
                organisation=township,
                date=day,
                citation="爱心送考车队骨干。",
            )
        )
    Commendation.objects.bulk_create(commendations)
    plan_demo.seed_teams(show, orgs[1:])
    plan_demo.seed_plans([a for a, _n, _h in activities], banner, today)

    # Entrepreneurship project library with support records.
    returnee_ids = list(
        Youth.objects.filter(pk__gte=lo, pk__lt=hi, sector__code__in=["returnees", "rural"])
        .order_by("pk")
        .values_list("pk", flat=True)[:60]
    )
    supports = []
    for i, yid in enumerate(rng.sample(returnee_ids, min(len(returnee_ids), 18))):
        name, field, stage = PROJECTS[i % len(PROJECTS)]
        project = EntrepreneurshipProject.objects.create(
            name=name if i < len(PROJECTS) else f"{name}（{i // len(PROJECTS) + 1}）",
            youth_id=yid,
            organisation=orgs[i % len(orgs)] if i % 2 else township,
            field=field,
            stage=stage,
            description=f"{field}项目，已纳入农村青年创业项目库。",
        )
        supports.append(
            ProjectSupport(
                project=project,
                kind="training",
                date=ctx.date_within_year(),
                description="青年创业培训班",
                partner=partners[1],
            )
        )
        if i % 2 == 0:
            supports.append(
                ProjectSupport(
                    project=project,
                    kind="loan",
                    date=ctx.date_within_year(),
                    description="青年创业小额贷款",
                    partner=partners[0],
                    loan_amount=Decimal(rng.choice([30000, 50000, 80000, 100000])),
                    loan_status=rng.choice(["referred", "approved", "disbursed", "disbursed"]),
                )
            )
        if i % 3 == 0:
            supports.append(
                ProjectSupport(
                    project=project,
                    kind="mentoring",
                    date=ctx.date_within_year(),
                    mentor=ctx.person_name(),
                    description="一对一创业导师",
                )
            )
    ProjectSupport.objects.bulk_create(supports)
    ctx.data["activity_ids"] = [a.pk for a, _n, _h in activities]
