"""Demo data for the organisation tree, logins, fields, quota rules, cadres, youths and links.

Also home of DemoContext, the shared toolbox every app's demo.py uses: a seeded RNG, the anchor
date, realistic Chinese names, and `insert()` for bounded-memory bulk loads (COPY on PostgreSQL).
"""

from __future__ import annotations

import datetime
import random
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.utils import timezone

from config.bulk import copy_rows, indexes_deferred

from . import services
from .models import (
    Cadre,
    CadreType,
    CadreYouth,
    LiaisonChannel,
    Organisation,
    QuotaRule,
    Sector,
    User,
    Youth,
)
from .scoping import organisation_subtree

DEMO_PASSWORD = "lianqing-demo"

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文包"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉宇浩凯健俊帆帅旭宁龙林欣悦雪琳晨阳博文轩然婷雅琪思雨佳怡梓涵子豪宇航泽昊天乐嘉鑫磊斌波志刚海峰巴特尔乌兰其其格娜仁托雅阿古拉"  # noqa: E501
MONGOLIAN_NAMES = [
    "巴特尔",
    "乌兰",
    "其其格",
    "娜仁",
    "托雅",
    "阿古拉",
    "苏日娜",
    "额尔敦",
    "哈斯",
    "图雅",
    "宝音",
    "朝鲁",
    "萨仁",
    "吉雅",
    "满都拉",
]

SECTORS = [
    ("students", "在校学生"),
    ("enterprise", "企业青年"),
    ("rural", "农村牧区青年"),
    ("social_org", "社会组织青年"),
    ("volunteers", "青年志愿者"),
    ("public_sector", "机关事业单位青年"),
    ("new_economy", "自由职业和新业态青年"),
    ("returnees", "返乡青年"),
]

TOWNSHIPS = [
    "天山镇",
    "天山口镇",
    "双胜镇",
    "坤都镇",
    "绍根镇",
    "扎嘎斯台镇",
    "先锋乡",
    "新民乡",
    "巴彦花镇",
    "罕苏木苏木",
    "巴拉奇如德苏木",
    "赛罕塔拉苏木",
]
SCHOOLS = ["阿鲁科尔沁旗第一中学", "阿鲁科尔沁旗职业教育中心", "阿鲁科尔沁旗蒙古族中学"]
ENTERPRISES = ["阿鲁科尔沁旗农村信用合作联社", "旗供电公司"]
OTHERS = ["旗直机关团工委"]
UNITS_BY_SECTOR = {
    "students": [
        "第一中学高二(3)班",
        "职教中心汽修专业",
        "蒙古族中学高一(1)班",
        "赤峰学院(在外就读)",
    ],
    "enterprise": ["农村信用社营业部", "旗供电公司", "天山镇物流园", "绿色食品加工厂"],
    "rural": ["天山镇新胜村", "双胜镇双胜村", "坤都镇巴彦包力高嘎查", "绍根镇阿根台嘎查"],
    "social_org": ["青年爱里志愿服务队", "红山公益协会", "阿旗青年创业者协会"],
    "volunteers": ["爱心送考车队", "青年法律服务志愿队", "阿旗义工联"],
    "public_sector": ["旗人民医院", "旗税务局", "天山镇政府", "旗第二小学"],
    "new_economy": ["外卖骑手站点", "电商直播工作室", "网约车驾驶员", "自由摄影师"],
    "returnees": ["返乡创业·肉牛养殖", "返乡创业·农家乐", "返乡务工人员"],
}
POSITIONS = ["书记", "副书记", "组织委员", "宣传委员", "团支部书记", "专职副书记", "挂职副书记"]


PROVINCE_NAME = "共青团内蒙古自治区委员会"
OTHER_CITIES = [
    "呼和浩特市",
    "包头市",
    "乌海市",
    "通辽市",
    "鄂尔多斯市",
    "呼伦贝尔市",
    "巴彦淖尔市",
    "乌兰察布市",
    "兴安盟",
    "锡林郭勒盟",
    "阿拉善盟",
]

# Cadres and youths per scale. "small" is the banner with a quarter of its cadres, each still
# holding about a quota's worth of youths: every app's demo runs, in a fraction of the time (the
# seed's determinism test seeds three times).
SCALES = {"small": (20, 2_000), "banner": (80, 8_000), "province": (10_000, 1_000_000)}


