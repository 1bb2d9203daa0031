"""The project's apps contributing a module of a known name (`<app>/demo.py`, `<app>/panels.py`):
one loop for every such opt-in, so that the demo seed and the panels find the apps alike."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

from django.conf import settings


def app_modules(name: str) -> Iterator[tuple[str, ModuleType]]:
    """(app, `<app>.<name>` module) for each project app that has one, in INSTALLED_APPS order.

    Dotted entries (django.contrib.*) are not asked; an app without the module is skipped, but an
    ImportError raised inside an existing module is not hidden."""
    for app in settings.INSTALLED_APPS:
        if "." in app:
            continue
        try:
            module = importlib.import_module(f"{app}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.{name}":
                raise
            continue
        yield app, module
