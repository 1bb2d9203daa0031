"""Scoping has one home (cadres/scoping.py): the source tree holds no other path-prefix filter,
in_subtree narrows without granting, and the one cadre branch serves every app's rule."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.utils import timezone

from activities.selectors import activity_list, youth_scope
from cadres.models import Youth
from cadres.selectors import in_subtree, scope_queryset, youth_list
from tests.factories import ActivityFactory, CadreFactory, CadreYouthFactory, YouthFactory

ROOT = Path(__file__).resolve().parents[2]
SCOPING = Path("cadres/scoping.py")
# A subtree filter written by hand: an ORM prefix lookup on a path.
HAND_WRITTEN = re.compile(r"path__startswith")


def _production_sources() -> list[Path]:
    skip = {".venv", "tests", "migrations", "node_modules", "static", "templates"}
    return [
        p.relative_to(ROOT)
        for p in ROOT.rglob("*.py")
        if not skip.intersection(p.relative_to(ROOT).parts)
    ]


def test_only_the_scoping_module_writes_a_subtree_filter():
    sources = _production_sources()
    assert SCOPING in sources and len(sources) > 50  # the walk really read the apps
    offenders = [
        f"{path}:{number}"
        for path in sources
        if path != SCOPING
        for number, line in enumerate((ROOT / path).read_text().splitlines(), 1)
        if HAND_WRITTEN.search(line)
    ]
    assert offenders == [], "use cadres.selectors.in_subtree / scope_queryset: " + ", ".join(
        offenders
    )


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names.add(base)
            names.update(f"{base}.{alias.name}".replace("..", ".") for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_roster_reader_does_not_import_the_services():
    """The file reader (cadres.roster) imports no service, even inside a function: that was the
    import cycle issue 10 cut. The import itself (cadres.roster_import) sits above both: it reads
    with the reader and links through the services' linking rule."""
    imports = _imports(Path("cadres/roster.py"))
    assert not {m for m in imports if "services" in m or "roster_import" in m}, imports
    above = _imports(Path("cadres/roster_import.py"))
    assert {".roster", ".services"} <= above, above


@pytest.mark.django_db
def test_in_subtree_narrows_a_scoped_list_and_grants_nothing(tree):
    in_a = YouthFactory(organisation=tree.branch_a)
    in_b = YouthFactory(organisation=tree.town_b)
    county = scope_queryset(Youth.objects.all(), user=tree.county)
    assert set(in_subtree(county, organisation=tree.town_a)) == {in_a}
    assert set(in_subtree(county, organisation=tree.banner)) == {in_a, in_b}
    # Township B's staff asking for township A get nothing: the scope comes first.
    outsider = scope_queryset(Youth.objects.all(), user=tree.outsider)
    assert not in_subtree(outsider, organisation=tree.town_a).exists()


@pytest.mark.django_db
def test_a_cadre_sees_the_youths_they_hold_in_every_app(tree):
    held = CadreYouthFactory(cadre=tree.cadre).youth
    colleague = CadreFactory(organisation=tree.town_a)
    not_held = CadreYouthFactory(cadre=colleague, youth=YouthFactory(organisation=tree.town_a))
    assert list(youth_list(user=tree.cadre_user)) == [held]
    assert list(youth_scope(tree.cadre_user)) == [held]
    assert not_held.youth in set(youth_list(user=tree.owner))
    assert not youth_list(user=tree.outsider).filter(pk=held.pk).exists()


@pytest.mark.django_db
def test_a_cadre_sees_activities_of_own_organisation_or_responsible_for(tree):
    own_org = ActivityFactory(organisation=tree.town_a)
    responsible = ActivityFactory(organisation=tree.town_b)
    responsible.responsible_cadres.add(tree.cadre)
    other = ActivityFactory(organisation=tree.town_b, starts_at=timezone.now())
    visible = set(activity_list(user=tree.cadre_user))
    assert {own_org, responsible} <= visible and other not in visible
    assert len(activity_list(user=tree.cadre_user)) == 2  # no duplicate rows from the join
    assert other in set(activity_list(user=tree.outsider))
