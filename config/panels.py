"""Panels: how one app's page shows another app's information without importing its views.

An app opts in with `<app>/panels.py` defining `<kind>_panels(request, *args) -> list[str]` (rendered
HTML fragments). Kinds in use:
- `staff` / `cadre`: the home page of that role (`request` only);
- `youth`: the youth's page (`request, youth`), e.g. the contact timeline, volunteer record;
- `cadre_detail`: a cadre's page (`request, cadre`), e.g. contacts, score.
Apps are asked in INSTALLED_APPS order. The project's home page (config.views.home) calls
`collect(kind, request, *args)`; an app's own page asks in its template, `{% load panels %}`
then `{% panels "youth" youth %}`, so that no app's Python imports this module, which reaches
into every app (the dependency points from the project down to the apps, never back up).
"""

from __future__ import annotations

from django import template
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from config.app_modules import app_modules


def collect(kind: str, request: HttpRequest, *args) -> list[SafeString]:
    fragments: list[SafeString] = []
    for _app, module in app_modules("panels"):
        provider = getattr(module, f"{kind}_panels", None)
        if provider is not None:
            # The fragments are templates rendered with autoescaping, hence safe.
            fragments.extend(mark_safe(html) for html in provider(request, *args))
    return fragments


# Registered as the template library "panels" (TEMPLATES OPTIONS "libraries" in settings).
register = template.Library()


@register.simple_tag(takes_context=True, name="panels")
def panels_tag(context, kind: str, *args) -> SafeString:
    """Every app's panels of `kind` for the page's object(s), in place."""
    return format_html_join(
        "", "{}", ((html,) for html in collect(kind, context["request"], *args))
    )
