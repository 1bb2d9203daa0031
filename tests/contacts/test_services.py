"""Contact logging, soft deletion and the needs desk: the rules in contacts.services and contacts.need_services."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cadres.models import CadreYouth
from contacts import need_services, services
from contacts.models import Contact, ContactYouth, Need
from tests.factories import CadreFactory, YouthFactory, log_contact

pytestmark = pytest.mark.django_db


def test_log_writes_contact_and_denormalised_youth_rows(tree, own_youths):
    day = timezone.localdate() - datetime.timedelta(days=3)
    contact = log_contact(tree.cadre, own_youths[:3], channel="visit", date=day, by=tree.cadre_user)
    rows = ContactYouth.objects.filter(contact=contact)
    assert rows.count() == 3
    assert {(r.cadre_id, r.date, r.is_offline) for r in rows} == {(tree.cadre.pk, day, True)}
    assert Contact.objects.get(pk=contact.pk).is_offline
    assert contact.history.get().history_user == tree.cadre_user


def test_online_channel_is_not_offline(tree, own_youths):
    contact = log_contact(tree.cadre, own_youths[:1], channel="qq")
    assert not Contact.objects.get(pk=contact.pk).is_offline
    assert not ContactYouth.objects.get(contact=contact).is_offline


def test_future_date_is_refused_in_chinese(tree, own_youths):
    with pytest.raises(ValidationError) as exc:
        log_contact(tree.cadre, own_youths[:1], date=timezone.localdate() + datetime.timedelta(1))
    assert "不能晚于今天" in exc.value.message_dict["date"][0]
    assert not Contact.objects.exists()


def test_no_youth_is_refused(tree):
    with pytest.raises(ValidationError) as exc:
        log_contact(tree.cadre, [])
    assert "至少选择一名青年" in exc.value.message_dict["youths"][0]


def test_youth_of_another_cadre_is_refused(tree, own_youths):
    stranger = YouthFactory(organisation=tree.town_a)
    with pytest.raises(ValidationError) as exc:
        log_contact(tree.cadre, [own_youths[0], stranger])
    assert "不在您的联系名单" in exc.value.message_dict["youths"][0]
    assert not Contact.objects.exists() and not ContactYouth.objects.exists()


def test_link_unlinked_links_a_youth_of_own_subtree_in_the_same_step(tree):
    youth = YouthFactory(organisation=tree.branch_a)
    contact = log_contact(tree.cadre, [youth], link_unlinked=True, by=tree.cadre_user)
    assert CadreYouth.objects.filter(cadre=tree.cadre, youth=youth).exists()
    assert contact.youth_rows.get().youth == youth


def test_link_unlinked_cannot_reach_another_subtree(tree, b_youth):
    with pytest.raises(ValidationError):
        log_contact(tree.cadre, [b_youth], link_unlinked=True)
    assert not CadreYouth.objects.filter(youth=b_youth).exists()


def test_oversized_text_is_refused(tree, own_youths):
    with pytest.raises(ValidationError) as exc:
        log_contact(tree.cadre, own_youths[:1], notes="字" * 5000)
    assert "内容太长" in exc.value.message_dict["notes"][0]


def test_need_raised_creates_a_need_owned_by_the_cadre(tree, own_youths):
    contact = log_contact(
        tree.cadre, own_youths[:1], need_raised="想参加电商培训", need_category="skills"
    )
    need = Need.objects.get(contact=contact)
    assert need.owner_cadre == tree.cadre and need.organisation == tree.town_a
    assert need.youth == own_youths[0] and need.source == Need.Source.LOG
    assert need.category == "skills"
    assert need.due_date == timezone.localdate() + datetime.timedelta(days=7)


def test_soft_delete_keeps_contact_and_history_but_drops_youth_rows(tree, own_youths):
    contact = log_contact(tree.cadre, own_youths[:2])
    services.contact_delete(contact=contact, by=tree.owner)
    contact.refresh_from_db()
    assert contact.is_deleted
    assert not ContactYouth.objects.filter(contact=contact).exists()
    latest = contact.history.order_by("-history_date").first()
    assert latest.is_deleted and latest.history_user == tree.owner
    services.contact_delete(contact=contact, by=tree.owner)  # twice is harmless


def test_need_lifecycle_records_history(tree):
    need = need_services.need_submit_public(
        category="legal", question="工资被拖欠怎么办？", reply_to="13812345678", cadre=tree.cadre
    )
    assert need.owner_cadre == tree.cadre and need.status == Need.Status.NEW
    other = CadreFactory(organisation=tree.town_a)
    need_services.need_assign(need=need, owner_cadre=other, by=tree.owner)
    assert need.status == Need.Status.IN_PROGRESS and need.owner_cadre == other
    need_services.need_answer(need=need, answer="已联系法律援助。", by=tree.owner)
    assert need.status == Need.Status.ANSWERED and need.answered_at
    need_services.need_close(need=need, by=tree.owner)
    statuses = list(need.history.order_by("history_date").values_list("status", flat=True))
    assert statuses == ["new", "in_progress", "answered", "closed"]
    with pytest.raises(ValidationError):
        need_services.need_answer(need=need, answer="再答一次", by=tree.owner)


def test_public_need_without_cadre_goes_to_the_venue_organisation(tree):
    need = need_services.need_submit_public(
        category="other", question="青年之家几点开门？", organisation=tree.banner
    )
    assert need.organisation == tree.banner and need.owner_cadre is None
    with pytest.raises(ValidationError):
        need_services.need_submit_public(category="other", question="  ", organisation=tree.banner)


def test_empty_answer_is_refused(tree):
    need = need_services.need_submit_venue(
        organisation=tree.town_a, category="other", question="问题", by=tree.owner
    )
    assert need.owner_user == tree.owner
    with pytest.raises(ValidationError):
        need_services.need_answer(need=need, answer="   ", by=tree.owner)
