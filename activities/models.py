"""Activities with partners, registration and attendance, volunteers, commendations and the youth
entrepreneurship project library.

Attendance is a registration with `checked_in_at` set; activities.services turns the attended set
into contacts through contacts.services.activity_contacts_sync (entered once, reused).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .categories import ActivityCategory

# Codes people may have to type from a poster: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Partner(models.Model):
    """An external unit an activity is run with (school, credit union, company, charity …)."""

    class Kind(models.TextChoices):
        SCHOOL = "school", _("学校")
        FINANCE = "finance", _("银行/信用社/证券")
        COMPANY = "company", _("企业")
        CHARITY = "charity", _("公益组织/爱心人士")
        GOVERNMENT = "government", _("党政部门")
        OTHER = "other", _("其他")

    name = models.CharField(_("名称"), max_length=100, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.OTHER)

    class Meta:
        verbose_name = _("合作单位")
        verbose_name_plural = _("合作单位")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    Category = ActivityCategory  # activities/categories.py: shared with the work plans

    class Status(models.TextChoices):
        PLANNED = "planned", _("筹备中")
        OPEN = "open", _("报名中")
        DONE = "done", _("已完成")
        CANCELLED = "cancelled", _("已取消")

    title = models.CharField(_("活动名称"), max_length=100)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    organisation = models.ForeignKey(
        "cadres.Organisation",
        verbose_name=_("主办组织"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    place = models.CharField(_("地点"), max_length=100, blank=True)
    capacity = models.PositiveIntegerField(_("人数上限"), null=True, blank=True)
    description = models.TextField(_("活动内容"), blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    partners = models.ManyToManyField(
        Partner, verbose_name=_("合作单位"), blank=True, related_name="activities"
    )
    responsible_cadres = models.ManyToManyField(
        "cadres.Cadre",
        verbose_name=_("负责团干部"),
        blank=True,
        related_name="responsible_activities",
    )
    outcome = models.TextField(_("活动成效"), blank=True)
    # The public sign-up link (shared widely) and the check-in code (shown only at the venue) are
    # different, so a forwarded sign-up link cannot be used to check in from home.
    register_code = models.CharField(
        _("报名码"), max_length=12, unique=True, default=new_code, editable=False
    )
    checkin_code = models.CharField(
        _("签到码"), max_length=12, unique=True, default=new_code, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The work-plan item this activity carries out (activities/plans.py: same organisation, same
    # year). Its FK index serves the plan's completion count ("activities of these items").
    plan_item = models.ForeignKey(
        "activities.PlanItem",
        verbose_name=_("所属计划事项"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
    )

    class Meta:
        verbose_name = _("活动")
        verbose_name_plural = _("活动")
        ordering = ["-starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gte=models.F("starts_at")),
                name="activity_ends_after_start",
            ),
        ]
        indexes = [
            # Activity lists and calendars of an organisation subtree by date.
            models.Index(fields=["organisation", "starts_at"], name="activity_org_date_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("activities:detail", args=[self.pk])

    @property
    def duration_hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


class Registration(models.Model):
    """A youth signed up for an activity; with `checked_in_at` set, an attendance.

    A public sign-up by somebody not yet known has no youth, only the name and phone they typed,
    and waits for the organiser to confirm (which creates the youth record).
    """

    class Source(models.TextChoices):
        STAFF = "staff", _("工作人员/团干部报名")
        PUBLIC = "public", _("青年自助报名")
        NEEDS = "needs", _("需求邀请")
        WALK_IN = "walk_in", _("现场签到")
        LATE = "late", _("活动后补录")

    activity = models.ForeignKey(
        Activity, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="registrations"
    )
    youth = models.ForeignKey(
        "cadres.Youth",
        verbose_name=_("青年"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activity_registrations",
    )
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    source = models.CharField(_("来源"), max_length=8, choices=Source.choices)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报名人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("报名时间"), auto_now_add=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("签退时间"), null=True, blank=True)
    hours = models.DecimalField(
        _("时长（小时）"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    # The team the person came with (a performance's 22 troupes): at most one per activity,
    # because membership is this column. Its FK index serves "members of a team".
    team = models.ForeignKey(
        "activities.ActivityTeam",
        verbose_name=_("队伍"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )

    class Meta:
        verbose_name = _("报名与签到")
        verbose_name_plural = _("报名与签到")
        ordering = ["created_at", "id"]
        constraints = [
            # Also the index for "registrations of an activity" (check-in list, counts).
            models.UniqueConstraint(
                fields=["activity", "youth"],
                condition=Q(youth__isnull=False),
                name="registration_unique_youth",
            ),
            models.UniqueConstraint(
                fields=["activity", "phone"],
                condition=Q(youth__isnull=True) & ~Q(phone=""),
                name="registration_unique_pending_phone",
            ),
            models.CheckConstraint(
                condition=Q(youth__isnull=False) | ~Q(name=""),
                name="registration_has_person",
            ),
            # An activity lasts at most a day of service; the service checks the exact duration.
            models.CheckConstraint(
                condition=Q(hours__isnull=True) | (Q(hours__gte=0) & Q(hours__lte=24)),
                name="registration_hours_range",
            ),
        ]
        indexes = [
            # A youth's attendances (volunteer record, youth panel, activity_totals by youth).
            models.Index(fields=["youth", "checked_in_at"], name="registration_youth_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}:{self.youth_id or self.name}"

    @property
    def attended(self) -> bool:
        return self.checked_in_at is not None


class ActivityTeam(models.Model):
    """A team at an activity (e.g. one of the 22 troupes of the 文艺汇演): members are the
    registrations that carry it; checked in together, commended together."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="teams"
    )
    name = models.CharField(_("队伍名称"), max_length=100)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("活动队伍")
        verbose_name_plural = _("活动队伍")
        ordering = ["name", "id"]
        constraints = [
            # Also the index of "teams of an activity".
            models.UniqueConstraint(
                fields=["activity", "name"],
                name="activityteam_unique_name",
                violation_error_message=_("本活动已有同名队伍。"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


def _photo_path(instance: ActivityPhoto, filename: str) -> str:
    return f"activities/{instance.activity_id}/{secrets.token_hex(8)}.jpg"


class ActivityPhoto(models.Model):
    activity = models.ForeignKey(
        Activity, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="photos"
    )
    image = models.ImageField(_("照片"), upload_to=_photo_path)
    caption = models.CharField(_("说明"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("活动照片")
        verbose_name_plural = _("活动照片")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.caption or self.image.name


class VolunteerOrganisation(models.Model):
    """A volunteer team (e.g. 爱心送考车队). Cadres hold it in the registry as a liaison channel of
    kind "volunteer_org" with the same name; youths are its members."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    organisation = models.ForeignKey(
        "cadres.Organisation",
        verbose_name=_("挂靠团组织"),
        on_delete=models.PROTECT,
        related_name="volunteer_organisations",
    )
    description = models.TextField(_("简介"), blank=True)
    members = models.ManyToManyField(
        "cadres.Youth",
        verbose_name=_("成员"),
        blank=True,
        related_name="volunteer_organisations",
    )

    class Meta:
        verbose_name = _("志愿服务组织")
        verbose_name_plural = _("志愿服务组织")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class VolunteerHours(models.Model):
    """Volunteer service not recorded as attendance (entered by staff, then approved)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已认定")
        REJECTED = "rejected", _("未认定")

    youth = models.ForeignKey(
        "cadres.Youth",
        verbose_name=_("青年"),
        on_delete=models.CASCADE,
        related_name="volunteer_hours",
    )
    volunteer_organisation = models.ForeignKey(
        VolunteerOrganisation,
        verbose_name=_("志愿服务组织"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hour_records",
    )
    # The organisation that recorded and vouches for the hours: the scope of the record.
    organisation = models.ForeignKey(
        "cadres.Organisation",
        verbose_name=_("认定组织"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    date = models.DateField(_("服务日期"))
    hours = models.DecimalField(_("时长（小时）"), max_digits=4, decimal_places=1)
    description = models.CharField(_("服务内容"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("志愿服务时长")
        verbose_name_plural = _("志愿服务时长")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0) & Q(hours__lte=24), name="volunteerhours_range"
            ),
        ]
        indexes = [
            # A youth's record; totals per organisation of a period (activity_totals).
            models.Index(fields=["youth", "status"], name="volhours_youth_idx"),
            models.Index(fields=["organisation", "date"], name="volhours_org_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.youth_id} {self.date} {self.hours}h"


class Commendation(models.Model):
    """An honour (表彰) to a youth or a team, at an activity or by the committee."""

    title = models.CharField(_("荣誉名称"), max_length=50)
    youth = models.ForeignKey(
        "cadres.Youth",
        verbose_name=_("青年"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="commendations",
    )
    team_name = models.CharField(_("集体名称"), max_length=100, blank=True)
    activity = models.ForeignKey(
        Activity,
        verbose_name=_("表彰活动"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="commendations",
    )
    organisation = models.ForeignKey(
        "cadres.Organisation",
        verbose_name=_("表彰单位"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    date = models.DateField(_("表彰日期"))
    citation = models.TextField(_("事迹"), blank=True)
    # A team commended at its activity (team_name keeps the name if the team is removed).
    team = models.ForeignKey(
        "activities.ActivityTeam",
        verbose_name=_("受表彰队伍"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="commendations",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("表彰")
        verbose_name_plural = _("表彰")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(youth__isnull=False) | ~Q(team_name=""),
                name="commendation_has_recipient",
            ),
        ]
        indexes = [
            # Commendation list of an organisation subtree, newest first.
            models.Index(fields=["organisation", "date"], name="commendation_org_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class EntrepreneurshipProject(models.Model):
    class Stage(models.TextChoices):
        IDEA = "idea", _("创意阶段")
        STARTING = "starting", _("初创期")
        OPERATING = "operating", _("运营期")
        GROWING = "growing", _("扩张期")
        PAUSED = "paused", _("暂停/退出")

    name = models.CharField(_("项目名称"), max_length=100)
    youth = models.ForeignKey(
        "cadres.Youth",
        verbose_name=_("创业青年"),
        on_delete=models.PROTECT,
        related_name="projects",
    )
    organisation = models.ForeignKey(
        "cadres.Organisation",
        verbose_name=_("联系团组织"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    field = models.CharField(_("行业领域"), max_length=50)
    stage = models.CharField(_("阶段"), max_length=10, choices=Stage.choices, default=Stage.IDEA)
    description = models.TextField(_("项目简介"), blank=True)
    created_at = models.DateTimeField(_("入库时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("青年创业项目")
        verbose_name_plural = _("青年创业项目")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Project library of an organisation subtree filtered by stage.
            models.Index(fields=["organisation", "stage"], name="project_org_stage_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("activities:project_detail", args=[self.pk])


class ProjectSupport(models.Model):
    class Kind(models.TextChoices):
        TRAINING = "training", _("创业培训")
        LOAN = "loan", _("小额贷款推荐")
        MENTORING = "mentoring", _("创业导师")
        OTHER = "other", _("其他帮扶")

    class LoanStatus(models.TextChoices):
        REFERRED = "referred", _("已推荐")
        APPROVED = "approved", _("已审批")
        DISBURSED = "disbursed", _("已放款")
        REJECTED = "rejected", _("未获批")

    project = models.ForeignKey(
        EntrepreneurshipProject,
        verbose_name=_("项目"),
        on_delete=models.CASCADE,
        related_name="supports",
    )
    kind = models.CharField(_("帮扶类型"), max_length=10, choices=Kind.choices)
    date = models.DateField(_("日期"))
    description = models.CharField(_("内容"), max_length=200, blank=True)
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("合作单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    loan_amount = models.DecimalField(
        _("贷款金额（元）"), max_digits=10, decimal_places=0, null=True, blank=True
    )
    loan_status = models.CharField(
        _("贷款状态"), max_length=10, choices=LoanStatus.choices, blank=True
    )
    mentor = models.CharField(_("导师"), max_length=50, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("创业帮扶")
        verbose_name_plural = _("创业帮扶")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(loan_amount__isnull=True) | Q(loan_amount__gt=0),
                name="support_loan_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"


# The work plans live in their own module; imported here so that Django registers them.
from .plan_models import PlanCategory, PlanDeadline, PlanItem, WorkPlan  # noqa: E402

__all__ = [
    "Activity",
    "ActivityPhoto",
    "ActivityTeam",
    "Commendation",
    "EntrepreneurshipProject",
    "Partner",
    "PlanCategory",
    "PlanDeadline",
    "PlanItem",
    "ProjectSupport",
    "Registration",
    "VolunteerHours",
    "VolunteerOrganisation",
    "WorkPlan",
]
