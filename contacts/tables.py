"""Tables of the contacts app (django-tables2); exports go through cadres.exports."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.tables import DateColumn, DateTimeColumn, Table

from .models import Contact, Need


class ContactTable(Table):
    date = DateColumn(verbose_name=_("日期"), format="Y-m-d")
    cadre = tables.Column(verbose_name=_("团干部"), order_by=("cadre__name",))
    organisation = tables.Column(
        verbose_name=_("组织"), accessor="cadre__organisation__name", orderable=False
    )
    channel = tables.Column(verbose_name=_("方式"))
    youths = tables.Column(verbose_name=_("青年"), empty_values=(), orderable=False)
    topic = tables.Column(verbose_name=_("话题"), orderable=False)
    help_given = tables.Column(verbose_name=_("帮助解决困难"), orderable=False, visible=False)
    notes = tables.Column(verbose_name=_("记录"), orderable=False, visible=False)

    class Meta:
        model = Contact
        fields = ("date", "cadre", "organisation", "channel", "youths", "topic")
        sequence = ("date", "cadre", "organisation", "channel", "youths", "topic")
        orderable = True
        # One line per row: on a phone the table scrolls sideways instead of becoming a column
        # of single characters.
        attrs = {"class": "table table-sm table-hover align-middle text-nowrap"}

    def render_channel(self, record, value):
        badge = "text-bg-success" if record.is_offline else "text-bg-secondary"
        return format_html('<span class="badge {}">{}</span>', badge, value)

    def value_channel(self, record):
        return record.get_channel_display()

    def value_youths(self, record):
        return "、".join(row.youth.name for row in record.youth_rows.all())

    def render_youths(self, record):
        return self.value_youths(record)

    def render_date(self, record, value):
        return format_html(
            '<a href="{}">{}</a>', reverse("contacts:detail", args=[record.pk]), value
        )


class NeedTable(Table):
    created_at = DateTimeColumn(verbose_name=_("提交时间"), format="Y-m-d")
    category = tables.Column(verbose_name=_("类别"))
    question = tables.Column(verbose_name=_("需求或问题"), orderable=False)
    organisation = tables.Column(verbose_name=_("受理组织"), accessor="organisation__name")
    owner = tables.Column(verbose_name=_("负责人"), empty_values=(), orderable=False)
    status = tables.Column(verbose_name=_("状态"))
    due_date = DateColumn(verbose_name=_("办理期限"), format="Y-m-d")

    class Meta:
        model = Need
        fields = ("created_at", "category", "question", "organisation", "owner", "status")
        sequence = (
            "created_at",
            "category",
            "question",
            "organisation",
            "owner",
            "status",
            "due_date",
        )
        attrs = {"class": "table table-sm table-hover align-middle text-nowrap"}
        row_attrs = {"class": lambda record: "table-danger" if record.is_overdue else ""}

    def render_question(self, record, value):
        short = value if len(value) <= 40 else value[:40] + "…"
        return format_html(
            '<a href="{}">{}</a>', reverse("contacts:need_detail", args=[record.pk]), short
        )

    def value_question(self, value):
        return value

    def value_owner(self, record):
        if record.owner_cadre_id:
            return record.owner_cadre.name
        if record.owner_user_id:
            return record.owner_user.get_full_name() or record.owner_user.username
        return str(_("（本组织工作人员）"))

    def render_owner(self, record):
        return self.value_owner(record)

    def render_due_date(self, record, value):
        if record.is_overdue:
            return format_html(
                '<span class="text-danger fw-bold">{} · {}</span>', value, _("已逾期")
            )
        return value

    def value_due_date(self, record):
        return record.due_date.isoformat()
