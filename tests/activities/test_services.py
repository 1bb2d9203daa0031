"""Registration, check-in and the derived-contact rule, through activities.services."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from activities import selectors, services
from activities.models import Activity, Registration, VolunteerHours
from contacts.models import Contact, ContactYouth
from tests.factories import (
    ActivityFactory,
    CadreFactory,
    CadreYouthFactory,
    RegistrationFactory,
    SectorFactory,
    YouthFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def activity(tree):
    a = ActivityFactory(organisation=tree.town_a)
    a.responsible_cadres.add(tree.cadre)
    return a


def _pairs(activity):
    return set(
        ContactYouth.objects.filter(contact__activity=activity).values_list("cadre_id", "youth_id")
    )


def test_checkin_derives_contact_for_linked_and_responsible_cadres(tree, activity):
    link = CadreYouthFactory(cadre__organisation=tree.town_b)  # another cadre holds the youth
    reg = RegistrationFactory(activity=activity, youth=link.youth)
    services.checkin(registration=reg, by=tree.owner)
    assert _pairs(activity) == {(link.cadre_id, link.youth_id), (tree.cadre.pk, link.youth_id)}
    contact = Contact.objects.get(activity=activity, cadre=link.cadre)
    assert contact.channel == "activity"
    assert contact.date == timezone.localdate(activity.starts_at)
    assert ContactYouth.objects.get(contact=contact).is_offline


def test_undo_checkin_removes_derived_contacts(tree, activity):
    link = CadreYouthFactory(cadre=tree.cadre)
    other = RegistrationFactory(activity=activity)
    reg = RegistrationFactory(activity=activity, youth=link.youth)
    services.checkin(registration=reg, by=tree.owner)
    services.checkin(registration=other, by=tree.owner)
    assert _pairs(activity) == {(tree.cadre.pk, link.youth_id), (tree.cadre.pk, other.youth_id)}
    services.checkin_undo(registration=reg, by=tree.owner)
    assert _pairs(activity) == {(tree.cadre.pk, other.youth_id)}
    services.registration_remove(registration=Registration.objects.get(pk=other.pk), by=tree.owner)
    assert not Contact.objects.filter(activity=activity).exists()


def test_changing_responsible_cadres_rederives(tree, activity):
    reg = RegistrationFactory(activity=activity)
    services.checkin(registration=reg, by=tree.owner)
    newcomer = CadreFactory(organisation=tree.town_a)
    services.activity_update(activity=activity, by=tree.owner, responsible_cadres=[newcomer])
    assert _pairs(activity) == {(newcomer.pk, reg.youth_id)}


def test_attendance_pairs_is_one_query(tree, activity, django_assert_num_queries):
    for _ in range(3):
        link = CadreYouthFactory(cadre__organisation=tree.town_a)
        RegistrationFactory(activity=activity, youth=link.youth, checked_in_at=timezone.now())
    with django_assert_num_queries(1):
        pairs = set(selectors.attendance_pairs(activity))
    assert len(pairs) == 6


def test_double_checkin_is_refused_and_not_duplicated(tree, activity):
    reg = RegistrationFactory(activity=activity)
    services.checkin(registration=reg, by=tree.owner)
    with pytest.raises(ValidationError, match="已经签到过了"):
        services.checkin(registration=reg, by=tree.owner)
    assert ContactYouth.objects.filter(youth=reg.youth).count() == 1


@pytest.mark.parametrize(
    "status,starts_in,message",
    [
        (Activity.Status.CANCELLED, datetime.timedelta(hours=-1), "活动已取消"),
        (Activity.Status.OPEN, datetime.timedelta(days=3), "活动尚未开始"),
    ],
)
def test_checkin_refused_for_cancelled_or_future(tree, status, starts_in, message):
    start = timezone.now() + starts_in
    activity = ActivityFactory(
        organisation=tree.town_a,
        status=status,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
    )
    reg = RegistrationFactory(activity=activity)
    with pytest.raises(ValidationError, match=message):
        services.checkin(registration=reg, by=tree.owner)
    reg.refresh_from_db()
    assert reg.checked_in_at is None


def test_over_capacity_registration_is_refused_whole(tree):
    activity = ActivityFactory(organisation=tree.town_a, capacity=2)
    youths = YouthFactory.create_batch(3, organisation=tree.town_a)
    with pytest.raises(ValidationError, match="报名人数已满"):
        services.registrations_add(activity=activity, youths=youths, by=tree.owner)
    assert not activity.registrations.exists()
    services.registrations_add(activity=activity, youths=youths[:2], by=tree.owner)
    # registering the same youths again is harmless: nothing duplicated, no capacity used
    assert services.registrations_add(activity=activity, youths=youths[:2], by=tree.owner) == []
    assert activity.registrations.count() == 2


@pytest.mark.parametrize(
    "hours,message", [("-1", "不能为负数"), ("2.5", "不能超过活动时长"), ("abc", "请填写数字")]
)
def test_bad_hours_are_refused(tree, activity, hours, message):
    reg = RegistrationFactory(activity=activity, checked_in_at=timezone.now())
    with pytest.raises(ValidationError, match=message):
        services.checkout(registration=reg, by=tree.owner, hours=hours)
    reg.refresh_from_db()
    assert reg.hours is None


def test_checkout_without_hours_caps_at_activity_length(tree, activity):
    reg = RegistrationFactory(activity=activity, checked_in_at=activity.starts_at)
    services.checkout(
        registration=reg, by=tree.owner, now=activity.ends_at + datetime.timedelta(hours=5)
    )
    reg.refresh_from_db()
    assert reg.hours == Decimal("2.0")


def test_database_refuses_negative_hours_and_duplicate_registration(tree, activity):
    reg = RegistrationFactory(activity=activity)
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.filter(pk=reg.pk).update(hours=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Registration.objects.create(activity=activity, youth=reg.youth, source="staff")


def test_public_registration_matches_known_youth_or_waits_for_confirmation(tree, activity):
    known = YouthFactory(organisation=tree.town_a, phone="13912345678")
    r1 = services.registration_public(activity=activity, name="随便", phone="139 1234 5678")
    assert r1.youth == known
    r2 = services.registration_public(activity=activity, name="新青年", phone="13700000001")
    assert r2.youth is None and r2.name == "新青年"
    again = services.registration_public(activity=activity, name="新青年", phone="13700000001")
    assert again.pk == r2.pk
    # checked in by code before being confirmed: no contact yet; confirmation derives it
    services.checkin_by_code(activity=activity, phone="13700000001")
    assert not ContactYouth.objects.filter(contact__activity=activity).exists()
    confirmed = services.registration_confirm(
        registration=r2,
        by=tree.owner,
        birth_year=2000,
        sector=SectorFactory(),
        organisation=tree.town_a,
    )
    assert confirmed.youth.phone == "13700000001"
    assert _pairs(activity) == {(tree.cadre.pk, confirmed.youth_id)}


def test_checkin_by_code_unknown_phone_needs_a_name(tree, activity):
    with pytest.raises(ValidationError) as info:
        services.checkin_by_code(activity=activity, phone="13700000009")
    assert info.value.code == "need_name"
    reg = services.checkin_by_code(activity=activity, phone="13700000009", name="路人")
    assert reg.source == "walk_in" and reg.checked_in_at
    with pytest.raises(ValidationError, match="已经签到过了"):
        services.checkin_by_code(activity=activity, phone="13700000009")


def test_checkin_code_closes_after_the_event(tree):
    start = timezone.now() - datetime.timedelta(days=2)
    activity = ActivityFactory(
        organisation=tree.town_a, starts_at=start, ends_at=start + datetime.timedelta(hours=2)
    )
    RegistrationFactory(activity=activity, youth__phone="13600000000")
    with pytest.raises(ValidationError, match="扫码签到已关闭"):
        services.checkin_by_code(activity=activity, phone="13600000000")


def test_from_needs_links_needs_and_invites_askers(tree):
    from contacts.models import Need

    youth = YouthFactory(organisation=tree.town_a)
    needs = [
        Need.objects.create(
            organisation=tree.town_a,
            source="venue",
            category="finance",
            question="怎么申请创业贷款？",
            youth=youth,
            due_date=timezone.localdate(),
        ),
        Need.objects.create(
            organisation=tree.town_a,
            source="public",
            category="finance",
            question="贷款利率多少？",
            asker_name="匿名",
            due_date=timezone.localdate(),
        ),
    ]
    start = timezone.now() + datetime.timedelta(days=7)
    activity = services.activity_from_needs(
        needs=needs,
        invite=True,
        by=tree.owner,
        title="金融知识培训",
        category="training",
        organisation=tree.town_a,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
        status="open",
    )
    assert set(Need.objects.filter(activity=activity).values_list("pk", flat=True)) == {
        n.pk for n in needs
    }
    assert list(activity.registrations.values_list("youth_id", "source")) == [(youth.pk, "needs")]


def test_activity_totals(tree, activity):
    outside = ActivityFactory(organisation=tree.town_b)
    y = YouthFactory(organisation=tree.town_a)
    RegistrationFactory(activity=activity, youth=y, checked_in_at=timezone.now(), hours=2)
    RegistrationFactory(activity=activity, checked_in_at=timezone.now(), hours=1)
    RegistrationFactory(activity=activity)  # registered, not attended
    RegistrationFactory(activity=outside, youth=y, checked_in_at=timezone.now(), hours=2)
    VolunteerHours.objects.create(
        youth=y,
        organisation=tree.branch_a,
        date=timezone.localdate(),
        hours=Decimal("1.5"),
        description="社区服务",
        status="approved",
    )
    today = timezone.localdate()
    totals = selectors.activity_totals(
        user=tree.county,
        organisation=tree.town_a,
        start=today - datetime.timedelta(days=1),
        end=today,
    )
    assert totals == {
        "activities": 1,
        "participants": 2,
        "attendances": 2,
        "volunteer_hours": Decimal("4.5"),
    }
    # The same window as above: the factory's activities started an hour ago, which between
    # midnight and one o'clock is yesterday (failed in CI at 00:05 Beijing time).
    banner = selectors.activity_totals(
        user=tree.county,
        organisation=tree.banner,
        start=today - datetime.timedelta(days=1),
        end=today,
    )
    assert banner["activities"] == 2
    # Scoped by the user, whatever organisation is asked: township B's staff see none of A's.
    other = selectors.activity_totals(
        user=tree.outsider, organisation=tree.town_a, start=today, end=today
    )
    assert other == {
        "activities": 0,
        "participants": 0,
        "attendances": 0,
        "volunteer_hours": Decimal("0"),
    }


def test_checking_in_200_one_after_another_stays_a_handful_of_queries(
    tree, activity, django_assert_max_num_queries
):
    regs = RegistrationFactory.create_batch(200, activity=activity)
    for reg in regs[:: len(regs) // 10]:
        CadreYouthFactory(youth=reg.youth, cadre__organisation=tree.town_a)
    for reg in regs:
        with django_assert_max_num_queries(15):
            services.checkin(registration=reg, by=tree.owner)
    assert ContactYouth.objects.filter(contact__activity=activity).count() == 200 + 10


def test_a_lecture_from_needs_is_run_by_the_cadres_who_own_them(tree):
    """Issue 15 item 6: the lecture made from a group of needs one cadre owned had no
    responsible cadre; now the owners run it unless others were chosen."""
    from tests.factories import CadreFactory, NeedFactory

    other = CadreFactory(organisation=tree.town_a)
    needs = [
        NeedFactory(organisation=tree.town_a, owner_cadre=tree.cadre, category="finance"),
        NeedFactory(organisation=tree.town_a, owner_cadre=tree.cadre, category="other"),
        NeedFactory(organisation=tree.town_a, owner_cadre=other, category="finance"),
        NeedFactory(organisation=tree.town_a, category="finance"),  # the desk's, no cadre
    ]
    start = timezone.now() + datetime.timedelta(days=7)
    fields = {
        "title": "创业贷款讲座",
        "category": "training",
        "organisation": tree.town_a,
        "starts_at": start,
        "ends_at": start + datetime.timedelta(hours=2),
        "status": "open",
    }
    activity = services.activity_from_needs(needs=needs, invite=False, by=tree.owner, **fields)
    assert set(activity.responsible_cadres.all()) == {tree.cadre, other}
    chosen = services.activity_from_needs(
        needs=needs[:1], invite=False, by=tree.owner, responsible_cadres=[other], **fields
    )
    assert list(chosen.responsible_cadres.all()) == [other]


def test_the_from_needs_form_proposes_the_owners(client, tree):
    from tests.factories import NeedFactory

    needs = [NeedFactory(organisation=tree.town_a, owner_cadre=tree.cadre) for _ in range(2)]
    client.force_login(tree.owner)
    response = client.get(
        "/activities/new/from-needs/", {"needs": ",".join(str(n.pk) for n in needs)}
    )
    assert response.status_code == 200
    assert response.context["form"].initial["responsible_cadres"] == [tree.cadre.pk]
