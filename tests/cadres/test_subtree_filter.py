"""The organisation filter every list uses: scoped, short, drillable, and still exact."""

from __future__ import annotations

import re

import pytest

from tests.factories import CadreFactory

pytestmark = pytest.mark.django_db

# The lists (SubtreeFilter) and the assessment pages (ScopeForm) share the drill-down field;
# the assessment pages once rendered every organisation in scope (2,514 at province scale).
PAGES = [
    "/cadres/",
    "/contacts/",
    "/activities/",
    "/assessment/",
    "/assessment/bulletin/",
    "/assessment/scores/",
    "/assessment/flags/",
]


def _options(html: str) -> list[str]:
    select = re.search(r'<select name="organisation".*?</select>', html, re.S).group(0)
    return [o.strip("\u3000 ") for o in re.findall(r"<option[^>]*>([^<]*)</option>", select)]


@pytest.mark.parametrize("url", PAGES)
def test_dropdown_shows_one_level_below_the_users_organisation(client, tree, url):
    client.force_login(tree.county)
    options = _options(client.get(url).content.decode())
    assert {"测试旗团委", "甲镇团委", "乙镇团委"} <= set(options)
    assert "甲镇第一团支部" not in options  # two levels down: reached by drilling
    assert "测试市团委" not in options  # above the user's scope


@pytest.mark.parametrize("url", PAGES)
def test_selecting_an_organisation_opens_its_children(client, tree, url):
    client.force_login(tree.county)
    options = _options(client.get(url, {"organisation": tree.town_a.pk}).content.decode())
    assert "甲镇第一团支部" in options


def test_a_deep_organisation_still_filters_exactly(client, tree):
    inside = CadreFactory(name="支部干部", organisation=tree.branch_a)
    CadreFactory(name="乙镇干部", organisation=tree.town_b)
    client.force_login(tree.county)
    response = client.get("/cadres/", {"organisation": tree.branch_a.pk})
    html = response.content.decode()
    assert inside.name in html and "乙镇干部" not in html
    assert "甲镇第一团支部" in _options(html)


def test_outsider_cannot_filter_by_another_subtree(client, tree):
    CadreFactory(name="甲镇某干部", organisation=tree.town_a)
    client.force_login(tree.outsider)
    html = client.get("/cadres/", {"organisation": tree.town_a.pk}).content.decode()
    assert "甲镇某干部" not in html
    assert "甲镇团委" not in _options(html)
