"""The navigation bar: what each role can use.

Each entry names a URL by its name; an entry whose URL does not resolve (an app not installed in
this deployment) is left out rather than shown as a dead link.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

STAFF, CADRE = "staff", "cadre"


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: frozenset[str]
    icon: str = ""


ITEMS: tuple[NavItem, ...] = (
    NavItem(_("首页"), "home", frozenset({STAFF, CADRE})),
    NavItem(_("记联系"), "contacts:quick_log", frozenset({CADRE})),
    NavItem(_("我的青年"), "cadres:my_youths", frozenset({CADRE})),
    NavItem(_("团干部"), "cadres:list", frozenset({STAFF})),
    NavItem(_("青年"), "cadres:youth_list", frozenset({STAFF})),
    NavItem(_("联系记录"), "contacts:list", frozenset({STAFF})),
    NavItem(_("需求"), "contacts:need_list", frozenset({STAFF, CADRE})),
    NavItem(_("活动"), "activities:list", frozenset({STAFF, CADRE})),
    NavItem(_("满意度测评"), "surveys:overview", frozenset({STAFF})),
    NavItem(_("活跃度"), "assessment:dashboard", frozenset({STAFF, CADRE})),
)


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    role = STAFF if user.sees_subtree else CADRE
    items = []
    for item in ITEMS:
        if role not in item.roles:
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        items.append({"label": item.label, "url": url, "active": active})
    return {"nav_items": items}
