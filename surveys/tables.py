from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.tables import DateTimeColumn, Table

from .models import Campaign


def _rate_visible(record: Campaign) -> bool:
    return record.shows_counts


class CampaignOverviewTable(Table):
    branch = tables.Column(_("团支部"), accessor="branch__name", order_by=("branch__path",))
    secretary = tables.Column(_("团支部书记"), accessor="secretary__name")
    status = tables.Column(_("状态"), empty_values=(), orderable=False)
    electorate = tables.Column(_("应参评"))
    turnout = tables.Column(_("已参评"), empty_values=(), orderable=False)
    validity = tables.Column(_("是否有效"), empty_values=(), orderable=False)
    satisfaction_rate = tables.Column(_("满意率"), empty_values=(), orderable=False)
    outcome = tables.Column(_("测评结果"), empty_values=(), orderable=False)
    closes_at = DateTimeColumn(format="Y-m-d H:i", verbose_name=_("截止时间"))

    class Meta:
        model = Campaign
        fields = ()
        sequence = (
            "branch",
            "secretary",
            "status",
            "electorate",
            "turnout",
            "validity",
            "satisfaction_rate",
            "outcome",
            "closes_at",
        )
        orderable = False
        attrs = {"class": "table table-sm table-hover align-middle text-nowrap"}

    def render_branch(self, record, value):
        url = reverse("surveys:campaign_detail", args=[record.pk])
        return format_html('<a href="{}">{}</a>', url, value)

    def value_branch(self, value):
        return value

    def render_status(self, record):
        if record.closed_at is None and not record.countable:
            return _("无法计票（份额遗失）")
        if record.closed_at is None and not record.is_sealed:
            return _("%(s)s · 票箱未启用") % {"s": record.get_status_display()}
        return record.get_status_display()

    def render_turnout(self, record):
        if record.closed_at is not None:
            return record.turnout
        if record.status == Campaign.Status.PLANNED:
            return "—"
        return record.votes_so_far

    def render_validity(self, record):
        if record.closed_at is None:
            return "—"
        return _("有效") if record.is_valid else _("无效")

    def render_satisfaction_rate(self, record):
        # Small-group protection: a rate over 3 ballots is a tally in disguise.
        if not _rate_visible(record) or record.satisfaction_rate is None:
            return "—"
        return f"{record.satisfaction_rate}%"

    def render_outcome(self, record):
        if record.closed_at is None:
            return "—"
        return record.get_outcome_display()
