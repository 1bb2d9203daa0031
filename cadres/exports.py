"""Exports of scoped lists, shared by every app: formula-safe cells, minors guarded, every export
logged.

Use it on a django-tables2 list view instead of `ExportMixin`:

    class ContactListView(ScopedExportMixin, SingleTableMixin, FilterView):
        export_list_name = "contacts"           # recorded in ExportLog.list_name
        export_name = "联系记录"                  # the file name, without extension
        export_minor_field = "youth__birth_year"  # optional: rows of possible under-14s

The exported rows are the table's data, i.e. exactly the scoped, filtered list the page shows
(all pages, not only the current one). Cells beginning with = + - @ tab or CR are prefixed with
an apostrophe so that a spreadsheet shows them as text instead of running them as formulas
(CSV/formula injection, OWASP). Rows of youths who may be under 14 are left out unless the user
has the permission `cadres.export_minors` (PIPL: minors' data is sensitive).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django_tables2.export.export import TableExport
from django_tables2.export.views import ExportMixin

from .models import ExportLog, User, Youth

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXPORT_MINORS_PERMISSION = "cadres.export_minors"


def escape_cell(value: Any) -> Any:
    """A cell value that a spreadsheet will not evaluate: text starting with = + - @ tab CR is
    prefixed with an apostrophe. Numbers and dates pass through (a negative number is data)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def may_export_minors(user: User) -> bool:
    return user.has_perm(EXPORT_MINORS_PERMISSION)


def exclude_minors(qs: QuerySet, *, birth_year_field: str = "birth_year") -> QuerySet:
    """Leave out rows whose youth may be under 14 (born in or after the minor floor year)."""
    return qs.exclude(**{f"{birth_year_field}__gte": Youth.minor_birth_year_floor()})


class EscapingTableExport(TableExport):
    """TableExport whose every cell (and header) goes through `escape_cell`."""

    def table_to_dataset(self, table, exclude_columns, dataset_kwargs=None):
        dataset = super().table_to_dataset(table, exclude_columns, dataset_kwargs)
        headers = [escape_cell(h) for h in dataset.headers or []]
        rows = [tuple(escape_cell(v) for v in row) for row in dataset]
        dataset.wipe()
        dataset.headers = headers
        for row in rows:
            dataset.append(row)
        return dataset

    def export(self):
        content = super().export()
        if self.format == self.CSV:
            # Excel on Chinese Windows reads a CSV without BOM as GBK: the BOM keeps it UTF-8.
            return "\ufeff" + content
        return content


def export_log_create(
    *,
    user: User,
    list_name: str,
    export_format: str,
    querystring: str,
    row_count: int,
    included_minors: bool = False,
) -> ExportLog:
    return ExportLog.objects.create(
        user=user if user.is_authenticated else None,
        list_name=list_name,
        export_format=export_format,
        querystring=querystring[:1000],
        row_count=row_count,
        included_minors=included_minors,
    )


class ScopedExportMixin(ExportMixin):
    """django-tables2 ExportMixin with escaping, the minors rule and an ExportLog per export."""

    export_class = EscapingTableExport
    export_formats = (TableExport.CSV, TableExport.XLSX)
    export_list_name = ""
    # Lookup to the youth's birth year when rows are (or concern) youths; None otherwise.
    export_minor_field: str | None = None

    def is_exporting(self) -> bool:
        return (
            self.export_class.is_valid_format(self.request.GET.get(self.export_trigger_param))
            and self.request.GET.get(self.export_trigger_param) in self.export_formats
        )

    def get_table_data(self):
        data = super().get_table_data()
        if (
            self.is_exporting()
            and self.export_minor_field
            and isinstance(data, QuerySet)
            and not may_export_minors(self.request.user)
        ):
            data = exclude_minors(data, birth_year_field=self.export_minor_field)
        return data

    def render_to_response(self, context, **kwargs):
        if self.is_exporting():
            export_format = self.request.GET[self.export_trigger_param]
            if self._export_job() is not None:
                return self.export_to_file(export_format)
            rows = self._export_row_count()
            if rows > settings.LIANQING_EXPORT_INLINE_MAX:
                return self.start_export_job(export_format, rows)
            return self.create_export(export_format)
        # Skip ExportMixin's own dispatch: formats outside export_formats render the page.
        return super(ExportMixin, self).render_to_response(context, **kwargs)

    # --- Large exports: a background job writes the file (cadres/export_jobs.py). ---

    def _export_job(self):
        from .export_jobs import JOB_ATTRIBUTE

        return getattr(self.request, JOB_ATTRIBUTE, None)

    def _export_row_count(self) -> int:
        data = self.get_table_data()
        return data.count() if isinstance(data, QuerySet) else len(data)

    def get_table_pagination(self, table):
        if self._export_job() is not None:
            return False  # the job writes every row; a paginator would only COUNT them
        return super().get_table_pagination(table)

    def start_export_job(self, export_format: str, rows: int) -> HttpResponse:
        from .export_jobs import export_job_start

        query = self.request.GET.copy()
        query.pop(self.export_trigger_param, None)
        job = export_job_start(
            user=self.request.user,
            path=self.request.path,
            querystring=query.urlencode(),
            list_name=self.export_list_name or self.export_name,
            export_format=export_format,
            download_name=self.get_export_filename(export_format),
            total=rows,
        )
        messages.info(
            self.request,
            _("共 %(n)s 行，正在后台导出；完成后在本页下载。") % {"n": rows},
        )
        return redirect("cadres:export_job", job.pk)

    def export_rows(self, table) -> tuple[Sequence[Any], Iterable[Sequence[Any]]]:
        """Header and rows of the export, streamed. The default goes through the table (its
        render/value methods) over a chunked server-side iterator; a list with a plain-values
        equivalent overrides it (YouthListView: values_list, several times faster)."""
        data = table.data.data
        if isinstance(data, QuerySet):
            table.data.data = data.iterator(chunk_size=2000)
        values = table.as_values(exclude_columns=self.exclude_columns)
        return next(values), values

    def export_to_file(self, export_format: str) -> HttpResponse:
        """In the job (a replayed request): stream the list into the job's file."""
        from .export_jobs import export_write

        headers, rows = self.export_rows(self.get_table(**self.get_table_kwargs()))
        export_write(
            job=self._export_job(),
            headers=headers,
            rows=rows,
            included_minors=bool(self.export_minor_field) and may_export_minors(self.request.user),
        )
        return HttpResponse(status=204)

    def create_export(self, export_format):
        exporter = self.export_class(
            export_format=export_format,
            table=self.get_table(**self.get_table_kwargs()),
            exclude_columns=self.exclude_columns,
            dataset_kwargs=self.get_dataset_kwargs(),
        )
        query = self.request.GET.copy()
        query.pop(self.export_trigger_param, None)
        export_log_create(
            user=self.request.user,
            list_name=self.export_list_name or self.export_name,
            export_format=export_format,
            querystring=query.urlencode(),
            row_count=len(exporter.dataset),
            included_minors=bool(self.export_minor_field) and may_export_minors(self.request.user),
        )
        return exporter.response(filename=self.get_export_filename(export_format))
