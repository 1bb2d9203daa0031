"""The searchable picker (config/pickers.py, issue 15 item 4): suggestions from the user's
scope only, with what tells namesakes apart; the form field accepts a typed name (no script),
offers namesakes, and never accepts a row outside the field's scoped queryset."""

from __future__ import annotations

import pytest
from django import forms
from django.http import QueryDict

from cadres.selectors import cadre_list, youth_scope
from config.pickers import MultiPickerField, PickerField
from tests.factories import CadreFactory, CadreYouthFactory, YouthFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def namesakes(tree):
    """Three 乌兰 in township A (two of them held by the cadre), one in township B."""
    a1 = YouthFactory(name="乌兰", birth_year=1998, unit="职教中心", organisation=tree.town_a)
    a2 = YouthFactory(name="乌兰", birth_year=2001, unit="牧场", organisation=tree.branch_a)
    a3 = YouthFactory(name="乌兰", birth_year=1995, unit="", organisation=tree.town_a)
    b = YouthFactory(name="乌兰", birth_year=1999, unit="外镇中学", organisation=tree.town_b)
    CadreYouthFactory(cadre=tree.cadre, youth=a1)
    CadreYouthFactory(cadre=tree.cadre, youth=a2)
    return a1, a2, a3, b


def _search(client, kind, q):
    response = client.get(f"/pickers/{kind}/", {"q": q})
    assert response.status_code == 200
    return response.json()["results"]


class TestEndpoint:
    def test_staff_sees_their_subtrees_namesakes_with_details(self, client, tree, namesakes):
        client.force_login(tree.owner)
        labels = [r["label"] for r in _search(client, "youth", "乌")]
        assert labels == [
            "乌兰 · 1995 · — · 甲镇团委",
            "乌兰 · 1998 · 职教中心 · 甲镇团委",
            "乌兰 · 2001 · 牧场 · 甲镇第一团支部",
        ]

    def test_outsider_is_never_offered_another_subtree(self, client, tree, namesakes):
        client.force_login(tree.outsider)
        assert [r["label"] for r in _search(client, "youth", "乌兰")] == [
            "乌兰 · 1999 · 外镇中学 · 乙镇团委"
        ]
        assert _search(client, "cadre", "甲镇") == []
        assert _search(client, "organisation", "甲镇") == []

    def test_a_cadre_is_offered_only_the_youths_they_hold(self, client, tree, namesakes):
        client.force_login(tree.cadre_user)
        assert {r["id"] for r in _search(client, "youth", "乌兰")} == {
            namesakes[0].pk,
            namesakes[1].pk,
        }

    def test_cadre_namesakes_show_type_and_organisation(self, client, tree):
        CadreFactory(name="托雅", organisation=tree.town_a, cadre_type="full_time", position="")
        CadreFactory(
            name="托雅", organisation=tree.branch_a, cadre_type="part_time", position="书记"
        )
        client.force_login(tree.county)
        assert [r["label"] for r in _search(client, "cadre", "托雅")] == [
            "托雅 · 专职 · 甲镇团委",
            "托雅 · 兼职书记 · 甲镇第一团支部",
        ]

    def test_a_phone_finds_the_youth(self, client, tree):
        YouthFactory(name="巴特尔", phone="13900000007", organisation=tree.town_a)
        client.force_login(tree.owner)
        assert [r["name"] for r in _search(client, "youth", "139 0000 0007")] == ["巴特尔"]

    def test_hostile_queries_and_unknown_kinds(self, client, tree, namesakes):
        client.force_login(tree.owner)
        assert _search(client, "youth", "") == []
        assert _search(client, "youth", "\x00乌") == _search(client, "youth", "乌")
        assert _search(client, "youth", "乌" * 500) == []
        assert client.get("/pickers/secret/", {"q": "a"}).status_code == 404

    def test_anonymous_is_sent_to_login(self, client, namesakes):
        assert client.get("/pickers/youth/", {"q": "乌"}).status_code == 302

    def test_queries_are_bounded_whatever_the_matches(
        self, client, tree, django_assert_max_num_queries
    ):
        for n in range(40):
            YouthFactory(name=f"乌兰{n}", organisation=tree.town_a)
        client.force_login(tree.owner)
        with django_assert_max_num_queries(4):
            results = _search(client, "youth", "乌兰")
        assert len(results) == 10


