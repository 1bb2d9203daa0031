"""Tables (lists and their CSV/Excel exports) of the activities app."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.tables import DateTimeColumn, Table

from .models import Activity, EntrepreneurshipProject


class ActivityTable(Table):
    title = tables.Column(verbose_name=_("活动名称"), linkify=True)
    starts_at = DateTimeColumn(verbose_name=_("时间"), format="Y-m-d H:i")
    category = tables.Column(verbose_name=_("类别"))
    organisation = tables.Column(verbose_name=_("主办组织"), accessor="organisation__name")
    place = tables.Column(verbose_name=_("地点"))
    status = tables.Column(verbose_name=_("状态"))
    n_registered = tables.Column(verbose_name=_("报名"), attrs={"td": {"class": "text-end"}})
    n_attended = tables.Column(verbose_name=_("签到"), attrs={"td": {"class": "text-end"}})
    total_hours = tables.Column(verbose_name=_("时长合计"), attrs={"td": {"class": "text-end"}})

    class Meta:
        model = Activity
        fields = ()
        sequence = (
            "title",
            "starts_at",
            "category",
            "organisation",
            "place",
            "status",
            "n_registered",
            "n_attended",
            "total_hours",
        )
        order_by = ("-starts_at",)
        empty_text = _("没有符合条件的活动。")

    def render_status(self, record, value):
        colour = {
            "planned": "secondary",
            "open": "success",
            "done": "primary",
            "cancelled": "dark",
        }.get(record.status, "secondary")
        return format_html('<span class="badge text-bg-{}">{}</span>', colour, value)

    def value_status(self, record, value):
        return value


class ProjectTable(Table):
    name = tables.Column(verbose_name=_("项目名称"), linkify=True)
    youth = tables.Column(verbose_name=_("创业青年"), accessor="youth__name")
    organisation = tables.Column(verbose_name=_("联系团组织"), accessor="organisation__name")
    field = tables.Column(verbose_name=_("行业领域"))
    stage = tables.Column(verbose_name=_("阶段"))
    n_supports = tables.Column(verbose_name=_("帮扶次数"), attrs={"td": {"class": "text-end"}})
    loan_total = tables.Column(
        verbose_name=_("推荐贷款（元）"), attrs={"td": {"class": "text-end"}}
    )

    class Meta:
        model = EntrepreneurshipProject
        fields = ()
        sequence = ("name", "youth", "organisation", "field", "stage", "n_supports", "loan_total")
        empty_text = _("项目库里还没有项目。")
