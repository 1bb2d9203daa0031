"""Shared plumbing stays where it lives: apps import it from its module, never from a sibling
app's views or tables, and no app's Python imports config.panels (which imports every app)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# The project's own apps (folders of the repository), not third-party ones such as axes.
APPS = [app for app in settings.INSTALLED_APPS if (ROOT / app / "apps.py").exists()]


def _imports(path: Path) -> set[str]:
    """Every module a file imports, as dotted names (`from a import b` gives a and a.b)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _app_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield app, path


@pytest.mark.parametrize(("app", "path"), list(_app_modules()), ids=str)
def test_no_app_imports_panels_or_sibling_views_and_tables(app, path):
    imported = _imports(path)
    assert "config.panels" not in imported
    others = [a for a in APPS if a != app]
    assert not {f"{other}.{part}" for other in others for part in ("views", "tables")} & imported


def test_the_apps_were_found():
    assert set(APPS) == {"cadres", "contacts", "surveys", "activities", "assessment"}
    assert len(list(_app_modules())) > 50