class _OneForm(forms.Form):
    youth = PickerField(kind="youth", label="青年")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["youth"].queryset = youth_scope(user=user)


class _ManyForm(forms.Form):
    cadres = MultiPickerField(kind="cadre", label="团干部", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cadres"].queryset = cadre_list(user=user)


def _post(**data) -> QueryDict:
    q = QueryDict(mutable=True)
    for key, value in data.items():
        q.setlist(key, value if isinstance(value, list) else [value])
    return q


class TestField:
    def test_a_unique_typed_name_is_accepted_without_script(self, tree):
        only = YouthFactory(name="巴特尔", organisation=tree.town_a)
        form = _OneForm(_post(youth="巴特尔"), user=tree.owner)
        assert form.is_valid() and form.cleaned_data["youth"] == only

    def test_namesakes_are_offered_with_details_and_nothing_is_guessed(self, tree, namesakes):
        form = _OneForm(_post(youth="乌兰"), user=tree.owner)
        assert not form.is_valid()
        assert "有 3 个“乌兰”" in form.errors["youth"][0]
        html = str(form["youth"])
        assert "乌兰 · 2001 · 牧场 · 甲镇第一团支部" in html and "外镇中学" not in html
        assert html.count('type="radio" name="youth__pk"') == 3
        chosen = _OneForm(_post(youth="乌兰", youth__pk=str(namesakes[1].pk)), user=tree.owner)
        assert chosen.is_valid() and chosen.cleaned_data["youth"] == namesakes[1]

    def test_a_chosen_label_is_accepted(self, tree, namesakes):
        form = _OneForm(_post(youth="乌兰 · 1995 · — · 甲镇团委"), user=tree.owner)
        assert form.is_valid() and form.cleaned_data["youth"] == namesakes[2]

    def test_an_id_outside_scope_is_refused_like_any_wrong_choice(self, tree, namesakes):
        for pk in (str(namesakes[3].pk), "999999", "1 OR 1=1", "9" * 40):
            form = _OneForm(_post(youth="乌兰", youth__pk=pk), user=tree.owner)
            assert not form.is_valid(), pk
            assert "外镇中学" not in str(form["youth"])

    def test_an_unknown_name_is_a_clear_error_and_the_text_is_kept(self, tree, namesakes):
        form = _OneForm(_post(youth="不存在"), user=tree.owner)
        assert not form.is_valid()
        assert "没有找到名为“不存在”的青年" in form.errors["youth"][0]
        assert 'value="不存在"' in str(form["youth"])

    def test_no_field_asks_for_an_id(self, tree):
        html = str(_OneForm(user=tree.owner)["youth"])
        assert 'type="text" name="youth"' in html and 'type="hidden" name="youth__pk"' in html
        assert "编号" not in html

    def test_initial_row_shows_as_its_label(self, tree, namesakes):
        form = _OneForm(initial={"youth": namesakes[0].pk}, user=tree.owner)
        assert 'value="乌兰 · 1998 · 职教中心 · 甲镇团委"' in str(form["youth"])

    def test_several_chosen_plus_one_typed(self, tree):
        a = CadreFactory(name="托雅", organisation=tree.town_a)
        b = CadreFactory(name="其其格", organisation=tree.branch_a)
        far = CadreFactory(name="苏和", organisation=tree.town_b)
        form = _ManyForm(_post(cadres="其其格", cadres__pk=[str(a.pk)]), user=tree.owner)
        assert form.is_valid()
        assert set(form.cleaned_data["cadres"]) == {a, b}
        html = str(form["cadres"])
        assert html.count("checked") == 2
        refused = _ManyForm(_post(cadres="", cadres__pk=[str(a.pk), str(far.pk)]), user=tree.owner)
        assert not refused.is_valid()
        assert "不在你的范围内" in refused.errors["cadres"][0]
