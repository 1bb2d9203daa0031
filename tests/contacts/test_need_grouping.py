"""Grouping needs by what they ask (contacts/need_grouping.py, issue 15 item 6): the same
request filed under different categories is one group; different requests of one category are
not; question words alone never make a group."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts.need_grouping import bigrams, similar_groups
from contacts.selectors import need_groups
from tests.factories import NeedFactory

pytestmark = pytest.mark.django_db


def _texts(groups, texts):
    return sorted(sorted(texts[i] for i in ids) for ids, _terms in groups)


def test_the_same_request_worded_differently_is_one_group():
    texts = {
        1: "想了解创业担保贷款怎么申请",
        2: "创业贷款需要什么材料？",
        3: "请问创业贷款额度多少",
        4: "最近有招聘会吗",
        5: "我想找一份工作，有没有招聘会",
    }
    groups = similar_groups(list(texts.items()))
    assert _texts(groups, texts) == [
        sorted([texts[1], texts[2], texts[3]]),
        sorted([texts[4], texts[5]]),
    ]
    assert "贷款" in groups[0][1]  # the label's terms name what is asked


def test_different_requests_of_one_field_stay_apart():
    texts = {1: "最近有招聘会吗", 2: "电商培训在哪里报名", 3: "老板拖欠工资怎么维权"}
    assert similar_groups(list(texts.items())) == []


def test_question_words_alone_make_no_group():
    texts = {1: "请问怎么申请？", 2: "我想了解一下怎么办理", 3: "有没有人可以帮忙"}
    assert similar_groups(list(texts.items())) == []
    assert not {"请问", "怎么", "申请"} & set(bigrams("请问怎么申请"))


def test_a_need_with_no_text_is_never_grouped():
    assert similar_groups([(1, "？？"), (2, "！"), (3, "  ")]) == []


def test_groups_cross_categories_and_stay_in_scope(tree):
    import datetime

    from django.utils import timezone

    a = NeedFactory(organisation=tree.town_a, category="finance", question="创业贷款怎么申请")
    b = NeedFactory(organisation=tree.town_a, category="other", question="想了解创业贷款额度")
    NeedFactory(organisation=tree.town_a, category="finance", question="助学金发放时间")
    NeedFactory(organisation=tree.town_b, category="finance", question="创业贷款利息多少")
    today = timezone.localdate()
    groups = need_groups(user=tree.owner, start=today - datetime.timedelta(days=30), end=today)
    assert [sorted(g["ids"]) for g in groups] == [sorted([a.pk, b.pk])]
    assert set(groups[0]["categories"]) == {"金融贷款", "其他"}


def test_the_groups_page_shows_the_questions_and_costs_two_queries_more_than_an_empty_one(
    client, tree, django_assert_max_num_queries
):
    client.force_login(tree.owner)
    with django_assert_max_num_queries(20) as empty:
        client.get(reverse("contacts:need_groups"))
    for i in range(30):
        NeedFactory(organisation=tree.town_a, question=f"创业贷款怎么申请{i}")
    with django_assert_max_num_queries(len(empty.captured_queries)):
        html = client.get(reverse("contacts:need_groups")).content.decode()
    assert "30 条需求" in html and "创业贷款怎么申请" in html
