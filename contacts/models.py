"""Contact logs (who met which youths, how, when) and the needs desk (有问必答 有求必应)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Channel(models.TextChoices):
    WECHAT = "wechat", _("微信")
    QQ = "qq", _("QQ")
    WEIBANG = "weibang", _("微邦")
    YOUTH_VOICE = "youth_voice", _("青年之声")
    PHONE = "phone", _("电话/短信")
    TALK = "talk", _("面对面交谈")
    VISIT = "visit", _("走访（家访、到单位）")
    ACTIVITY = "activity", _("活动")
    MEETING = "meeting", _("会议")


# The report asks online contact to be "converted" to face-to-face meetings; these count as met.
OFFLINE_CHANNELS = (Channel.TALK, Channel.VISIT, Channel.ACTIVITY, Channel.MEETING)

# Text limits of contacts and needs (characters), checked by the services and shown by the forms:
# a note, not an essay; a 10 MB paste gets a clear error.
NOTES_MAX = 2000
TEXT_MAX = 1000


class Contact(models.Model):
    """One contact event by a cadre with one or more youths."""

    cadre = models.ForeignKey(
        "cadres.Cadre", verbose_name=_("团干部"), on_delete=models.PROTECT, related_name="contacts"
    )
    date = models.DateField(_("日期"), default=datetime.date.today)
    channel = models.CharField(_("方式"), max_length=16, choices=Channel.choices)
    # Derived from the channel in the database itself, so every aggregate can filter on it.
    is_offline = models.GeneratedField(
        expression=Q(channel__in=[c.value for c in OFFLINE_CHANNELS]),
        output_field=models.BooleanField(),
        db_persist=True,
        verbose_name=_("线下"),
    )
    topic = models.CharField(_("话题"), max_length=100, blank=True)
    notes = models.TextField(_("记录"), blank=True)
    need_raised = models.TextField(_("提出的需求"), blank=True)
    help_given = models.TextField(_("帮助解决的实际困难"), blank=True)
    # Set when the contact was derived from attendance at an activity (entered once, reused).
    activity = models.ForeignKey(
        "activities.Activity",
        verbose_name=_("来源活动"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="derived_contacts",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    # Soft deletion: the row stays (with its history); its ContactYouth rows are removed.
    is_deleted = models.BooleanField(_("已删除"), default=False)
    # Client-generated id of the submission (the form's hidden field, or the phone's offline
    # queue): the same key from the same user is the same contact, so a double tap, a resubmit
    # or a replayed sync never writes twice (contacts.services.contact_log).
    client_key = models.CharField(_("提交编号"), max_length=64, null=True, blank=True)
    # Edited or deleted after the assessment period of its date had closed: integrity evidence
    # (a closed period's numbers were published on the old value).
    corrected_after_close = models.BooleanField(
        _("周期结束后更正"), default=False, db_default=False
    )
    # The note as padding detection compares it (contacts/notes_key.py): a hash of the
    # normalised text without the youths' names, and its length; NULL without a note. Stored
    # by every writer of the note so the nightly detection groups integers, not texts.
    notes_key = models.BigIntegerField(null=True, blank=True, editable=False)
    notes_chars = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)

    history = HistoricalRecords(
        excluded_fields=["created_at", "is_offline", "notes_key", "notes_chars"]
    )

    class Meta:
        verbose_name = _("联系记录")
        verbose_name_plural = _("联系记录")
        ordering = ["-date", "-id"]
        constraints = [
            # One derived contact per cadre and activity, so re-deriving never duplicates.
            models.UniqueConstraint(
                fields=["cadre", "activity"],
                condition=Q(activity__isnull=False),
                name="contact_one_per_cadre_activity",
            ),
            # Idempotent submissions: one contact per user and client key.
            models.UniqueConstraint(
                fields=["created_by", "client_key"],
                condition=Q(client_key__isnull=False),
                name="contact_one_per_client_key",
            ),
        ]
        indexes = [
            # A cadre's recent contacts (home page, cadre page) and per-cadre period aggregates.
            models.Index(fields=["cadre", "-date"], name="contact_cadre_date_idx"),
            # Staff contact list of a period, newest first.
            models.Index(fields=["-date", "-id"], name="contact_date_idx"),
            # The dashboard's contacts per organisation × week × channel of a period
            # (assessment.metrics.channel_week_sql): an index-only scan, 2.9 s → 1.1 s at 5M.
            models.Index(
                fields=["date"],
                include=["cadre", "channel"],
                condition=Q(is_deleted=False),
                name="contact_week_stats_idx",
            ),
            # Padding detection's entries statement (assessment/integrity.py `_entries_sql`):
            # the window over each cadre's hand-typed contacts in entry order, read in index
            # order (no sort) and index-only (the date, the note key and its length are
            # included); same_text's (cadre, note key) counts read the same index.
            models.Index(
                fields=["cadre", "created_at", "id"],
                include=["date", "notes_key", "notes_chars"],
                condition=Q(is_deleted=False, activity__isnull=True),
                name="contact_integrity_entries_idx",
            ),
            # The same statement's period, whatever the years of history before it: the
            # hand-typed contacts of `date BETWEEN` as a range, index-only, sorted for the window
            # afterwards. With three years the planner left the index above (every year's
            # entries) for contact_week_stats_idx and a heap fetch per contact: 1.7 s → 7.9 s for
            # a province quarter; 3.4 s through this one (docs/scaling.md, issue 16 item 4).
            models.Index(
                fields=["date"],
                include=["cadre", "created_at", "id", "notes_key", "notes_chars"],
                condition=Q(is_deleted=False, activity__isnull=True),
                name="contact_integrity_period_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_channel_display()}"


class ContactYouth(models.Model):
    """A youth in a contact: the fact table every contact statistic is computed from.

    cadre, date and is_offline are copies of the contact's, written by contacts.services in the
    same transaction, so that "distinct youths reached by each cadre in a period" is one index
    range scan at province scale (5M contacts) instead of a join. Only live contacts have rows.
    """

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="youth_rows")
    youth = models.ForeignKey("cadres.Youth", on_delete=models.CASCADE, related_name="contact_rows")
    cadre = models.ForeignKey("cadres.Cadre", on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    is_offline = models.BooleanField()

    class Meta:
        verbose_name = _("联系青年")
        verbose_name_plural = _("联系青年")
        constraints = [
            models.UniqueConstraint(fields=["contact", "youth"], name="contactyouth_unique"),
        ]
        indexes = [
            # Per-cadre period aggregates (reach, depth, dormant youths): WHERE cadre=? AND date ..
            models.Index(fields=["cadre", "date", "youth"], name="contactyouth_cadre_date_idx"),
            # Youth timeline and "last contact of this youth".
            models.Index(fields=["youth", "-date"], name="contactyouth_youth_date_idx"),
            # Dormant youths: "has this cadre contacted this youth since <cutoff>" is an
            # EXISTS probe on (cadre, youth, date >= cutoff) for every link of the cadre; the
            # (cadre, date, youth) index would scan all the cadre's recent rows per link.
            models.Index(fields=["cadre", "youth", "date"], name="contactyouth_cadre_youth_idx"),
            # A period's rows, whatever the years of history before it: padding detection's
            # `cyp` (assessment/integrity.py) reads `date BETWEEN` as a range of this index,
            # index-only, not every year's pages (docs/scaling.md, issue 16 item 4; the scoring
            # statement's pairs read per cadre, contactyouth_cadre_date_idx).
            models.Index(
                fields=["date"],
                include=["cadre", "youth", "is_offline", "contact"],
                name="contactyouth_period_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}:{self.youth_id}"


class Need(models.Model):
    """A need or question (有问必答 有求必应), from a log, the venue, or a youth's own form."""

    class Source(models.TextChoices):
        LOG = "log", _("联系记录")
        VENUE = "venue", _("青年之家/青年爱里")
        PUBLIC = "public", _("青年在线提交")

    class Category(models.TextChoices):
        EMPLOYMENT = "employment", _("就业创业")
        STUDY = "study", _("学业升学")
        SKILLS = "skills", _("技能培训")
        LEGAL = "legal", _("法律咨询")
        PSYCH = "psych", _("心理健康")
        HARDSHIP = "hardship", _("生活困难")
        FINANCE = "finance", _("金融贷款")
        POLICY = "policy", _("政策咨询")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        NEW = "new", _("新提交")
        IN_PROGRESS = "in_progress", _("办理中")
        ANSWERED = "answered", _("已答复")
        CLOSED = "closed", _("已关闭")

    organisation = models.ForeignKey(
        "cadres.Organisation",
        verbose_name=_("受理组织"),
        on_delete=models.PROTECT,
        related_name="needs",
    )
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    question = models.TextField(_("需求或问题"))
    youth = models.ForeignKey(
        "cadres.Youth",
        verbose_name=_("青年"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="needs",
    )
    # A public asker who is not (yet) a known youth: a name and a way to reply, or anonymous.
    asker_name = models.CharField(_("称呼"), max_length=50, blank=True)
    reply_to = models.CharField(_("回复方式"), max_length=60, blank=True)
    owner_cadre = models.ForeignKey(
        "cadres.Cadre",
        verbose_name=_("负责团干部"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="needs",
    )
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责工作人员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("来源联系记录"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="needs",
    )
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.NEW)
    due_date = models.DateField(_("办理期限"))
    answer = models.TextField(_("答复"), blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    activity = models.ForeignKey(
        "activities.Activity",
        verbose_name=_("转化为活动"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="source_needs",
    )
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    # The asker's word on the answer, from their private status link (contacts/need_status.py):
    # None until they say; given once.
    youth_helped = models.BooleanField(_("青年反馈：是否解决"), null=True, blank=True)
    youth_feedback_at = models.DateTimeField(_("青年反馈时间"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("需求")
        verbose_name_plural = _("需求")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Needs desk lists and overdue counts of an organisation subtree by status.
            models.Index(
                fields=["organisation", "status", "due_date"], name="need_org_status_due_idx"
            ),
            # A cadre's open needs (home page) and responsiveness per cadre.
            models.Index(fields=["owner_cadre", "status"], name="need_owner_status_idx"),
            # Grouping needs of one category in a period into a lecture or training.
            models.Index(fields=["category", "created_at"], name="need_category_created_idx"),
            # The open and overdue counts of the staff home and the needs desk
            # (selectors.need_counts): only the open needs, about one in seven.
            models.Index(
                fields=["organisation", "due_date"],
                include=["id"],  # COUNT(id) from the index alone (an index-only scan)
                condition=Q(status__in=["new", "in_progress"]),
                name="need_open_org_due_idx",
            ),
            # The needs desk, newest first: the first page without sorting every need in scope.
            models.Index(fields=["-created_at", "-id"], name="need_newest_idx"),
        ]

    def __str__(self) -> str:
        return self.question[:30]

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.NEW, self.Status.IN_PROGRESS)

    @property
    def is_overdue(self) -> bool:
        """Still open after its due date: highlighted everywhere."""
        from django.utils import timezone

        return self.is_open and self.due_date < timezone.localdate()


class Confirmation(models.Model):
    """Youth-side evidence that a contact happened: a youth scanned the cadre's 见面码 (kind
    meeting, which logs the contact itself) or answered a contact's share link (kind share).

    Written only by contacts.confirmations; read by contacts.selectors.youth_side_evidence (the
    score's 青年确认 component) and by the supervisors' integrity signals. A denial is never shown
    to the cadre with the youth's name.
    """

    class Kind(models.TextChoices):
        MEETING = "meeting", _("见面码")
        SHARE = "share", _("确认链接")

    class Outcome(models.TextChoices):
        CONFIRMED = "confirmed", _("已确认")
        DENIED = "denied", _("否认")

    # NULL while a 见面码 scan by a youth not yet linked to the cadre waits for the cadre to
    # accept the link; accepting logs the contact and fills this in.
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("联系记录"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="confirmations",
    )
    cadre = models.ForeignKey(
        "cadres.Cadre", verbose_name=_("团干部"), on_delete=models.CASCADE, related_name="+"
    )
    youth = models.ForeignKey(
        "cadres.Youth", verbose_name=_("青年"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("方式"), max_length=8, choices=Kind.choices)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices)
    # The day the confirmed contact took place (local): the period it counts in.
    day = models.DateField(_("联系日期"))
    created_at = models.DateTimeField(_("确认时间"), auto_now_add=True)
    # The confirming phone carried the cadre's own device cookie (or the cadre's login): the
    # cadre confirmed for themself. Kept as a signal for supervisors, never counted.
    same_device = models.BooleanField(_("团干部本人设备"), default=False)
    # A keyed hash of the confirming device's cookie (not the cookie): shared-device signals.
    device = models.CharField(_("设备标识"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("青年确认")
        verbose_name_plural = _("青年确认")
        ordering = ["-created_at", "-id"]
        constraints = [
            # "A second confirmation the same day": one 见面码 confirmation per cadre, youth, day.
            models.UniqueConstraint(
                fields=["cadre", "youth", "day"],
                condition=Q(kind="meeting"),
                name="confirmation_one_meeting_per_day",
            ),
            # A share link is answered once per youth of the contact.
            models.UniqueConstraint(
                fields=["contact", "youth"],
                condition=Q(kind="share"),
                name="confirmation_one_share_answer",
            ),
        ]
        indexes = [
            # youth_side_evidence: counted confirmations of a period, (cadre, youth) index-only.
            models.Index(
                fields=["day"],
                include=["cadre", "youth"],
                condition=Q(outcome="confirmed", same_device=False, contact__isnull=False),
                name="confirmation_evidence_idx",
            ),
            # Supervisors' signals per cadre (denials, same-device) and a cadre's pending links.
            models.Index(fields=["cadre", "outcome", "day"], name="confirmation_cadre_idx"),
            # "No youth asked more than once a week": the youth's latest share answer.
            models.Index(fields=["youth", "created_at"], name="confirmation_youth_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.cadre_id}:{self.youth_id} {self.outcome}"


class CadreDevice(models.Model):
    """A device (keyed hash of its cookie) a cadre used while logged in: a confirmation from one
    of these is the cadre confirming for themself (same_device)."""

    cadre = models.ForeignKey("cadres.Cadre", on_delete=models.CASCADE, related_name="+")
    device = models.CharField(max_length=32)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Also the index for "is this device one of this cadre's" at confirmation time.
            models.UniqueConstraint(fields=["cadre", "device"], name="cadredevice_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.cadre_id}:{self.device[:6]}"
