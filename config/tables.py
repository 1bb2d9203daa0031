"""The base of every list table (django-tables2), and the tag that writes a table's body.

A province list page spent most of its time not in SQL but in django-tables2 writing 50 rows of
10 cells (issue 16: the ranking, ~0.8 of 0.95 s under cProfile at banner scale). Per cell, the
library calls `inspect.signature` on the render method to choose its arguments, recomputes the
column's `<td>` attributes, and the template engine resolves a dozen variables. Here:

- `Table` (every project table inherits it) gives its rows a `BoundRow` that looks each render
  or value method's arguments up once per method (`_arguments`), not once per cell, and reads a
  model record's cell attribute by attribute (`BoundRow._get_and_render_with`) instead of the
  library's dict-then-attribute-then-index attempt per path step and `_meta` walk per cell;
- `{% table_body table %}` (used by templates/django_tables2/lianqing.html, the project's table
  template) writes the `<tr>`/`<td>` of the page in Python: the same cells (`row.get_cell`, so
  every `render_FOO`, linkify and `get_FOO_display` as before), the same row attributes, the same
  escaping and localisation as `{{ cell }}`, and each column's `<td>` attributes computed once per
  table unless they are callables of the record;
- `DateColumn` / `DateTimeColumn` compile their template code once, where the library compiles
  it for every cell.

What a cell shows is unchanged; tests/config/test_tables.py compares the body and the export
values with the library's own template and cell code, cell by cell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_tables2 as tables
from django import template
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.template import Context, Template
from django.template.base import render_value_in_context
from django.utils import formats
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django_tables2.rows import BoundRow as _BoundRow
from django_tables2.rows import BoundRows as _BoundRows
from django_tables2.utils import signature

register = template.Library()

_ARGUMENTS: dict[tuple[Any, bool], tuple[tuple[str, ...], str | None]] = {}


def _arguments(fn: Callable) -> tuple[tuple[str, ...], str | None]:
    """`django_tables2.utils.signature(fn)`, computed once per function (a bound method is keyed
    by its function: every instance's method takes the same arguments)."""
    key = (getattr(fn, "__func__", fn), hasattr(fn, "__self__"))
    found = _ARGUMENTS.get(key)
    if found is None:
        found = _ARGUMENTS[key] = signature(fn)
    return found


def _call_with_appropriate(fn: Callable, kwargs: dict[str, Any]) -> Any:
    """`django_tables2.utils.call_with_appropriate` with the signature looked up once."""
    args, kwargs_name = _arguments(fn)
    if not kwargs_name:
        if any(arg not in kwargs for arg in args):
            return None
        kwargs = {key: kwargs[key] for key in args}
    return fn(**kwargs)


_MISSING = object()
# (record class, accessor) -> whether the field the accessor ends on has choices: what
# django-tables2 reads from the model's _meta for every cell (`Accessor.get_field`).
_CHOICES: dict[tuple[type, str], bool] = {}


def _cell_plan(bound_column) -> tuple[tuple[str, ...], str] | None:
    """The accessor's path to the cell's object and the attribute read from it, or None where
    the cell needs django-tables2's general lookup (callable arguments, many-to-many columns)."""
    plan = getattr(bound_column, "_lq_plan", _MISSING)
    if plan is _MISSING:
        accessor = tables.A(bound_column.accessor)
        plan = None
        if (
            accessor
            and not accessor.callable_args
            and not accessor.callable_kwargs
            and not isinstance(bound_column.column, tables.ManyToManyColumn)
        ):
            *head, remainder = accessor.bits
            plan = (tuple(head), remainder)
        bound_column._lq_plan = plan
    return plan


def _has_choices(record: models.Model, accessor: str) -> bool:
    key = (type(record), accessor)
    found = _CHOICES.get(key)
    if found is None:
        try:
            field = tables.A(accessor).get_field(record)
        except FieldDoesNotExist:
            field = None
        found = _CHOICES[key] = bool(getattr(field, "choices", ()))
    return found


def _plain(obj: Any) -> bool:
    # An object the library's lookup reads by attribute: `obj[bit]` raises TypeError first.
    return not hasattr(type(obj), "__getitem__")


def _read(record: models.Model, plan: tuple[tuple[str, ...], str], accessor: str) -> Any:
    """The cell's value as django-tables2 reads it, or _MISSING where only the library's own
    lookup can say (a callable on the path, a subscriptable object, a missing attribute)."""
    head, remainder = plan
    current: Any = record
    for bit in head:
        current = getattr(current, bit, _MISSING)
        if current is _MISSING or callable(current) or not _plain(current):
            return _MISSING
        if current is None:
            return None  # past a null relation: the library's lookup stops there too
    if isinstance(current, models.Model) and _has_choices(record, accessor):
        display = getattr(current, f"get_{remainder}_display", None)
        if display is not None:
            return display()
    value = getattr(current, remainder, _MISSING)
    return _MISSING if callable(value) else value


class BoundRow(_BoundRow):
    def _get_and_render_with(self, bound_column, render_func, default):
        """django-tables2's cell lookup for the common case, a model record read attribute by
        attribute: the same value (`get_FOO_display()` for a field with choices, None past a
        null relation, the column's default for an empty value) without the library's
        try-dict-then-attribute-then-index per path step and `_meta` walk per cell. Anything
        else (dicts, callables on the path, a failing lookup) takes the library's own code."""
        plan = _cell_plan(bound_column)
        record = self._record
        if plan is None or not isinstance(record, models.Model) or not _plain(record):
            return super()._get_and_render_with(bound_column, render_func, default)
        try:
            value = _read(record, plan, bound_column.accessor)
        except Exception:  # noqa: BLE001 - the library's lookup decides what a failure shows
            value = _MISSING
        if value is _MISSING:
            return super()._get_and_render_with(bound_column, render_func, default)
        if value in bound_column.column.empty_values:
            return default
        return render_func(bound_column, value)

    def _call_render(self, bound_column, value=None):
        render_kwargs = self._optional_cell_arguments(bound_column, value)
        content = _call_with_appropriate(bound_column.render, render_kwargs)
        return bound_column.link(content, **render_kwargs) if bound_column.link else content

    def _call_value(self, bound_column, value=None):
        return _call_with_appropriate(
            bound_column.value, self._optional_cell_arguments(bound_column, value)
        )


class BoundRows(_BoundRows):
    def __iter__(self):
        yield from self.generator_pinned_row(self.pinned_data.get("top"))
        for record in self.data:
            yield BoundRow(record, table=self.table)
        yield from self.generator_pinned_row(self.pinned_data.get("bottom"))

    def __getitem__(self, key):
        if isinstance(key, slice):
            return BoundRows(data=self.data[key], table=self.table, pinned_data=self.pinned_data)
        return BoundRow(record=self.data[key], table=self.table)


class Table(tables.Table):
    """django-tables2's Table with the rows above (cheaper cells, same values)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = BoundRows(data=self.data, table=self, pinned_data=self.pinned_data)


_TEMPLATES: dict[str, Template] = {}


class _CompiledOnce:
    """For django-tables2's template columns: the same render, with the column's template code
    compiled once per process instead of once per cell (`Template(self.template_code)`)."""

    template_code: str | None

    def render(self, record, table, value, bound_column, **kwargs):
        if not self.template_code:
            return super().render(record, table, value, bound_column, **kwargs)  # type: ignore[misc]
        compiled = _TEMPLATES.get(self.template_code)
        if compiled is None:
            compiled = _TEMPLATES[self.template_code] = Template(self.template_code)
        parent_context = getattr(table, "context", Context())
        context = self.get_context_data(  # type: ignore[attr-defined]
            record=record, table=table, value=value, bound_column=bound_column, **kwargs
        )
        with parent_context.update(context):
            parent_context["request"] = getattr(table, "request", None)
            return compiled.render(parent_context)


class DateColumn(_CompiledOnce, tables.DateColumn):
    pass


class DateTimeColumn(_CompiledOnce, tables.DateTimeColumn):
    pass


def _has_callable(attrs: Any) -> bool:
    if callable(attrs):
        return True
    if isinstance(attrs, dict):
        return any(_has_callable(v) for v in attrs.values())
    return False


def _td_depends_on_record(bound_column) -> bool:
    # What BoundColumn.attrs computes the <td> from: the column's td (or cell) attributes over
    # the table's; only callables among them can differ from one record to the next.
    attrs = dict(bound_column._table.attrs)
    attrs.update(dict(bound_column.column.attrs))
    return _has_callable(attrs.get("td", attrs.get("cell", {})))


def _cell_text(column, cell: Any, context) -> str:
    # As the library's template: {{ cell }}, {{ cell|localize }} or {{ cell|unlocalize }}.
    if column.localize is not None:
        cell = str(formats.localize(cell, use_l10n=bool(column.localize)))
    # The two commonest cells without the localisation lookups, which would return them as they
    # are: a plain string (escaped) and an integer (without thousand separators it is str(n)).
    kind = type(cell)
    if kind is str and context.autoescape:
        return escape(cell)
    if kind is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(cell)
    return render_value_in_context(cell, context)


@register.simple_tag(takes_context=True)
def table_body(context, table) -> SafeString:
    """The `<tr>`s of the table's current page, or its empty text in one row."""
    columns = list(table.columns)
    static_td = {
        column.name: column.attrs["td"].as_html()
        for column in columns
        if not _td_depends_on_record(column)
    }
    out: list[str] = []
    for row in table.paginated_rows:
        out.append(format_html("<tr {}>", row.attrs.as_html()))
        for column in columns:
            # row.get_cell(column.name), without looking the column up by name again
            cell = row._get_and_render_with(column, row._call_render, column.default)
            column.current_value, column.current_record = cell, row.record  # as BoundRow.items
            td = static_td.get(column.name)
            if td is None:
                td = column.attrs["td"].as_html()
            out.append(f"<td {td}>{_cell_text(column, cell, context)}</td>")
        out.append("</tr>\n")
    if not out and table.empty_text:
        out.append(
            format_html('<tr><td colspan="{}">{}</td></tr>', len(table.columns), table.empty_text)
        )
    return mark_safe("".join(out))  # every part escaped: format_html, as_html, the cell text
