from __future__ import annotations

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from cadres.quota import quota_met
from config.tables import Table

from .models import CadreScore


class ScoreTable(Table):
    """Supervising staff only: the ranking of cadres in their subtree."""

    cadre = tables.Column(
        verbose_name=_("团干部"), linkify=("assessment:cadre_score", {"pk": tables.A("cadre_id")})
    )
    organisation = tables.Column(verbose_name=_("组织"), order_by=("organisation__path",))
    score = tables.Column(verbose_name=_("活跃度"))
    linked = tables.Column(verbose_name=_("联系青年"))
    quota = tables.Column(verbose_name=_("指标"))
    reached = tables.Column(verbose_name=_("本期联系"))
    sectors = tables.Column(verbose_name=_("领域"))
    # The one quota rule (cadres/quota.py), from the score's stored counts: same answer as the
    # dashboard, the bulletin and the cadre list.
    quota_met = tables.Column(verbose_name=_("完成指标"), empty_values=(), orderable=False)
    needs_overdue = tables.Column(verbose_name=_("本期逾期需求"))
    needs_backlog = tables.Column(verbose_name=_("此前遗留需求"))

    def render_quota_met(self, record) -> str:
        return str(_("是") if quota_met(record.linked, record.sectors, record) else _("否"))

    def value_quota_met(self, record) -> str:
        return self.render_quota_met(record)

    class Meta:
        model = CadreScore
        fields = ("cadre", "organisation", "score", "linked", "quota", "reached", "sectors")
        sequence = (
            "cadre",
            "organisation",
            "score",
            "linked",
            "quota",
            "reached",
            "sectors",
            "quota_met",
            "needs_overdue",
            "needs_backlog",
        )
        order_by = ("-score",)
        attrs = {"class": "table table-sm table-hover align-middle"}


class EligibilityTable(Table):
    cadre = tables.Column(verbose_name=_("团干部"), accessor="score__cadre__name")
    organisation = tables.Column(verbose_name=_("组织"), accessor="score__organisation__name")
    linked = tables.Column(verbose_name=_("联系青年"), accessor="score__linked")
    sectors = tables.Column(verbose_name=_("领域"), accessor="score__sectors")
    eligible = tables.BooleanColumn(verbose_name=_("可推荐"), yesno=(_("可推荐"), _("不可推荐")))
    reason = tables.Column(verbose_name=_("原因"), accessor="reasons", orderable=False)

    def render_reason(self, value):
        return "；".join(value) or "—"

    def value_reason(self, value):
        return "；".join(value)

    class Meta:
        orderable = False
        attrs = {"class": "table table-sm align-middle"}
