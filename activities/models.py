"""Activities, and (as the activities app grows) registration, attendance, volunteers, honours."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Activity(models.Model):
    class Category(models.TextChoices):
        THEORY = "theory", _("理论学习")
        THEMATIC = "thematic", _("主题教育")
        CARE = "care", _("关爱帮扶")
        EMPLOYMENT = "employment", _("就业创业")
        CULTURE = "culture", _("文体活动")
        VOLUNTEER = "volunteer", _("志愿服务")
        TRAINING = "training", _("培训讲座")
        OTHER = "other", _("其他")

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
