"""The organisation tree, users and their roles, cadres, youths, and the cadre ↔ youth links."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .quota import DEFAULT_MIN_CHANNELS, DEFAULT_MIN_SECTORS, DEFAULT_QUOTA

# One segment of a materialised path: the organisation's id, zero-padded so that ordering by
# path is tree order and a prefix never matches a sibling (7 digits: ten million organisations).
PATH_SEGMENT_WIDTH = 7
PATH_SEPARATOR = "."
# Youths whose birth year makes them possibly younger than 14 are minors for data protection
# (PIPL treats under-14s as sensitive). Only the birth year is known, so we err on the safe side.
MINOR_AGE = 14


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Organisation(models.Model):
    class Kind(models.TextChoices):
        PROVINCE = "province", _("团省委（自治区团委）")
        CITY = "city", _("团市委")
        BANNER = "banner", _("团旗委（团县委）")
        TOWNSHIP = "township", _("乡镇（苏木）团委")
        SCHOOL = "school", _("学校团委")
        ENTERPRISE = "enterprise", _("企业团委")
        OTHER = "other", _("其他团（工）委")
        BRANCH = "branch", _("团支部")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path ("0000001.0000004."): a subtree is one indexed prefix query. Written
    # only by cadres.services (create and move), never by hand.
    path = models.CharField(_("路径"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("层级"), default=0, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["path"]
        indexes = [
            # Serves every subtree query: WHERE path LIKE '<prefix>%' (the scoping selector).
            # text_pattern_ops lets PostgreSQL use the index for LIKE under any collation.
            models.Index(
                fields=["path"], name="org_subtree_path_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_ancestor_of(self, other: Organisation) -> bool:
        return other.path.startswith(self.path)


class User(AbstractUser):
    class Role(models.TextChoices):
        STAFF = "staff", _("团委工作人员")
        CADRE = "cadre", _("团干部")
        ADMIN = "admin", _("系统管理员")

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("所属组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    role = models.CharField(_("角色"), max_length=8, choices=Role.choices, default=Role.CADRE)
    # Demo accounts from seed_demo: refused at login unless DEBUG or LIANQING_DEMO is on.
    is_demo = models.BooleanField(_("演示账号"), default=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    @property
    def sees_subtree(self) -> bool:
        """Staff and admins supervise their organisation's whole subtree; a cadre sees own work."""
        return self.is_superuser or self.role in (self.Role.STAFF, self.Role.ADMIN)