@dataclass
class DemoContext:
    """Shared state while seeding: everything a later app's demo needs from earlier ones."""

    scale: str
    seed: int
    stdout: Any = None
    today: datetime.date = field(default_factory=timezone.localdate)
    # Years of contact history (seed_demo --years): the cost-with-history benchmark (issue 16).
    years: int = 1
    rng: random.Random = field(init=False)
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    @property
    def province(self) -> bool:
        return self.scale == "province"

    def log(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)
            if hasattr(self.stdout, "flush"):
                self.stdout.flush()

    def person_name(self) -> str:
        rng = self.rng
        if rng.random() < 0.15:
            return rng.choice(MONGOLIAN_NAMES) + (rng.choice(GIVEN) if rng.random() < 0.3 else "")
        return rng.choice(SURNAMES) + "".join(
            rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2)))
        )

    def phone(self) -> str:
        return f"1{self.rng.choice('3578')}{self.rng.randrange(10**9):09d}"

    def date_within_year(self) -> datetime.date:
        return self.today - datetime.timedelta(days=self.rng.randrange(365))

    def next_id(self, model: type[models.Model]) -> int:
        last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
        return (last or 0) + 1

    def insert(
        self,
        model: type[models.Model],
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        batch: int = 20_000,
    ) -> int:
        """Bulk-load rows (tuples of column values) in bounded batches; returns the count.

        PostgreSQL gets COPY (the fastest path for millions of rows); other databases get
        executemany. Rows that set the primary key explicitly must call `reset_sequence` after.
        """
        table = model._meta.db_table
        total = 0
        for chunk in _chunks(rows, batch):
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    copy_rows(cursor, table=table, columns=columns, rows=chunk)
            else:
                placeholders = ", ".join(["%s"] * len(columns))
                with connection.cursor() as cursor:
                    cursor.executemany(
                        f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({placeholders})',
                        chunk,
                    )
            total += len(chunk)
        return total

    def reset_sequence(self, *model_list: type[models.Model]) -> None:
        from django.core.management.color import no_style

        statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def _chunks(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    chunk: list[Sequence[Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def seed(ctx: DemoContext) -> None:
    rng = ctx.rng
    for order, (code, name) in enumerate(SECTORS):
        Sector.objects.create(code=code, name=name, sort_order=order)
    QuotaRule.objects.bulk_create(
        [
            QuotaRule(cadre_type=CadreType.FULL_TIME, quota=100, min_sectors=5),
            QuotaRule(cadre_type=CadreType.SECONDED, quota=100, min_sectors=5),
            QuotaRule(cadre_type=CadreType.OFFICE, quota=100, min_sectors=5),
            QuotaRule(cadre_type=CadreType.PART_TIME, quota=30, min_sectors=3),
        ]
    )
    sectors = list(Sector.objects.order_by("sort_order"))
    ctx.data["sectors"] = sectors

    if ctx.province:
        # A province committee above twelve leagues/cities: the `province` login sees it all,
        # `city` one city of about eight banners (the banner demo keeps its city root).
        root = services.organisation_create(name=PROVINCE_NAME, kind=Organisation.Kind.PROVINCE)
        ctx.data["province"] = root
        city = services.organisation_create(
            name="共青团赤峰市委员会", kind=Organisation.Kind.CITY, parent=root
        )
        banners, leaf_orgs = _province_tree(ctx, root, city)
        banner = banners[0]
    else:
        city = services.organisation_create(name="共青团赤峰市委员会", kind=Organisation.Kind.CITY)
        banner = services.organisation_create(
            name="共青团阿鲁科尔沁旗委员会", kind=Organisation.Kind.BANNER, parent=city
        )
        leaf_orgs = _banner_tree(ctx, banner)
    ctx.data["banner"] = banner
    township = organisation_subtree(organisation=banner).get(name="天山镇团委")
    ctx.data["township"] = township

    # Cadres: a few at the banner committee itself, the rest spread over the committees below.
    n_cadres, n_youths = SCALES[ctx.scale]
    org_pool = [banner] * (3 if not ctx.province else 1) + leaf_orgs
    cadre_id = ctx.next_id(Cadre)
    cadre_rows = []
    cadre_orgs: list[Organisation] = []
    start = ctx.today.replace(month=1, day=1) - datetime.timedelta(days=365)
    for i in range(n_cadres):
        org = township if i == 0 else org_pool[i % len(org_pool)]
        cadre_type = rng.choices([t.value for t in CadreType], weights=[4, 2, 3, 1])[0]
        is_secretary = org.kind == Organisation.Kind.BRANCH or (
            cadre_type == CadreType.PART_TIME and rng.random() < 0.4
        )
        position = "团支部书记" if is_secretary else rng.choice(POSITIONS[:4] + POSITIONS[5:])
        cadre_rows.append(
            (
                cadre_id + i,
                ctx.person_name(),
                rng.choice("MF"),
                org.pk,
                cadre_type,
                position,
                is_secretary,
                ctx.phone(),
                "",
                "",
                start,
                None,
                timezone.now(),
            )
        )
        cadre_orgs.append(org)
    ctx.insert(
        Cadre,
        [
            "id",
            "name",
            "gender",
            "organisation_id",
            "cadre_type",
            "position",
            "is_branch_secretary",
            "phone",
            "wechat_id",
            "card_note",
            "active_from",
            "active_until",
            "created_at",
        ],
        cadre_rows,
    )
    ctx.reset_sequence(Cadre)
    cadre_ids = [row[0] for row in cadre_rows]
    ctx.data["cadre_ids"] = cadre_ids
    ctx.data["cadre_org_ids"] = [o.pk for o in cadre_orgs]
    ctx.log(f"团干部 {len(cadre_ids)} 名")

    # Youths: belong to the organisation of the cadre who first reached them.
    youth_id = ctx.next_id(Youth)
    floor = ctx.today.year - 35
    per_cadre = max(1, n_youths // n_cadres)
    youth_cadre = array("i")  # owner index per youth: 4 bytes a youth, not a Python int

    def youth_rows() -> Iterator[tuple]:
        for i in range(n_youths):
            owner = i // per_cadre if i // per_cadre < n_cadres else rng.randrange(n_cadres)
            youth_cadre.append(owner)
            sector = _sector_for(rng, sectors, owner)
            unit = rng.choice(UNITS_BY_SECTOR.get(sector.code, ["—"]))
            birth_year = (
                rng.randint(ctx.today.year - 18, ctx.today.year - 9)
                if sector.code == "students"
                else rng.randint(floor, ctx.today.year - 18)
            )
            yield (
                youth_id + i,
                ctx.person_name(),
                rng.choice("MF"),
                birth_year,
                sector.pk,
                unit,
                cadre_orgs[owner].pk,
                ctx.phone() if rng.random() < 0.8 else "",
                "",
                "",
                timezone.now(),
            )

    # Secondary indexes built once after the load (config/bulk.py: indexes_deferred).
    with indexes_deferred(Youth._meta.db_table, CadreYouth._meta.db_table):
        ctx.insert(
            Youth,
            [
                "id",
                "name",
                "gender",
                "birth_year",
                "sector_id",
                "unit",
                "organisation_id",
                "phone",
                "wechat_id",
                "notes",
                "created_at",
            ],
            youth_rows(),
        )
        ctx.reset_sequence(Youth)
        ctx.data["youth_range"] = (youth_id, youth_id + n_youths)
        ctx.log(f"青年 {n_youths} 名")

        # Links: most cadres hold (nearly) their 100; a few are far below quota; some youths are
        # shared between two cadres (the committee sees those duplicates).
        shortfall = {cid for cid in cadre_ids if rng.random() < 0.15}
        shortfall.discard(cadre_ids[0])  # the demo cadre login shows a populated quota
        channels = _seed_channels(ctx, cadre_ids)

        def link_rows() -> Iterator[tuple]:
            for index, owner in enumerate(youth_cadre):
                cid = cadre_ids[owner]
                if cid in shortfall and rng.random() < 0.6:
                    continue
                if owner == 0 and index >= per_cadre - 7:
                    continue  # the demo cadre is a few youths short of 100: "93/100", work to do
                linked = ctx.date_within_year()
                yield (cid, youth_id + index, linked, _channel_for(channels, cid, index))
                if rng.random() < 0.03:
                    other = cadre_ids[rng.randrange(n_cadres)]
                    if other != cid:
                        yield (
                            other,
                            youth_id + index,
                            linked,
                            _channel_for(channels, other, index),
                        )

        n_links = ctx.insert(
            CadreYouth, ["cadre_id", "youth_id", "linked_on", "channel_id"], link_rows()
        )
    ctx.log(f"联系关系 {n_links} 条")
    # Bulk loads bypass the services: recount the stored quota progress once, set-based.
    services.cadre_progress_refresh()
    _seed_users(ctx, banner, township, cadre_ids[0])


def _sector_for(rng: random.Random, sectors: list[Sector], owner: int) -> Sector:
    # Each cadre's youths lean to a few fields, so some cadres end up short of field diversity.
    if owner % 7 == 3:
        return sectors[rng.choice((0, 0, 2))]
    return rng.choice(sectors)


def _banner_tree(ctx: DemoContext, banner: Organisation) -> list[Organisation]:
    kind = Organisation.Kind
    orgs: list[Organisation] = []
    for name in TOWNSHIPS:
        town = services.organisation_create(name=f"{name}团委", kind=kind.TOWNSHIP, parent=banner)
        orgs.append(town)
        if name in ("天山镇", "双胜镇"):
            for n in (1, 2):
                orgs.append(
                    services.organisation_create(
                        name=f"{name}第{n}团支部", kind=kind.BRANCH, parent=town
                    )
                )
    for name in SCHOOLS:
        orgs.append(
            services.organisation_create(name=f"{name}团委", kind=kind.SCHOOL, parent=banner)
        )
    for name in ENTERPRISES:
        orgs.append(
            services.organisation_create(name=f"{name}团委", kind=kind.ENTERPRISE, parent=banner)
        )
    for name in OTHERS:
        orgs.append(services.organisation_create(name=name, kind=kind.OTHER, parent=banner))
    return orgs


def _province_tree(
    ctx: DemoContext, root: Organisation, city: Organisation
) -> tuple[list[Organisation], list[Organisation]]:
    """12 leagues/cities (`city` first), 100 banners/counties over them, each banner with 12
    committees and 12 branches: 2,513 organisations."""
    kind = Organisation.Kind
    cities = [city] + [
        services.organisation_create(name=f"共青团{name}委员会", kind=kind.CITY, parent=root)
        for name in OTHER_CITIES
    ]
    banners: list[Organisation] = []
    leaves: list[Organisation] = []
    for b in range(100):
        name = "共青团阿鲁科尔沁旗委员会" if b == 0 else f"共青团第{b + 1}旗县委员会"
        parent = cities[b * len(cities) // 100]
        banner = services.organisation_create(name=name, kind=kind.BANNER, parent=parent)
        banners.append(banner)
        for t in range(12):
            town_name = f"{TOWNSHIPS[t]}团委" if b == 0 else f"第{b + 1}旗县{TOWNSHIPS[t]}团委"
            town = services.organisation_create(name=town_name, kind=kind.TOWNSHIP, parent=banner)
            leaves.append(town)
            for n in range(1, 3 if t < 6 else 1):
                leaves.append(
                    services.organisation_create(
                        name=f"{town_name[:-2]}第{n}团支部", kind=kind.BRANCH, parent=town
                    )
                )
    return banners, leaves


def _channel_for(channels: dict[int, list[int]], cadre_id: int, index: int) -> int | None:
    """The channel through which a youth was reached: a deterministic pick among the cadre's."""
    held = channels.get(cadre_id)
    return held[index % len(held)] if held else None


def _seed_channels(ctx: DemoContext, cadre_ids: list[int]) -> dict[int, list[int]]:
    """Each cadre holds some of the nine channels (the demo cadre misses two); returns the
    channel ids per cadre so that links can say through which channel a youth came."""
    rng = ctx.rng
    next_id = ctx.next_id(LiaisonChannel)
    channels: dict[int, list[int]] = {}
    kinds = list(LiaisonChannel.Kind)
    names = {
        "co_building": "天山街道区域化团建共建委员会",
        "youth_home": "青年爱里·青年之家",
        "social_org": "阿旗青年创业者协会",
        "interest_group": "阿旗青年摄影协会",
        "volunteer_org": "阿旗青年志愿者协会",
        "school_class": "第一中学高二(3)班",
        "enterprise": "阿旗农村信用合作联社",
        "grassroots_point": "“走转改”基层联系点",
        "field_visit": "下乡调研走访",
    }

    def rows() -> Iterator[tuple]:
        pk = next_id
        for cid in cadre_ids:
            held = kinds if cid == cadre_ids[0] else rng.sample(kinds, rng.randint(3, len(kinds)))
            if cid == cadre_ids[0]:
                held = kinds[:-2]  # the demo cadre still misses two channels: something to do
            for k in held:
                channels.setdefault(cid, []).append(pk)
                yield (pk, cid, k.value, names[k.value], ctx.date_within_year(), "")
                pk += 1

    ctx.insert(
        LiaisonChannel, ["id", "cadre_id", "kind", "name", "established_on", "notes"], rows()
    )
    ctx.reset_sequence(LiaisonChannel)
    return channels


def _seed_users(
    ctx: DemoContext, banner: Organisation, township: Organisation, cadre_id: int
) -> None:
    role = User.Role
    cadre = Cadre.objects.get(pk=cadre_id)
    # The city committee is the banner's parent (about eight banners at province scale); the
    # province seed adds `province` at its root, the province-wide user the benchmarks log in as.
    city = banner.parent
    logins = [  # username, organisation, role, display name, superuser (README lists them)
        ("admin", banner, role.ADMIN, "管理员", True),
        *(
            [("province", ctx.data["province"], role.STAFF, "团省委·刘部长", False)]
            if "province" in ctx.data
            else []
        ),
        ("city", city, role.STAFF, "团市委·赵部长", False),
        ("county", banner, role.STAFF, "旗团委·王书记", False),
        ("township", township, role.STAFF, "天山镇团委·李干事", False),
        ("cadre", township, role.CADRE, cadre.name, False),
    ]
    users = {}
    for username, organisation, user_role, name, superuser in logins:
        users[username] = services.user_create(
            username=username,
            password=DEMO_PASSWORD,
            organisation=organisation,
            role=user_role,
            is_superuser=superuser,
            is_demo=True,
            first_name=name,
        )
    Cadre.objects.filter(pk=cadre_id).update(user=users["cadre"])
