"""Tables (lists and their CSV/Excel exports) of the activities app."""

from __future__ import annotations

import logging

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_tables2.export import ExportMixin

from .models import Activity, EntrepreneurshipProject

logger = logging.getLogger("lianqing.exports")

# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value):
    """Neutralise a spreadsheet formula: prefix the cell with an apostrophe (OWASP advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class SafeExportTable(tables.Table):
    """A table whose export escapes formula-like cells (names, titles, notes typed by people)."""

    def as_values(self, exclude_columns=None):
        for row in super().as_values(exclude_columns):
            yield [escape_cell(cell) for cell in row]


class LoggedExportMixin(ExportMixin):
    """ExportMixin that logs who exported what (MISSION: exports are logged)."""

    export_formats = ("csv", "xlsx")

    def create_export(self, export_format):
        logger.info(
            "export %s by user %s (%s)", self.export_name, self.request.user.pk, export_format
        )
        return super().create_export(export_format)


class ActivityTable(SafeExportTable):
    title = tables.Column(verbose_name=_("活动名称"), linkify=True)
    starts_at = tables.DateTimeColumn(verbose_name=_("时间"), format="Y-m-d H:i")
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


class ProjectTable(SafeExportTable):
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
