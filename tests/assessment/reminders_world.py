"""One of every reminder in township A (and a need in township B), for the reminder tests."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from activities.models import Activity
from assessment.models import CaseStep, SupervisionCase
from cadres.models import LiaisonChannel
from contacts.models import Need
from tests.factories import (
    ActivityFactory,
    CadreYouthFactory,
    LiaisonChannelFactory,
    NeedFactory,
    YouthFactory,
    log_contact,
    recount_once,
)


@dataclass
class World:
    today: datetime.date
    need_overdue: Need  # owned by the cadre, due yesterday
    need_soon: Need  # owned by township A's staff member, due in two days
    need_unowned: Need  # township A, nobody owns it, due today: A's staff
    need_b: Need  # township B, nobody owns it, overdue: B's staff only
    need_far: Need  # due in five days: no reminder yet
    need_answered: Need  # overdue but answered: no reminder
    case: SupervisionCase
    step: CaseStep
    activity: Activity
    dormant_names: list[str]


def build_world(tree) -> World:
    today = timezone.localdate()
    day = datetime.timedelta(days=1)
    need = NeedFactory
    world_needs = {
        "need_overdue": need(
            organisation=tree.town_a,
            owner_cadre=tree.cadre,
            due_date=today - day,
            question="想了解创业担保贷款怎么申请",
        ),
        "need_soon": need(
            organisation=tree.town_a,
            owner_user=tree.owner,
            due_date=today + 2 * day,
            question="希望组织一次技能培训",
        ),
        "need_unowned": need(
            organisation=tree.town_a, due_date=today, question="村里青年想办篮球赛"
        ),
        "need_b": need(
            organisation=tree.town_b, due_date=today - 3 * day, question="乙镇的就业咨询"
        ),
        "need_far": need(
            organisation=tree.town_a,
            owner_cadre=tree.cadre,
            due_date=today + 5 * day,
            question="下个月的读书会",
        ),
        "need_answered": need(
            organisation=tree.town_a,
            owner_cadre=tree.cadre,
            due_date=today - 2 * day,
            status=Need.Status.ANSWERED,
            question="已经答复的问题",
        ),
    }
    case = SupervisionCase.objects.create(
        cadre=tree.cadre, organisation=tree.town_a, opened_by=tree.county
    )
    step = CaseStep.objects.create(
        case=case,
        kind=CaseStep.Kind.REMINDER,
        date=today - 20 * day,
        conducted_by="旗团委",
        notes="联系人数不足",
        agreed_actions="每周走访两次",
        follow_up_on=today + day,
        recorded_by=tree.owner,
    )
    # Seven youths never contacted (the top five are reminded), one contacted today (awake).
    names = [f"沉默青年{i}" for i in range(7)]
    with recount_once():
        for name in names:
            CadreYouthFactory(
                cadre=tree.cadre, youth=YouthFactory(name=name, organisation=tree.town_a)
            )
    awake = CadreYouthFactory(
        cadre=tree.cadre, youth=YouthFactory(name="刚联系的青年", organisation=tree.town_a)
    )
    log_contact(tree.cadre, [awake.youth], by=tree.cadre_user)
    tomorrow_9 = timezone.make_aware(datetime.datetime.combine(today + day, datetime.time(9, 30)))
    activity = ActivityFactory(
        organisation=tree.town_a,
        title="青年就业政策宣讲",
        place="镇文化站",
        starts_at=tomorrow_9,
        ends_at=tomorrow_9 + datetime.timedelta(hours=2),
    )
    activity.responsible_cadres.add(tree.cadre)
    cancelled = ActivityFactory(
        organisation=tree.town_a,
        title="取消了的活动",
        starts_at=tomorrow_9,
        ends_at=tomorrow_9 + datetime.timedelta(hours=1),
        status=Activity.Status.CANCELLED,
    )
    cancelled.responsible_cadres.add(tree.cadre)
    later = ActivityFactory(
        organisation=tree.town_a,
        title="后天的活动",
        starts_at=tomorrow_9 + day,
        ends_at=tomorrow_9 + day + datetime.timedelta(hours=1),
    )
    later.responsible_cadres.add(tree.cadre)
    LiaisonChannelFactory(
        cadre=tree.cadre, kind=LiaisonChannel.Kind.YOUTH_HOME, name="甲镇青年之家"
    )
    return World(
        today=today,
        case=case,
        step=step,
        activity=activity,
        dormant_names=sorted(names)[:5],
        **world_needs,
    )
