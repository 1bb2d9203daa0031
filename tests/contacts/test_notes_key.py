"""The stored note key (contacts/notes_key.py): what padding detection's same_text groups by.
Written by contact_log and contact_update; migration 0008's SQL gives the Python rule's key."""

from __future__ import annotations

import pytest
from django.db import connection

from contacts import services
from contacts.models import Contact
from contacts.notes_key import backfill_params, backfill_sql, notes_key
from tests.factories import CadreYouthFactory, YouthFactory, log_contact


def test_digits_punctuation_and_case_do_not_make_a_new_note():
    a, chars = notes_key("走访青年了解就业情况（第3次）。", [])
    b, _ = notes_key("走访青年 了解就业情况 第12次", [])
    assert a == b and chars == len("走访青年了解就业情况第次")
    assert notes_key("Visit A.", [])[0] == notes_key("visit a", [])[0]


def test_the_contacts_own_youths_names_are_taken_out():
    a, _ = notes_key("与王芳进行了深入交流，了解其思想动态。", ["王芳"])
    b, _ = notes_key("与李明明进行了深入交流，了解其思想动态。", ["李明明", "张"])
    assert a == b
    # A name that is not the contacted youth's is content, and one character is no name.
    assert (
        notes_key("与王芳进行了深入交流。", ["李明"])[0] != notes_key("与进行了深入交流。", [])[0]
    )
    assert notes_key("张家口走访", ["张"])[0] == notes_key("张家口走访", [])[0]


def test_different_notes_and_no_note():
    assert notes_key("聊了近况。", [])[0] != notes_key("聊了工作。", [])[0]
    assert notes_key("", ["王芳"]) == (None, None)


@pytest.mark.django_db
def test_contact_log_and_update_store_the_key_without_the_youths_name(tree, own_youths):
    youth = own_youths[0]
    contact = log_contact(
        tree.cadre, [youth], notes=f"与{youth.name}谈了就业。", by=tree.cadre_user
    )
    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.notes_key, stored.notes_chars) == notes_key("与谈了就业。", [])
    services.contact_update(
        contact=stored,
        youths=[own_youths[1].pk],
        channel="wechat",
        date=stored.date,
        notes=f"与{own_youths[1].name}谈了培训。",
        by=tree.cadre_user,
    )
    stored.refresh_from_db()
    assert (stored.notes_key, stored.notes_chars) == notes_key("与谈了培训。", [])
    services.contact_update(
        contact=stored,
        youths=[own_youths[1].pk],
        channel="wechat",
        date=stored.date,
        notes="",
        by=tree.cadre_user,
    )
    stored.refresh_from_db()
    assert (stored.notes_key, stored.notes_chars) == (None, None)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the backfill SQL is PostgreSQL's")
def test_the_migrations_sql_gives_the_python_key():
    notes = [
        "与{}进行了深入交流，了解其思想动态和工作生活情况。",
        "走访（第3次）：{}家里农忙缺人手!",
        'Tom\'s "note" [a-b] \\ {} 100%',
        "没有提到名字的记录。",
    ]
    names = ["王芳", "欧阳芳芳", "a.b(c)*", "张"]
    expected = {}
    for i, text in enumerate(notes):
        link = CadreYouthFactory(youth=YouthFactory(name=names[i]))
        other = CadreYouthFactory(cadre=link.cadre, youth=YouthFactory(name="王芳芳"))
        note = text.format(names[i]) + "王芳芳"
        contact = log_contact(link.cadre, [link.youth, other.youth], notes=note)
        expected[contact.pk] = notes_key(note, [names[i], "王芳芳"])
    Contact.objects.update(notes_key=None, notes_chars=None)
    with connection.cursor() as cursor:
        cursor.execute(backfill_sql(), backfill_params())
    stored = {
        pk: (k, n) for pk, k, n in Contact.objects.values_list("pk", "notes_key", "notes_chars")
    }
    assert stored == expected
