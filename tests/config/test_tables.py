"""config/tables.py writes a table's body in Python: every list shows exactly the cells, row
attributes and `<td>` attributes django-tables2's own template shows."""

from __future__ import annotations

import re

import pytest
from django_tables2.rows import BoundRow as LibraryBoundRow

from activities.tables import ActivityTable
from assessment.tables import ScoreTable
from cadres.tables import CadreProgressTable, YouthTable
from config.tables import BoundRow, _arguments, _call_with_appropriate
from contacts.tables import ContactTable, NeedTable
from tests.conftest import rows_for_module
from tests.test_page_queries import _world

LIBRARY_TEMPLATE = "django_tables2/bootstrap5-responsive.html"

LISTS = [
    ("/assessment/scores/", ScoreTable),
    ("/contacts/needs/", NeedTable),
    ("/contacts/", ContactTable),
    ("/cadres/youths/", YouthTable),
    ("/cadres/", CadreProgressTable),
    ("/activities/", ActivityTable),
]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with rows_for_module(django_db_blocker, _world) as world:
        yield world


def _body_rows(html: str) -> list[str]:
    """The <tbody>'s rows, whitespace between tags removed (the two templates indent
    differently; a cell's own text is compared as it is)."""
    body = re.search(r"<tbody[^>]*>(.*?)</tbody>", html, re.S)
    assert body, "no table body on the page"
    compact = re.sub(r">\s+<", "><", body.group(1).strip())
    return re.findall(r"<tr.*?</tr>", compact, re.S)


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "table_class"), LISTS, ids=[u for u, _ in LISTS])
@pytest.mark.parametrize("query", ["", "?sort=-{first}", "?page=2&per_page=1"])
def test_body_is_the_library_templates_body(client, world, monkeypatch, url, table_class, query):
    (_small, _ids), (user, _big_ids) = world["staff"]
    client.force_login(user)
    first = next(iter(table_class.base_columns))
    url = url + query.format(first=first)
    ours = client.get(url)
    assert ours.status_code == 200
    monkeypatch.setattr(table_class._meta, "template_name", LIBRARY_TEMPLATE)
    _library_cells(monkeypatch)
    theirs = client.get(url)
    rows = _body_rows(theirs.content.decode())
    assert rows, f"{url}: no rows to compare (the world has data for every list)"
    assert _body_rows(ours.content.decode()) == rows


def _library_cells(monkeypatch):
    """The reference rows come from django-tables2's own cell code too, not only its template:
    the project's BoundRow reads cells by a faster path that must give the same values."""
    for name in ("_get_and_render_with", "_call_render", "_call_value"):
        monkeypatch.setattr(BoundRow, name, getattr(LibraryBoundRow, name))


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "table_class"), LISTS, ids=[u for u, _ in LISTS])
def test_export_values_are_the_librarys(rf, world, monkeypatch, url, table_class):
    """What an export writes (`as_values`: `get_cell_value` per cell) is the library's too."""
    (_small, _ids), (user, _big_ids) = world["staff"]
    records = list(table_class._meta.model._default_manager.all()[:30])
    assert records, f"{url}: no records"
    request = rf.get(url)
    request.user = user

    def values():
        table = table_class(records, request=request)
        return [list(row) for row in table.as_values()]

    ours = values()
    _library_cells(monkeypatch)
    assert ours == values()


@pytest.mark.django_db
def test_empty_list_shows_the_empty_text(client, world):
    (_small, _ids), (user, _big_ids) = world["staff"]
    client.force_login(user)
    html = client.get("/cadres/youths/?q=没有这个名字").content.decode()
    assert _body_rows(html) == [f'<tr><td colspan="8">{YouthTable._meta.empty_text}</td></tr>']


def test_arguments_are_those_of_the_method_whatever_the_instance():
    class A:
        def render(self, value, record):
            return (value, record)

    one, two = A(), A()
    assert _arguments(one.render) == (("value", "record"), None)
    assert _call_with_appropriate(two.render, {"value": 1, "record": 2, "table": 3}) == (1, 2)
    # A missing argument: not called, as django-tables2 does.
    assert _call_with_appropriate(one.render, {"value": 1}) is None
    assert _call_with_appropriate(lambda **kw: sorted(kw), {"b": 1, "a": 2}) == ["a", "b"]


@pytest.mark.django_db
def test_cell_lookup_edges_are_the_librarys(monkeypatch):
    """Past a null relation, a field with choices, a method, a missing attribute, a related
    field with choices: the faster lookup gives what django-tables2's own does."""
    import django_tables2 as tables

    from cadres.models import Cadre
    from config.tables import Table

    class Edges(Table):
        organisation = tables.Column(accessor="organisation__name")
        gender = tables.Column()
        login = tables.Column(accessor="user__username", default="—")
        label = tables.Column(accessor="__str__")
        missing = tables.Column(accessor="no_such_attribute", default="?")
        org_kind = tables.Column(accessor="organisation__kind")

        class Meta:
            model = Cadre
            fields = ()

    from tests.factories import CadreFactory, UserFactory

    # Its own rows (this module's other tests share a module-wide world): with and without a
    # login, so that one path crosses a null relation.
    CadreFactory(user=None)
    CadreFactory(user=UserFactory())
    records = list(Cadre.objects.select_related("organisation", "user").order_by("pk"))
    assert any(r.user_id is None for r in records) and any(r.user_id for r in records)

    def cells():
        table = Edges(records)
        return [[row.get_cell(c.name) for c in table.columns] for row in table.rows]

    ours = cells()
    _library_cells(monkeypatch)
    assert ours == cells()
