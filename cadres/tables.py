"""Tables of the registry (django-tables2): the cadre progress table and the youth list."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.tables import Table

from .models import Cadre, Gender, Youth


class CadreProgressTable(Table):
    name = tables.LinkColumn("cadres:detail", args=[tables.A("pk")], verbose_name=_("姓名"))
    organisation = tables.Column(verbose_name=_("组织"), order_by=("organisation__path",))
    cadre_type = tables.Column(verbose_name=_("类型"))
    n_youths = tables.Column(verbose_name=_("联系青年"), attrs={"td": {"class": "text-nowrap"}})
    quota = tables.Column(verbose_name=_("指标"), visible=False)
    # Then by id: one order for every page of the list, as `cadreprogress_list_order_idx` has it.
    progress = tables.Column(
        verbose_name=_("完成度"), exclude_from_export=True, order_by=("progress", "pk")
    )
    n_sectors = tables.Column(verbose_name=_("领域"))
    min_sectors = tables.Column(verbose_name=_("领域要求"), visible=False)
    n_channels = tables.Column(verbose_name=_("联系渠道"))
    min_channels = tables.Column(verbose_name=_("渠道要求"), visible=False)
    quota_met = tables.BooleanColumn(verbose_name=_("达标"), yesno=(_("是"), _("否")))

    class Meta:
        model = Cadre
        fields = ()
        sequence = (
            "name",
            "organisation",
            "cadre_type",
            "n_youths",
            "quota",
            "progress",
            "n_sectors",
            "min_sectors",
            "n_channels",
            "min_channels",
            "quota_met",
        )
        order_by = ("progress",)
        empty_text = _("没有符合条件的团干部。")
        attrs = {"class": "table table-sm table-hover align-middle text-nowrap"}

    def render_n_youths(self, record):
        return f"{record.n_youths}/{record.quota}"

    def value_n_youths(self, record):
        return record.n_youths

    def render_progress(self, record):
        # Widths are classes (lq-pct-0…100 in lianqing.css): the CSP refuses style attributes.
        pct = max(0, min(100, round(100 * record.progress)))
        return format_html(
            '<div class="progress lq-progress-table" role="progressbar" aria-label="{}" '
            'aria-valuenow="{}" aria-valuemin="0" aria-valuemax="100">'
            '<div class="progress-bar lq-pct-{}"></div></div>',
            _("完成度"),
            pct,
            pct,
        )

    def render_n_sectors(self, record):
        return self._ratio(record.n_sectors, record.min_sectors)

    def value_n_sectors(self, record):
        return record.n_sectors

    def render_n_channels(self, record):
        return self._ratio(record.n_channels, record.min_channels)

    def value_n_channels(self, record):
        return record.n_channels

    @staticmethod
    def _ratio(held, required):
        if held < required:
            return format_html('<span class="text-danger fw-semibold">{}/{}</span>', held, required)
        return f"{held}/{required}"


class YouthTable(Table):
    # A plain column: render_name writes the link (a LinkColumn would wrap it in a second <a>,
    # which browsers split into an empty link that screen readers announce without a name).
    name = tables.Column(verbose_name=_("姓名"))
    gender = tables.Column(verbose_name=_("性别"))
    birth_year = tables.Column(verbose_name=_("出生年份"))
    sector = tables.Column(verbose_name=_("领域"), order_by=("sector__sort_order",))
    unit = tables.Column(verbose_name=_("单位/学校/村（嘎查）"))
    organisation = tables.Column(verbose_name=_("所属组织"), order_by=("organisation__path",))
    phone = tables.Column(verbose_name=_("手机号"))
    n_cadres = tables.Column(verbose_name=_("联系团干部数"))

    class Meta:
        model = Youth
        fields = ()
        sequence = (
            "name",
            "gender",
            "birth_year",
            "sector",
            "unit",
            "organisation",
            "phone",
            "n_cadres",
        )
        order_by = ("name",)
        empty_text = _("没有符合条件的青年。")
        attrs = {"class": "table table-sm table-hover align-middle text-nowrap"}

    def render_name(self, record, value):
        from django.urls import reverse

        url = reverse("cadres:youth_detail", args=[record.pk])
        minor = (
            format_html(' <span class="badge text-bg-warning">{}</span>', _("未成年"))
            if (record.is_minor)
            else ""
        )
        return format_html('<a href="{}">{}</a>{}', url, value, minor)

    def value_name(self, record, value):
        return value

    def render_n_cadres(self, value):
        if value > 1:
            return format_html('<span class="badge text-bg-info">{}</span>', value)
        return value

    def value_n_cadres(self, value):
        return value  # the export shows the number, not the badge's HTML

    # The export's plain values (sequence order), read with values_list: what `as_values` gives
    # for these columns (choices as their label, related rows by name, "" as empty), at a
    # fraction of its cost. tests/cadres/test_export_jobs.py compares the two.
    EXPORT_VALUES = (
        "name",
        "gender",
        "birth_year",
        "sector__name",
        "unit",
        "organisation__name",
        "phone",
        "n_cadres",
    )

    def export_values(self, queryset):
        """Rows of the export over a chunked server-side cursor, or None when the columns are not
        the standard ones (then the caller goes through `as_values`)."""
        names = [c.name for c in self.columns.iterall() if not c.column.exclude_from_export]
        if names != [field.split("__")[0] for field in self.EXPORT_VALUES]:
            return None
        genders = {code: str(label) for code, label in Gender.choices}
        rows = queryset.values_list(*self.EXPORT_VALUES).iterator(chunk_size=5000)
        return (
            (
                name or None,
                genders.get(gender) if gender else None,
                birth_year,
                sector or None,
                unit or None,
                organisation or None,
                phone or None,
                n_cadres,
            )
            for name, gender, birth_year, sector, unit, organisation, phone, n_cadres in rows
        )
