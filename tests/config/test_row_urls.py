"""`{% row_url %}` writes what `{% url %}` writes, with the route reversed once per process."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, get_script_prefix, reverse, set_script_prefix

from config.row_urls import row_url

ROUTES = ["assessment:cadre_score", "assessment:case_open", "assessment:case", "cadres:detail"]


@pytest.mark.parametrize("name", ROUTES)
@pytest.mark.parametrize("pk", [1, 7, 10, 70, 987654321, 10**12])
def test_same_url_as_reverse(name, pk):
    assert row_url(name, pk) == reverse(name, args=[pk])


def test_a_script_prefix_is_kept_as_reverse_keeps_it():
    before = get_script_prefix()
    try:
        set_script_prefix("/lq/")
        assert row_url("assessment:case", 12) == reverse("assessment:case", args=[12])
        assert row_url("assessment:case", 12).startswith("/lq/")
    finally:
        set_script_prefix(before)
    assert row_url("assessment:case", 12) == "/assessment/cases/12/"


def test_the_tag_renders_as_the_url_tag_and_fails_as_it_does():
    tags = Template(
        "{% load row_urls %}{% row_url 'assessment:cadre_score' f.cadre_id %}|"
        "{% url 'assessment:cadre_score' f.cadre_id %}"
    ).render(Context({"f": {"cadre_id": 42}}))
    mine, django = tags.split("|")
    assert mine == django == "/assessment/cadres/42/"
    with pytest.raises(NoReverseMatch):
        row_url("assessment:dashboard", 1)  # a route without an argument
