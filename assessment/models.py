"""The 活跃度 score: a versioned policy, computation runs, stored scores, flags, supervision cases,
per-organisation contact statistics and the committee's assessment notes.

The formula lives in assessment/scoring.py (one module); this file only holds the data.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from cadres.quota import DEFAULT_MIN_SECTORS, DEFAULT_QUOTA

# The components of the score, in display order. Each has a weight field `w_<code>` on the policy
# and a value `c_<code>` (0..1, NULL when it does not apply) on every stored score.
COMPONENTS = ("quota", "reach", "depth", "diversity", "responsiveness", "ballot", "confirmed")


def integrity_defaults() -> dict:
    """The padding-detection thresholds of a new policy version (assessment/integrity.py reads
    them; docs/assessment.md says what each one catches). Part of the versioned policy: a stored
    finding always names the version whose thresholds produced it."""
    from .integrity_thresholds import DEFAULT_THRESHOLDS

    return dict(DEFAULT_THRESHOLDS)


class ScoringPolicy(models.Model):
    """One version of the scoring policy. Rows are never edited: a change is a new version."""

    version = models.PositiveIntegerField(_("版本"), unique=True)
    # Defaults are those of the newest default version (with 青年确认, docs/assessment.md); the
    # rows of older versions keep the weights they were saved with.
    w_quota = models.PositiveSmallIntegerField(_("权重：联系青年数（指标完成）"), default=25)
    w_reach = models.PositiveSmallIntegerField(_("权重：本期联系覆盖"), default=20)
    w_depth = models.PositiveSmallIntegerField(_("权重：线下见面"), default=15)
    w_diversity = models.PositiveSmallIntegerField(_("权重：领域覆盖"), default=10)
    w_responsiveness = models.PositiveSmallIntegerField(_("权重：需求按期答复"), default=10)
    w_ballot = models.PositiveSmallIntegerField(_("权重：满意度测评（仅团支部书记）"), default=10)
    w_confirmed = models.PositiveSmallIntegerField(_("权重：青年确认"), default=10)
    flag_score_below = models.PositiveSmallIntegerField(_("活跃度低于此分即预警"), default=60)
    quota_grace_days = models.PositiveSmallIntegerField(
        _("任职满多少天仍未完成联系指标即预警"), default=180
    )
    no_contact_days = models.PositiveSmallIntegerField(_("连续多少天没有联系即预警"), default=30)
    overdue_needs_max = models.PositiveSmallIntegerField(
        _("逾期未答复需求超过几件即预警"), default=0
    )
    # Padding-detection thresholds (assessment/integrity.py); missing keys take the defaults.
    integrity = models.JSONField(_("真实性核查阈值"), default=integrity_defaults)
    note = models.CharField(_("修改说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("生效时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("活跃度计算规则")
        verbose_name_plural = _("活跃度计算规则")
        ordering = ["-version"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    w_quota__gte=0,
                    w_reach__gte=0,
                    w_depth__gte=0,
                    w_diversity__gte=0,
                    w_responsiveness__gte=0,
                    w_ballot__gte=0,
                    w_confirmed__gte=0,
                ),
                name="policy_weights_non_negative",
            ),
            models.CheckConstraint(
                condition=Exact(
                    F("w_quota")
                    + F("w_reach")
                    + F("w_depth")
                    + F("w_diversity")
                    + F("w_responsiveness")
                    + F("w_ballot")
                    + F("w_confirmed"),
                    100,
                ),
                name="policy_weights_sum_100",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version}"

    def weights(self) -> dict[str, int]:
        return {code: getattr(self, f"w_{code}") for code in COMPONENTS}


class ScoreRun(models.Model):
    """One computation of a period under a policy version: the row a task claims and locks.

    A closed period's run is final after it completed once the period was over; later runs of
    that period and version leave everything as it is (frozen).
    """

    period = models.CharField(_("时段"), max_length=7)
    policy = models.ForeignKey(ScoringPolicy, on_delete=models.PROTECT, related_name="runs")
    as_of = models.DateField(_("统计截至"))
    is_final = models.BooleanField(_("已定稿"), default=False)
    n_cadres = models.PositiveIntegerField(_("团干部数"), default=0)
    # Which optional sources were available: {"ballots": "ok" | "not available"}.
    sources = models.JSONField(_("数据来源"), default=dict)
    started_at = models.DateTimeField(_("开始"), null=True)
    finished_at = models.DateTimeField(_("完成"), null=True)
    runs = models.PositiveIntegerField(_("计算次数"), default=0)
    # Not stored: set by an incremental scores_compute to the organisations whose statistics
    # must follow (None after a full run: all of them).
    refreshed_organisations: set[int] | None = None
    # Of those, the organisations whose statistics need every week (a cadre moved in or out).
    moved_organisations: set[int] | None = None
    # Not stored: seconds per step of the computations done through this object
    # (services.scores_compute, contact_stats_compute), for the benchmark's report.
    timings: dict[str, float] | None = None

    class Meta:
        verbose_name = _("计算批次")
        verbose_name_plural = _("计算批次")
        ordering = ["-period", "-policy__version"]
        constraints = [
            models.UniqueConstraint(fields=["period", "policy"], name="scorerun_unique_period"),
        ]

    def __str__(self) -> str:
        return f"{self.period} v{self.policy_id}"


class CadreScore(models.Model):
    """A cadre's score for a period under one policy version, with the raw numbers behind it."""

    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="scores")
    cadre = models.ForeignKey("cadres.Cadre", on_delete=models.CASCADE, related_name="scores")
    # The cadre's organisation when computed: scoping and per-organisation bulletins.
    organisation = models.ForeignKey(
        "cadres.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    period = models.CharField(_("时段"), max_length=7)
    policy = models.ForeignKey(ScoringPolicy, on_delete=models.PROTECT, related_name="+")
    is_secretary = models.BooleanField(default=False)
    score = models.DecimalField(_("活跃度"), max_digits=4, decimal_places=1)
    # Raw numbers.
    quota = models.PositiveIntegerField(default=DEFAULT_QUOTA)
    min_sectors = models.PositiveSmallIntegerField(default=DEFAULT_MIN_SECTORS)
    linked = models.PositiveIntegerField(default=0)
    sectors = models.PositiveSmallIntegerField(default=0)
    reached = models.PositiveIntegerField(default=0)
    met_offline_year = models.PositiveIntegerField(default=0)
    online_youths = models.PositiveIntegerField(default=0)
    converted_youths = models.PositiveIntegerField(default=0)
    needs_due = models.PositiveIntegerField(default=0)
    needs_on_time = models.PositiveIntegerField(default=0)
    # Overdue needs split by when they fell due, so that sentences never mix the two:
    # needs_overdue = due in this period, past due and unanswered at as_of;
    # needs_backlog = due before this period and still unanswered at as_of.
    needs_overdue = models.PositiveIntegerField(default=0)
    needs_backlog = models.PositiveIntegerField(default=0)
    # Reached youths (linked, contacted in the period) with youth-side evidence in the period
    # (contacts.selectors.youth_side_evidence): the 青年确认 component's numerator.
    confirmed_youths = models.PositiveIntegerField(default=0)
    last_contact = models.DateField(null=True)
    ballot = models.CharField(max_length=16, blank=True)
    # Components, 0..1; NULL where the component does not apply (ballot of a non-secretary).
    c_quota = models.FloatField(null=True)
    c_reach = models.FloatField(null=True)
    c_depth = models.FloatField(null=True)
    c_diversity = models.FloatField(null=True)
    c_responsiveness = models.FloatField(null=True)
    c_ballot = models.FloatField(null=True)
    c_confirmed = models.FloatField(null=True)  # NULL in scores of versions before it existed
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("活跃度")
        verbose_name_plural = _("活跃度")
        constraints = [
            models.UniqueConstraint(
                fields=["cadre", "period", "policy"], name="cadrescore_unique_version"
            ),
        ]
        indexes = [
            # Dashboards and bulletins: all scores of a run, joined to the organisation subtree.
            models.Index(fields=["run", "organisation"], name="cadrescore_run_org_idx"),
            # The ranking's first page (/assessment/scores/: ORDER BY score DESC, cadre LIMIT 50):
            # walked in order instead of sorting the 10,000 scores of a province on each view.
            models.Index(fields=["run", "-score", "cadre"], name="cadrescore_ranking_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.cadre_id} {self.period}: {self.score}"


class ChannelWeekStat(models.Model):
    """Contacts per organisation, week (Monday) and channel for a run: dashboards read these rows
    instead of scanning millions of contacts. Written only by services.contact_stats_compute,
    which writes only the changed rows under the run lock; hence one index and no unique
    constraint (each extra index slows the first ~250,000-row insert of a province quarter)."""

    run = models.ForeignKey(
        ScoreRun, on_delete=models.CASCADE, related_name="channel_stats", db_index=False
    )
    organisation = models.ForeignKey(
        "cadres.Organisation", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    week = models.DateField()  # the Monday
    channel = models.CharField(max_length=16)
    contacts = models.PositiveIntegerField()

    class Meta:
        indexes = [
            # Dashboards and bulletins (one run's rows of a subtree), and an incremental run's
            # rewrite of touched weeks (metrics.store_channel_weeks): without `week` it read every
            # week of each organisation (2.6 s for the province year's 3,774 rows).
            models.Index(
                fields=["run", "organisation", "week"], name="channelweek_run_org_week_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.channel}: {self.contacts}"


class Flag(models.Model):
    """A cadre below the policy's thresholds. One open flag per cadre: a persisting flag is
    updated (reasons, last period), never duplicated; it resolves when the cadre recovers."""

    cadre = models.ForeignKey("cadres.Cadre", on_delete=models.CASCADE, related_name="flags")
    organisation = models.ForeignKey(
        "cadres.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    first_period = models.CharField(_("首次预警时段"), max_length=7)
    last_period = models.CharField(_("最近预警时段"), max_length=7)
    reasons = models.JSONField(_("原因"), default=list)
    opened_at = models.DateTimeField(_("预警时间"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cadre"], condition=Q(resolved_at__isnull=True), name="flag_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cadre_id} {self.first_period}–{self.last_period}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class SupervisionCase(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("督导中")
        RECOVERED = "recovered", _("已整改（活跃度恢复）")
        DECIDED = "decided", _("决定结案")

    cadre = models.ForeignKey("cadres.Cadre", on_delete=models.CASCADE, related_name="cases")
    organisation = models.ForeignKey(
        "cadres.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    flag = models.ForeignKey(Flag, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default="open")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(_("立案时间"), auto_now_add=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    closing_note = models.TextField(_("结案说明"), blank=True)

    class Meta:
        verbose_name = _("督导案例")
        verbose_name_plural = _("督导案例")
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cadre"], condition=Q(status="open"), name="case_one_open_per_cadre"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.cadre_id}"


class CaseStep(models.Model):
    class Kind(models.IntegerChoices):
        REMINDER = 1, _("提醒")
        TALK = 2, _("约谈")
        ADMONISH = 3, _("诫勉")

    case = models.ForeignKey(SupervisionCase, on_delete=models.CASCADE, related_name="steps")
    kind = models.PositiveSmallIntegerField(_("措施"), choices=Kind.choices)
    date = models.DateField(_("日期"))
    conducted_by = models.CharField(_("实施人"), max_length=100)
    notes = models.TextField(_("情况记录"))
    agreed_actions = models.TextField(_("整改措施"))
    follow_up_on = models.DateField(_("回访日期"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("督导步骤")
        verbose_name_plural = _("督导步骤")
        ordering = ["case", "kind"]
        constraints = [
            # Each measure once per case; order (提醒 → 约谈 → 诫勉) is checked by the service.
            models.UniqueConstraint(fields=["case", "kind"], name="casestep_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


class OrganisationReview(models.Model):
    """The committee's notes on an organisation's mid-year (2026H1) or year-end (2026) review."""

    organisation = models.ForeignKey(
        "cadres.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    period = models.CharField(_("时段"), max_length=7)
    notes = models.TextField(_("评估意见"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("年中/年底评估")
        verbose_name_plural = _("年中/年底评估")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "period"], name="review_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.period}"


class RecomputeClaim(models.Model):
    """One row per period: the claim that coalesces "numbers changed" into at most one pending
    recomputation and at most one running one (assessment/freshness.py).

    pending_since: a change is waiting for a run (set by the first change, cleared when a run
        starts; later changes while it is set enqueue nothing);
    running_since: a run holds the period (cleared when it ends; a stale one — a killed
        worker — is taken over after freshness.STALE_AFTER).
    """

    period = models.CharField(_("时段"), max_length=7, unique=True)
    pending_since = models.DateTimeField(_("待更新自"), null=True, blank=True)
    running_since = models.DateTimeField(_("计算开始"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("上次完成"), null=True, blank=True)
    last_duration = models.FloatField(_("上次用时（秒）"), null=True, blank=True)
    last_error = models.CharField(_("上次错误"), max_length=500, blank=True)
    n_runs = models.PositiveIntegerField(_("计算次数"), default=0)
    # Runs scheduled (changes that found the period idle); the changes coalesced into them are
    # not counted, which would cost a write per change.
    n_changes = models.PositiveIntegerField(_("安排的重算次数"), default=0)

    class Meta:
        verbose_name = _("重新计算队列")
        verbose_name_plural = _("重新计算队列")

    def __str__(self) -> str:
        return self.period


class TouchedCadre(models.Model):
    """A cadre whose stored numbers of a period may have moved since the last run, and the week
    of the change: one row per period, cadre and week (upserted by
    assessment.freshness.numbers_changed after the change commits), drained by the next run,
    which recomputes only these cadres, and their organisations' weekly statistics only for
    these weeks (a contact moves the counts of its own week alone). `cadre_id` 0
    (freshness.WHOLE_PERIOD) asks for the whole period (a new policy version, a quota rule).
    No foreign key: a marker must never block, nor be blocked by, the cadre's own writes, and a
    deleted cadre's marker only makes the run drop its rows."""

    period = models.CharField(_("时段"), max_length=7)
    cadre_id = models.PositiveIntegerField(_("团干部"))
    # The Monday of the change's date (a contact's date; today for a link, a need, a case).
    week = models.DateField(_("周"))

    class Meta:
        verbose_name = _("待重算的团干部")
        verbose_name_plural = _("待重算的团干部")
        constraints = [
            # The upsert's conflict target, and the run's drain (DELETE … WHERE period = %s).
            models.UniqueConstraint(
                fields=["period", "cadre_id", "week"], name="touchedcadre_week_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.cadre_id}"


class IntegrityFinding(models.Model):
    """A cadre whose logs show signs of padding in a run's period: the signals that fired, each
    with its evidence (ids of the contacts or youths concerned, capped). Written only by
    assessment.integrity.findings_store, with the scores; supervisors only."""

    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="findings")
    cadre = models.ForeignKey(
        "cadres.Cadre", on_delete=models.CASCADE, related_name="integrity_findings"
    )
    organisation = models.ForeignKey(
        "cadres.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    period = models.CharField(_("时段"), max_length=7)
    # Signal codes joined by ";" in a fixed order (detect_padding prints them as they are).
    codes = models.CharField(_("信号"), max_length=200)
    # [{"code": …, "value": …, "detail": {…}, "contacts": [ids], "youths": [ids]}, …]
    signals = models.JSONField(_("信号与证据"), default=list)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("真实性核查线索")
        verbose_name_plural = _("真实性核查线索")
        constraints = [
            models.UniqueConstraint(fields=["run", "cadre"], name="finding_unique_run_cadre"),
        ]
        indexes = [
            # The integrity page: the findings of a run, joined to the organisation subtree.
            models.Index(fields=["run", "organisation"], name="finding_run_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.cadre_id} {self.period}: {self.codes}"


class IntegrityReview(models.Model):
    """A supervisor's verification of a cadre's findings for a period. Rows are only added: the
    newest is the current outcome, the older ones are its history."""

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", _("属实")
        UNFOUNDED = "unfounded", _("不属实")
        PENDING = "pending", _("待核实")

    cadre = models.ForeignKey(
        "cadres.Cadre", on_delete=models.CASCADE, related_name="integrity_reviews"
    )
    organisation = models.ForeignKey(
        "cadres.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    period = models.CharField(_("时段"), max_length=7)
    outcome = models.CharField(_("核实结果"), max_length=10, choices=Outcome.choices)
    note = models.TextField(_("核实说明"), blank=True)
    case = models.ForeignKey(
        SupervisionCase, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("真实性核实")
        verbose_name_plural = _("真实性核实")
        ordering = ["-recorded_at", "-id"]
        indexes = [
            # The integrity page: the reviews of the listed cadres for the period, newest first.
            models.Index(
                fields=["cadre", "period", "-recorded_at"], name="review_cadre_period_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cadre_id} {self.period}: {self.outcome}"


# --- Reminders (assessment/reminders.py decides who is reminded of what) ----------------------


class Notification(models.Model):
    """One reminder for one user, written by the daily pass of assessment/reminders.py.

    `key` names what it is about (a need and its due date, a case step, an activity and its day,
    a week for the weekly lists), so that a rerun of the pass writes the same rows and a reminder
    read once never comes back unread. `data` holds what the text needs (names, dates); the text
    itself is rendered in the reader's language."""

    class Kind(models.TextChoices):
        NEED_DUE = "need_due", _("需求临近期限或逾期")
        FOLLOW_UP = "follow_up", _("督导回访日期")
        DORMANT = "dormant", _("久未联系的青年")
        ACTIVITY = "activity", _("明天负责的活动")
        CHANNELS = "channels", _("尚未建立的联系渠道")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices)
    key = models.CharField(max_length=64)
    object_id = models.BigIntegerField(null=True, blank=True)
    due_on = models.DateField(_("日期"), null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("提醒时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("提醒")
        verbose_name_plural = _("提醒")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "key"], name="notification_unique"),
        ]
        indexes = [
            # The bell's unread count on every page: WHERE user = ? AND read_at IS NULL.
            models.Index(
                fields=["user", "kind"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            # The centre: a user's reminders, newest first.
            models.Index(fields=["user", "-created_at"], name="notification_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.kind}:{self.key}"


class NotificationPreference(models.Model):
    """What a user wants to be reminded of. No row: every kind on, no e-mail digest."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="notification_preference",
    )
    need_due = models.BooleanField(_("需求临近期限或逾期"), default=True)
    follow_up = models.BooleanField(_("督导回访日期"), default=True)
    dormant = models.BooleanField(_("久未联系的青年"), default=True)
    activity = models.BooleanField(_("明天负责的活动"), default=True)
    channels = models.BooleanField(_("尚未建立的联系渠道"), default=True)
    # Opt-in: an e-mail is sent only to someone who asked for it.
    weekly_digest = models.BooleanField(_("每周一发送邮件摘要"), default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("提醒设置")
        verbose_name_plural = _("提醒设置")

    def __str__(self) -> str:
        return str(self.user_id)


class DigestSent(models.Model):
    """The record that a user's weekly digest went out (or is being sent) for a week.

    The unique (user, week) row is written BEFORE the mail is sent, with the sending run's
    `claim`: two workers, or a rerun, cannot both send; a failed send deletes its row so the
    next run tries again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week = models.DateField(_("周（周一）"))
    claim = models.UUIDField()
    sent_at = models.DateTimeField(_("发送时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("每周摘要发送记录")
        verbose_name_plural = _("每周摘要发送记录")
        constraints = [
            models.UniqueConstraint(fields=["user", "week"], name="digest_once_a_week"),
        ]
        indexes = [
            # The sending run reads back the rows it claimed: WHERE week = ? AND claim = ?.
            models.Index(fields=["week", "claim"], name="digest_claim_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.week}"


# Subtree rollups live in their own module (this one is near the size limit); imported here so
# that Django registers them with the app.
from .models_subtree import (  # noqa: E402, F401
    OrganisationFlagStat,
    SubtreeScoreStat,
    SubtreeWeekStat,
)
