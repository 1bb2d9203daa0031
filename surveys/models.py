"""Anonymous branch-secretary satisfaction ballots (背靠背 无记名投票).

Unlinkability is a property of this schema, not of good intentions (docs/ballot-anonymity.md):
- `BallotBox` (票箱) is ONE row per campaign holding every ciphertext sealed to the campaign's
  public key (surveys.sealing), side by side at a fixed stride in a random order, and the sorted
  digests of the used codes: no reference to a code, member, user, session or address, no date
  or time, no history; it is never listed in the admin. The private key exists only in the
  scrutineers' shares (never stored) and, during settlement, in memory;
- `VotingCode` keeps only a SHA-256 hash of the code, written when the codes are generated and
  never touched by a vote: whether it was used is in the box, never when;
- the receipt is the hash of the ciphertext (surveys.sealing.receipt_for): nothing to store;
- a vote rewrites the box row only (`surveys.services.ballot_cast`): its ciphertext goes into a
  uniformly random slot, its code digest into sorted position, so neither the physical order
  nor PostgreSQL's per-row transaction ids (one row, one writer) reveal the order of casting;
- settlement decrypts, writes only totals, shuffled comments and the sorted receipt list, deletes
  the box and the codes (TRUNCATE: new files) and rewrites the tables' files (VACUUM FULL).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cadres.models import Gender

from .sealing import CIPHERTEXT_LENGTH


class Answer(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    NOT_SATISFIED = "not_satisfied", _("不满意")


class Outcome(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    NOT_SATISFIED = "not_satisfied", _("不满意")
    INVALID = "invalid", _("无效（参评人数不足）")


DEFAULT_ASPECTS = [
    "联系服务团员青年",
    "组织开展团的活动",
    "团支部自身建设",
    "工作作风和廉洁自律",
]


def default_aspects() -> list[str]:
    return list(DEFAULT_ASPECTS)


class Campaign(models.Model):
    """One year's satisfaction ballot on one branch secretary."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("未开始")
        OPEN = "open", _("投票中")
        DUE = "due", _("已截止，待结算")
        CLOSED = "closed", _("已结束")

    # Public, unguessable identifier for the published receipt list (voters have no login).
    public_id = models.UUIDField(_("公开编号"), default=uuid.uuid4, unique=True, editable=False)
    branch = models.ForeignKey(
        "cadres.Organisation",
        verbose_name=_("团支部"),
        on_delete=models.PROTECT,
        related_name="survey_campaigns",
    )
    secretary = models.ForeignKey(
        "cadres.Cadre",
        verbose_name=_("被测评的团支部书记"),
        on_delete=models.PROTECT,
        related_name="survey_campaigns",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    aspects = models.JSONField(_("分项测评内容"), default=default_aspects, blank=True)
    allow_comment = models.BooleanField(_("允许填写意见建议"), default=True)
    # The branch's registered members (在册团员). There is no member roster yet: staff enter it
    # from the branch's register; one code is generated per member.
    electorate = models.PositiveIntegerField(_("应参评人数（在册团员）"))
    opens_at = models.DateTimeField(_("开始时间"))
    closes_at = models.DateTimeField(_("截止时间"))
    # Rules as exact fractions, so "two thirds" is two thirds and not 66.67 %.
    quorum_num = models.PositiveSmallIntegerField(_("有效参评比例（分子）"), default=2)
    quorum_den = models.PositiveSmallIntegerField(_("有效参评比例（分母）"), default=3)
    not_satisfied_num = models.PositiveSmallIntegerField(_("不满意判定比例（分子）"), default=1)
    not_satisfied_den = models.PositiveSmallIntegerField(_("不满意判定比例（分母）"), default=3)
    # Never below 5 (database check): fewer ballots would let a branch guess who wrote what.
    min_ballots_shown = models.PositiveSmallIntegerField(_("公布分项票数的最少票数"), default=5)
    # The ballot box (票箱): the public key ballots are sealed to, set once when the box is opened
    # (surveys.services.ballot_box_open); its private half exists only as the scrutineers'
    # shares. From then on the rules above are frozen (service, form, admin, database trigger).
    public_key = models.BinaryField(_("票箱公钥"), null=True, blank=True, editable=False)
    share_threshold = models.PositiveSmallIntegerField(_("计票所需监票人数"), default=2)
    share_count = models.PositiveSmallIntegerField(_("监票人数"), default=3)
    # Shares the scrutineers reported lost; below the threshold the campaign cannot be counted.
    shares_lost = models.PositiveSmallIntegerField(_("已遗失的份额数"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    # Voting ended early by staff (surveys.services.campaign_close); by time it needs no write.
    voting_closed_at = models.DateTimeField(_("投票结束时间"), null=True, blank=True)
    # Written once, by surveys.settlement.campaign_settle (结算): results exist from then on.
    closed_at = models.DateTimeField(_("结算时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提前结束人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    turnout = models.PositiveIntegerField(_("实际参评人数"), null=True, blank=True)
    is_valid = models.BooleanField(_("有效"), null=True, blank=True)
    n_satisfied = models.PositiveIntegerField(_("满意票"), null=True, blank=True)
    n_basic = models.PositiveIntegerField(_("基本满意票"), null=True, blank=True)
    n_not_satisfied = models.PositiveIntegerField(_("不满意票"), null=True, blank=True)
    satisfaction_rate = models.DecimalField(
        _("满意率（%）"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    aspect_results = models.JSONField(_("分项结果"), default=list, blank=True)
    outcome = models.CharField(_("测评结果"), max_length=16, choices=Outcome.choices, blank=True)
    # Written at settlement: comments in a fresh random order (only from min_ballots_shown
    # ballots up; below that they are discarded), and the sorted receipts of the ballots counted.
    comments = models.JSONField(_("意见建议"), default=list, blank=True)
    counted_receipts = models.JSONField(_("计入的回执"), default=list, blank=True)

    class Meta:
        verbose_name = _("满意度测评")
        verbose_name_plural = _("满意度测评")
        ordering = ["-year", "branch__path", "-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="campaign_closes_after_opening"
            ),
            models.CheckConstraint(condition=Q(electorate__gte=1), name="campaign_electorate_pos"),
            models.CheckConstraint(
                condition=Q(quorum_den__gte=1, quorum_num__lte=F("quorum_den")),
                name="campaign_quorum_fraction",
            ),
            models.CheckConstraint(
                condition=Q(
                    not_satisfied_den__gte=1, not_satisfied_num__lte=F("not_satisfied_den")
                ),
                name="campaign_not_satisfied_fraction",
            ),
            models.CheckConstraint(
                condition=Q(min_ballots_shown__gte=5),
                name="campaign_min_ballots_at_least_5",
                violation_error_message=_("公布票数的最少票数不能低于 5。"),
            ),
            models.CheckConstraint(
                condition=Q(
                    share_threshold__gte=2,
                    share_count__gte=F("share_threshold"),
                    share_count__lte=9,
                    shares_lost__lte=F("share_count"),
                ),
                name="campaign_shares_sane",
            ),
            # One ballot per branch, secretary and year (surveys.campaigns.campaign_create says
            # so in Chinese); only a ballot that came out invalid (quorum missed) may be rerun.
            models.UniqueConstraint(
                fields=["branch", "secretary", "year"],
                condition=~Q(outcome="invalid"),
                name="campaign_once_per_secretary_year",
                violation_error_message=_("该团支部书记本年度已有一次测评。"),
            ),
        ]
        indexes = [
            # The overview: campaigns of a year in a subtree (year = …, joined on branch path).
            models.Index(fields=["year", "branch"], name="survey_campaign_year_idx"),
            # The closing job: WHERE closed_at IS NULL AND closes_at <= now.
            models.Index(
                fields=["closes_at"],
                name="survey_campaign_due_idx",
                condition=Q(closed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return _("%(year)s 年度 %(branch)s 书记满意度测评") % {
            "year": self.year,
            "branch": self.branch.name,
        }

    def status_at(self, now) -> str:
        if self.closed_at is not None:
            return self.Status.CLOSED
        if self.voting_closed_at is not None:
            return self.Status.DUE
        if now < self.opens_at:
            return self.Status.PLANNED
        if now < self.closes_at:
            return self.Status.OPEN
        return self.Status.DUE

    @property
    def is_sealed(self) -> bool:
        """The ballot box is open: a public key exists and the rules are frozen."""
        return self.public_key is not None

    @property
    def countable(self) -> bool:
        """Enough shares left to rebuild the key; False means the ballots can never be counted."""
        return self.share_count - self.shares_lost >= self.share_threshold

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())

    def get_status_display(self) -> str:
        return self.Status(self.status).label

    @property
    def shows_counts(self) -> bool:
        """Small-group protection: counts, rates and comments only from min_ballots_shown up."""
        return self.closed_at is not None and (self.turnout or 0) >= self.min_ballots_shown

    @property
    def quorum_needed(self) -> int:
        """The smallest turnout that makes the ballot valid (ceil(electorate · num / den))."""
        return -(-self.electorate * self.quorum_num // self.quorum_den)


class VotingCode(models.Model):
    """A one-time code, stored only as its SHA-256 hash. Which member holds it is never stored;
    whether it was used is in the campaign's BallotBox, when is never stored. Rows are written
    once, in random order, by surveys.services.codes_generate; a vote never writes them (their
    writer is the generation, for every code)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="codes", verbose_name=_("测评")
    )
    code_hash = models.CharField(_("投票码摘要"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("投票码")
        verbose_name_plural = _("投票码")

    def __str__(self) -> str:
        return str(_("投票码（摘要）"))


class BallotBox(models.Model):
    """票箱: all sealed ballots of one campaign in one row (docs/ballot-anonymity.md).

    - `sealed`: the ciphertexts, each exactly sealing.CIPHERTEXT_LENGTH bytes, concatenated in a
      random order (each vote puts its ciphertext into a uniformly random slot, which makes the
      whole order a uniformly random permutation);
    - `used`: the SHA-256 digests (32 bytes each) of the used codes, concatenated in sorted
      order — an order that tells nothing.
    One row per campaign means one row version per vote: the vote's cost is the size of the
    box, not the number of dead versions earlier votes left (the old per-row design rewrote
    every ballot and code row per vote). On PostgreSQL both columns are stored out of line,
    uncompressed (STORAGE EXTERNAL, migration 0005): random bytes do not compress. Created
    empty when the box is opened; deleted at settlement.
    """

    DIGEST_LENGTH = 32

    campaign = models.OneToOneField(
        Campaign,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="box",
        verbose_name=_("测评"),
    )
    sealed = models.BinaryField(_("密文"), default=bytes)
    used = models.BinaryField(_("已使用投票码摘要"), default=bytes)

    class Meta:
        verbose_name = _("票箱")
        verbose_name_plural = _("票箱")

    def __str__(self) -> str:
        return str(_("票箱"))

    def ciphertexts(self) -> list[bytes]:
        data = bytes(self.sealed)
        return [data[i : i + CIPHERTEXT_LENGTH] for i in range(0, len(data), CIPHERTEXT_LENGTH)]

    def used_digests(self) -> list[bytes]:
        return self.split_digests(bytes(self.used))

    @classmethod
    def split_digests(cls, data: bytes) -> list[bytes]:
        """The layout of `used`: 32-byte digests side by side (kept sorted by the vote)."""
        step = cls.DIGEST_LENGTH
        return [data[i : i + step] for i in range(0, len(data), step)]


class AwardEligibility(models.Model):
    """A "satisfied" outcome: the secretary may be put forward for the year's awards."""

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, related_name="award", verbose_name=_("测评")
    )
    cadre = models.ForeignKey(
        "cadres.Cadre",
        verbose_name=_("团支部书记"),
        on_delete=models.CASCADE,
        related_name="survey_awards",
    )
    year = models.PositiveSmallIntegerField(_("年度"))

    class Meta:
        verbose_name = _("评优资格（测评满意）")
        verbose_name_plural = _("评优资格（测评满意）")

    def __str__(self) -> str:
        return f"{self.year} {self.cadre_id}"


class ReelectionProcedure(models.Model):
    """A "not satisfied" outcome opens the re-election of the secretary (按团内程序改选)."""

    class Status(models.TextChoices):
        TODO = "todo", _("待启动")
        IN_PROGRESS = "in_progress", _("进行中")
        DONE = "done", _("已完成")

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, related_name="reelection", verbose_name=_("测评")
    )
    status = models.CharField(
        _("改选进度"), max_length=16, choices=Status.choices, default=Status.TODO
    )
    notes = models.TextField(_("工作记录"), blank=True)
    # The result (surveys.settlement.reelection_result_record): who became the branch's
    # secretary and when; the registry changed with it (cadres.registry.branch_secretary_change).
    new_secretary = models.ForeignKey(
        "cadres.Cadre",
        verbose_name=_("改选产生的书记"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    elected_on = models.DateField(_("改选日期"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("更新人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("书记改选程序")
        verbose_name_plural = _("书记改选程序")

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.get_status_display()}"


class Member(models.Model):
    """A registered league member of a branch (团员名册): who may vote in its ballots.

    The roster is the electorate: when a campaign's ballot box opens, the active members are
    copied into `Elector` rows (surveys.members.electorate_freeze) and later roster edits do not
    change that campaign. Nothing here is linked to a code or a ballot (docs/ballot-anonymity.md).
    """

    branch = models.ForeignKey(
        "cadres.Organisation",
        verbose_name=_("团支部"),
        on_delete=models.PROTECT,
        related_name="league_members",
    )
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("出生年份"))
    # 入团年月: a month as 智慧团建 exports it; stored as its first day when no day is given.
    joined_on = models.DateField(_("入团时间"))
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)
    # Membership ended (转出、离团、超龄): kept, not deleted, so past electorates stay readable.
    left_on = models.DateField(_("离开名册日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("团员")
        verbose_name_plural = _("团员名册")
        constraints = [
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                name="member_leaves_after_joining",
                violation_error_message=_("离开名册日期不能早于入团时间。"),
            ),
        ]
        indexes = [
            # The roster page and the electorate: WHERE branch = … AND left_on IS NULL.
            models.Index(fields=["branch", "left_on"], name="survey_member_active_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.left_on is None


class Elector(models.Model):
    """A member of a campaign's electorate, frozen when the ballot box opened, and the 领票登记:
    whether the member received a code slip. Which slip is never recorded, nor when (no time
    column: see docs/ballot-anonymity.md on the register)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="electors", verbose_name=_("测评")
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="electorates", verbose_name=_("团员")
    )
    slip_received = models.BooleanField(_("已领票"), default=False)

    class Meta:
        verbose_name = _("参评团员（领票登记）")
        verbose_name_plural = _("参评团员（领票登记）")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "member"], name="elector_once"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.member_id}"