class Sector(models.Model):
    """A field (领域) youths come from; the committee keeps the list."""

    name = models.CharField(_("名称"), max_length=50, unique=True)
    code = models.SlugField(_("代码"), max_length=30, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("领域")
        verbose_name_plural = _("领域")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class CadreType(models.TextChoices):
    FULL_TIME = "full_time", _("专职")
    SECONDED = "seconded", _("挂职")
    PART_TIME = "part_time", _("兼职")
    OFFICE = "office", _("机关干部")


class QuotaRule(models.Model):
    """How many distinct youths, from how many fields, a cadre of a type must keep (1+100)."""

    cadre_type = models.CharField(
        _("团干部类型"), max_length=16, choices=CadreType.choices, unique=True
    )
    quota = models.PositiveIntegerField(_("联系青年数"), default=DEFAULT_QUOTA)
    min_sectors = models.PositiveSmallIntegerField(_("最少领域数"), default=DEFAULT_MIN_SECTORS)
    # The report asks for one of each liaison channel; a committee may ask fewer of some types.
    min_channels = models.PositiveSmallIntegerField(
        _("最少联系渠道数"), default=DEFAULT_MIN_CHANNELS
    )

    class Meta:
        verbose_name = _("联系指标")
        verbose_name_plural = _("联系指标")
        constraints = [
            models.CheckConstraint(condition=Q(quota__gte=1), name="quotarule_quota_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_cadre_type_display()}: {self.quota}"


class Cadre(models.Model):
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("所在组织"), on_delete=models.PROTECT, related_name="cadres"
    )
    user = models.OneToOneField(
        User,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cadre",
    )
    cadre_type = models.CharField(_("类型"), max_length=16, choices=CadreType.choices)
    position = models.CharField(_("职务"), max_length=50, blank=True)
    is_branch_secretary = models.BooleanField(_("团支部书记"), default=False)
    # The public contact card (亮明团干部身份和联系方式): what youths may see and use.
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    wechat_id = models.CharField(_("微信号"), max_length=40, blank=True)
    card_note = models.CharField(_("名片说明"), max_length=200, blank=True)
    active_from = models.DateField(_("任职开始"), default=datetime.date.today)
    active_until = models.DateField(_("任职结束"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("团干部")
        verbose_name_plural = _("团干部")
        ordering = ["organisation__path", "name", "id"]
        indexes = [
            # The cadre table and every per-organisation aggregate: cadres of a subtree.
            models.Index(fields=["organisation", "cadre_type"], name="cadre_org_type_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.active_until is None or self.active_until >= timezone.localdate()


class Youth(models.Model):
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("出生年份"))
    sector = models.ForeignKey(
        Sector, verbose_name=_("领域"), on_delete=models.PROTECT, related_name="youths"
    )
    unit = models.CharField(_("单位/学校/村（嘎查）"), max_length=100, blank=True)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="youths"
    )
    # Normalised by cadres.services (digits only, no +86); optional, never a national ID.
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    wechat_id = models.CharField(_("微信号"), max_length=40, blank=True)
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    # Set by cadres.privacy.youth_erase: the row stays, anonymised, so that contact and score
    # counts that refer to it keep their value; every youth selector leaves it out.
    erased_at = models.DateTimeField(_("个人信息删除时间"), null=True, blank=True, editable=False)
    # Set by cadres.registry.youth_move_away: the youth left the area. The row and its history
    # stay (past contacts and attendances keep counting for their periods); the links to cadres
    # end, so the quota counts drop the youth (cadres/quota.py), and nobody may link them again.
    moved_away_on = models.DateField(_("迁出日期"), null=True, blank=True, editable=False)

    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("青年")
        verbose_name_plural = _("青年")
        ordering = ["name", "id"]
        permissions = [
            # PIPL: under-14s are sensitive personal data; exports leave them out without this.
            ("export_minors", _("可导出未满14周岁青年的信息")),
            # PIPL art. 47: erasing a person is irreversible, so it is a permission of its own.
            ("erase_youth", _("可删除青年的个人信息")),
        ]
        indexes = [
            # Duplicate matching on import: same phone is the same youth.
            models.Index(fields=["phone"], name="youth_phone_match_idx", condition=~Q(phone="")),
            # Duplicate matching on import: same name + birth year + unit.
            models.Index(fields=["name", "birth_year", "unit"], name="youth_identity_match_idx"),
            # Youth lists of an organisation subtree.
            models.Index(fields=["organisation", "sector"], name="youth_org_sector_idx"),
            # The picker's search (config/pickers.py): WHERE name LIKE '乌兰%'. Pattern ops so
            # that PostgreSQL uses it for LIKE under any collation.
            models.Index(
                fields=["name"], name="youth_name_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def minor_birth_year_floor(today: datetime.date | None = None) -> int:
        """Youths born in this year or later may be under 14 and are treated as minors."""
        today = today or timezone.localdate()
        return today.year - MINOR_AGE

    @property
    def is_minor(self) -> bool:
        return self.birth_year >= self.minor_birth_year_floor()


class LiaisonChannel(models.Model):
    """One of the liaison points (联系渠道) the source report asks every cadre to hold."""

    class Kind(models.TextChoices):
        CO_BUILDING = "co_building", _("区域化共建委员会")
        YOUTH_HOME = "youth_home", _("青年之家（亮明身份）")
        SOCIAL_ORG = "social_org", _("青年社会组织")
        INTEREST_GROUP = "interest_group", _("青年兴趣组织")
        VOLUNTEER_ORG = "volunteer_org", _("志愿服务组织")
        SCHOOL_CLASS = "school_class", _("学校班级或社团")
        ENTERPRISE = "enterprise", _("企业一线青年")
        GRASSROOTS_POINT = "grassroots_point", _("基层联系点（8+4、4+1、走转改）")
        FIELD_VISIT = "field_visit", _("下乡、调研、会议走访")

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("团干部"), on_delete=models.CASCADE, related_name="channels"
    )
    kind = models.CharField(_("渠道类型"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("联系的组织或阵地"), max_length=100)
    established_on = models.DateField(_("建立日期"), default=datetime.date.today)
    # A channel the cadre no longer holds stays (with its history) but stops counting.
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)
    # For a youth home: whether the cadre's identity and contact are displayed there (亮明身份).
    shows_identity = models.BooleanField(
        _("在阵地亮明身份和联系方式"), default=False, db_default=False
    )
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("联系渠道")
        verbose_name_plural = _("联系渠道")
        ordering = ["cadre", "kind", "id"]
        constraints = [
            # Among the channels a cadre holds now; an ended one may be established again.
            models.UniqueConstraint(
                fields=["cadre", "kind", "name"],
                condition=Q(ended_on__isnull=True),
                name="channel_unique_per_cadre",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.name}"


class CadreYouth(models.Model):
    """A youth in a cadre's 100. The quota counts distinct youths per cadre."""

    cadre = models.ForeignKey(
        Cadre, verbose_name=_("团干部"), on_delete=models.CASCADE, related_name="youth_links"
    )
    youth = models.ForeignKey(
        Youth, verbose_name=_("青年"), on_delete=models.CASCADE, related_name="cadre_links"
    )
    linked_on = models.DateField(_("建立联系日期"), default=datetime.date.today)
    channel = models.ForeignKey(
        LiaisonChannel,
        verbose_name=_("联系渠道"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="youth_links",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("联系关系")
        verbose_name_plural = _("联系关系")
        constraints = [
            # Also the index for "youths of a cadre" (quota progress, the cadre's youth list).
            models.UniqueConstraint(fields=["cadre", "youth"], name="cadreyouth_unique_pair"),
        ]
        indexes = [
            # "Which cadres hold this youth" (duplicates across cadres, youth timeline access).
            models.Index(fields=["youth", "cadre"], name="cadreyouth_by_youth_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.cadre_id}→{self.youth_id}"


class CadreProgress(models.Model):
    """A cadre's quota progress counts, stored so that the cadre table sorts 10,000 cadres by
    progress without counting a million links per request.

    A table of its own (not columns on Cadre) so that saving a Cadre loaded a minute ago can
    never overwrite fresher counts. Every cadre has its row: whatever creates a cadre calls
    `cadre_progress_refresh` for it (the registry, a new branch secretary, admin, the seed), and
    the nightly full recount adds any missing one; the cadre list joins it as an inner join.
    Written ONLY by cadres.services.cadre_progress_refresh (set-based); read through
    cadres.selectors.with_progress as n_youths / n_sectors / n_channels / progress / quota_met.
    `manage.py refresh_quota_progress` (and the task of the same name) recounts every cadre.
    """

    cadre = models.OneToOneField(
        Cadre, on_delete=models.CASCADE, primary_key=True, related_name="progress_counts"
    )
    youth_count = models.PositiveIntegerField(_("联系青年数"), default=0)
    sector_count = models.PositiveSmallIntegerField(_("覆盖领域数"), default=0)
    channel_count = models.PositiveSmallIntegerField(_("联系渠道数"), default=0)
    # The quota rule (cadres/quota.py) of the cadre's type applied to the counts above, stored
    # so that the cadre list sorts and filters 10,000 cadres without computing the ratio for
    # each of them on every view. Rewritten with the counts, and for every cadre when a rule or
    # a cadre's type changes. A cadre without links: 0.0 and not met (quota >= 1).
    progress = models.FloatField(_("完成度"), default=0.0)
    quota_met = models.BooleanField(_("达标"), default=False)

    class Meta:
        verbose_name = _("联系指标进度")
        verbose_name_plural = _("联系指标进度")
        indexes = [
            # The cadre list's default order (/cadres/: progress ascending, then id, first page
            # of 25): an index walk instead of a sort of every cadre in scope.
            models.Index(fields=["progress", "cadre"], name="cadreprogress_list_order_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.cadre_id}: {self.youth_count}"


class OrganisationRollup(models.Model):
    """Counts per organisation (its own rows, not its subtree), stored so that a staff page sums
    a few thousand rollups for a subtree instead of counting a million youths and 10,000
    cadres on each view (the province staff home spent 276 ms of 604 in the youths' count).

    Written ONLY by cadres.services.organisation_rollup_refresh (set-based, only changed rows),
    which the scoring chain runs with the latest quarter's flags (a minute after a change) and
    the nightly run; read through cadres.selectors.subtree_rollup, which says when it was
    computed."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, primary_key=True, related_name="rollup"
    )
    youths = models.PositiveIntegerField(_("青年人数"), default=0)
    # The staff home's registry figures: the organisation's cadres, and how many of them meet
    # the quota by their stored progress (CadreProgress.quota_met), instead of a join of every
    # cadre in scope with their progress on each view (85 ms for a province).
    cadres = models.PositiveIntegerField(_("团干部人数"), default=0)
    cadres_quota_met = models.PositiveIntegerField(_("达标团干部人数"), default=0)
    computed_at = models.DateTimeField(_("统计时间"))

    class Meta:
        verbose_name = _("组织汇总")
        verbose_name_plural = _("组织汇总")

    def __str__(self) -> str:
        return f"{self.organisation_id}: {self.youths}"


class Consent(models.Model):
    """A youth's consent to a purpose (PIPL arts. 14, 28, 31), kept with the youth: when, to which
    wording (its version), given how and recorded by whom, and when it was withdrawn."""

    class Purpose(models.TextChoices):
        CONTACT = "contact", _("同意团干部与本人联系")

    class Method(models.TextChoices):
        SELF_JOIN = "self_join", _("青年扫码自行加入")
        CADRE = "cadre", _("团干部当面记录")
        IMPORT = "import", _("花名册导入（线下已签署）")

    youth = models.ForeignKey(
        Youth, verbose_name=_("青年"), on_delete=models.CASCADE, related_name="consents"
    )
    purpose = models.CharField(_("用途"), max_length=16, choices=Purpose.choices)
    wording_version = models.CharField(_("告知文本版本"), max_length=20)
    given_at = models.DateTimeField(_("同意时间"), default=timezone.now)
    method = models.CharField(_("方式"), max_length=12, choices=Method.choices)
    # The cadre whose card the youth scanned (self-join), or the login that recorded it.
    cadre = models.ForeignKey(
        Cadre,
        verbose_name=_("团干部"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        User,
        verbose_name=_("记录人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Under 14 (PIPL art. 31): the guardian's consent, ticked by whoever filled the form.
    guardian_consent = models.BooleanField(_("监护人同意"), default=False)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("青年同意记录")
        verbose_name_plural = _("青年同意记录")
        ordering = ["youth", "-given_at", "-id"]
        indexes = [
            # A youth's consents (youth page; withdrawn on erasure).
            models.Index(fields=["youth", "purpose"], name="consent_youth_purpose_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.youth_id} {self.purpose} {self.wording_version}"


class ErasureLog(models.Model):
    """That a youth's personal data was erased, by whom, when and why, and nothing about the
    person: `tag` is a keyed hash (irreversible without the server's key) that lets the committee
    answer "was this request carried out?" for a reference it gave the youth."""

    class Kind(models.TextChoices):
        REQUEST = "request", _("依申请删除")
        RETENTION = "retention", _("超过保存期限")

    tag = models.CharField(_("删除编号"), max_length=20, unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    reason = models.CharField(_("原因"), max_length=200)
    erased_by = models.ForeignKey(
        User,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The organisation the youth belonged to: scoping of the log, not personal data.
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="+"
    )
    erased_at = models.DateTimeField(_("删除时间"), default=timezone.now)
    # Rows touched per table ({"contacts.Contact": 2, ...}): counts only, never values.
    counts = models.JSONField(_("处理记录数"), default=dict)

    class Meta:
        verbose_name = _("个人信息删除记录")
        verbose_name_plural = _("个人信息删除记录")
        ordering = ["-erased_at", "-id"]

    def __str__(self) -> str:
        return f"{self.tag} {self.erased_at:%Y-%m-%d}"


# Export and job records live in their own module; imported here so that Django registers them.
from .job_models import ExportJob, ExportLog, RosterImport, TaskOutbox  # noqa: E402

__all__ = [
    "CadreProgress",
    "CadreType",
    "CadreYouth",
    "Consent",
    "ErasureLog",
    "ExportJob",
    "ExportLog",
    "Gender",
    "LiaisonChannel",
    "Organisation",
    "OrganisationRollup",
    "QuotaRule",
    "RosterImport",
    "Sector",
    "TaskOutbox",
    "User",
    "Youth",
]
