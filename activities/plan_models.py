"""Annual work plans (年度工作计划, issue 15 item 1): each organisation's plan for a year, its items
(goal, category, quarter, responsible cadres, a measurable target), and the date by which a
committee expects the plans of its subtree. Imported by activities/models.py.

What an item's target is measured by, and how far it is met, is one function:
activities/plans.py:plan_completion (the plan page, the subtree overview, the reviews and the
bulletin all call it).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .categories import PlanCategory


class WorkPlan(models.Model):
    organisation = models.ForeignKey(
        "cadres.Organisation",
        verbose_name=_("组织"),
        on_delete=models.PROTECT,
        related_name="work_plans",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    summary = models.TextField(_("总体目标"), blank=True)
    # Set when the organisation hands the plan in; "has a plan by the date" means this.
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("年度工作计划")
        verbose_name_plural = _("年度工作计划")
        ordering = ["-year", "organisation__path"]
        constraints = [
            # One plan per organisation and year; also the index of "plans of the subtree for
            # a year" (organisation first: the subtree join) and of one organisation's plan.
            models.UniqueConstraint(fields=["organisation", "year"], name="workplan_one_per_year"),
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2100),
                name="workplan_year_range",
                violation_error_message=_("年度须在 2000 至 2100 年之间。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} {self.year}"

    def get_absolute_url(self) -> str:
        return reverse("activities:plan_detail", args=[self.pk])


class PlanItem(models.Model):
    class Measure(models.TextChoices):
        ACTIVITIES = "activities", _("关联活动场次")
        PARTICIPANTS = "participants", _("关联活动参与青年（人）")
        QUOTA = "quota", _("团干部联系青年达标率（%）")
        MANUAL = "manual", _("手工填报")

    plan = models.ForeignKey(
        WorkPlan, verbose_name=_("计划"), on_delete=models.CASCADE, related_name="items"
    )
    goal = models.CharField(_("工作目标"), max_length=200)
    category = models.CharField(_("类别"), max_length=16, choices=PlanCategory.choices)
    quarter = models.PositiveSmallIntegerField(
        _("计划季度"),
        choices=[(1, _("第一季度")), (2, _("第二季度")), (3, _("第三季度")), (4, _("第四季度"))],
    )
    responsible_cadres = models.ManyToManyField(
        "cadres.Cadre", verbose_name=_("负责团干部"), blank=True, related_name="plan_items"
    )
    measure = models.CharField(
        _("衡量方式"), max_length=16, choices=Measure.choices, default=Measure.ACTIVITIES
    )
    target = models.PositiveIntegerField(_("目标值"))
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    # Only for the "manual" measure: what the organisation reports as achieved.
    achieved = models.PositiveIntegerField(_("已完成（手工填报）"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        verbose_name = _("计划事项")
        verbose_name_plural = _("计划事项")
        ordering = ["quarter", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quarter__gte=1, quarter__lte=4),
                name="planitem_quarter",
                violation_error_message=_("计划季度须为第一至第四季度。"),
            ),
            models.CheckConstraint(
                condition=Q(target__gt=0),
                name="planitem_target_positive",
                violation_error_message=_("目标值须大于 0。"),
            ),
            models.CheckConstraint(
                condition=~Q(measure="quota") | Q(target__lte=100),
                name="planitem_quota_percent",
                violation_error_message=_("达标率目标不能超过 100%%。"),
            ),
        ]
        # The plan FK's own index serves "items of these plans" (plan page, completion).

    def __str__(self) -> str:
        return self.goal


class PlanDeadline(models.Model):
    """The date by which a committee expects every organisation of its subtree to have handed in
    its plan for the year."""

    organisation = models.ForeignKey(
        "cadres.Organisation",
        verbose_name=_("设定组织"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    due_on = models.DateField(_("提交截止日期"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("计划提交截止日期")
        verbose_name_plural = _("计划提交截止日期")
        constraints = [
            # Also the lookup of the overview: this committee's date for this year.
            models.UniqueConstraint(fields=["organisation", "year"], name="plandeadline_one"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} {self.year}: {self.due_on}"
