"""Annual work plans (issue 15 item 1): scoping, the activity link rule, completion figures,
the committee's overview and date, history; pages with outsiders and query counts."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity, PlanItem, WorkPlan
from activities.plans import plan_completion, plan_overview
from cadres.selectors import cadre_progress_list
from cadres.services import cadre_progress_refresh
from tests.factories import (
    ActivityFactory,
    CadreFactory,
    CadreYouthFactory,
    QuotaRuleFactory,
    RegistrationFactory,
    YouthFactory,
)

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year
TZ = timezone.get_current_timezone()


def _at(month: int, day: int = 10, year: int = YEAR) -> datetime.datetime:
    return datetime.datetime(year, month, day, 9, tzinfo=TZ)


def _plan(org, by, **kw) -> WorkPlan:
    return services.plan_create(organisation=org, year=kw.pop("year", YEAR), by=by, **kw)


def _item(plan, by, **kw) -> PlanItem:
    fields = {
        "goal": "开展理论学习",
        "category": "theory",
        "quarter": 1,
        "measure": PlanItem.Measure.ACTIVITIES,
        "target": 2,
        "unit": "次线下活动",
    }
    return services.plan_item_save(plan=plan, by=by, **(fields | kw))


def _held(org, item, month: int, **kw) -> Activity:
    start = _at(month)
    return ActivityFactory(
        organisation=org,
        plan_item=item,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
        status=kw.pop("status", Activity.Status.DONE),
        **kw,
    )


def _town_a_study(tree, item):
    """Township A's study session (甲镇学习会) on day 2, one hour, carrying out `item`."""
    return services.activity_create(
        by=tree.owner,
        title="甲镇学习会",
        category="theory",
        organisation=tree.town_a,
        starts_at=_at(2),
        ends_at=_at(2) + datetime.timedelta(hours=1),
        plan_item=item,
    )


class TestRules:
    def test_an_item_of_another_organisations_plan_is_refused(self, tree):
        item = _item(_plan(tree.town_b, tree.county), tree.county)
        with pytest.raises(ValidationError) as exc:
            _town_a_study(tree, item)
        assert "乙镇团委" in exc.value.message_dict["plan_item"][0]
        assert not Activity.objects.filter(title="甲镇学习会").exists()

    def test_an_item_of_another_year_is_refused_also_on_edit(self, tree):
        item = _item(_plan(tree.town_a, tree.owner), tree.owner)
        activity = _town_a_study(tree, item)
        with pytest.raises(ValidationError) as exc:
            services.activity_update(
                activity=activity,
                by=tree.owner,
                starts_at=_at(2, year=YEAR + 1),
                ends_at=_at(2, year=YEAR + 1) + datetime.timedelta(hours=1),
            )
        assert f"{YEAR} 年的计划" in exc.value.message_dict["plan_item"][0]
        activity.refresh_from_db()
        assert activity.starts_at == _at(2)

    def test_outsider_cannot_write_and_cadres_outside_the_subtree_are_refused(self, tree):
        plan = _plan(tree.town_a, tree.owner)
        with pytest.raises(PermissionDenied):
            _item(plan, tree.outsider)
        with pytest.raises(PermissionDenied):
            _plan(tree.town_a, tree.outsider, year=YEAR + 1)
        stranger = CadreFactory(organisation=tree.town_b)
        with pytest.raises(ValidationError, match="负责团干部须是本组织或下级组织的团干部"):
            _item(plan, tree.owner, responsible_cadres=[stranger])
        assert not plan.items.exists()

    def test_one_plan_per_organisation_and_year(self, tree):
        _plan(tree.town_a, tree.owner)
        with pytest.raises(ValidationError, match="工作计划已经存在"):
            _plan(tree.town_a, tree.county)

    def test_quota_target_is_a_percentage_and_submit_needs_an_item(self, tree):
        plan = _plan(tree.town_a, tree.owner)
        with pytest.raises(ValidationError, match="计划至少要有一项工作才能提交"):
            services.plan_submit(plan=plan, by=tree.owner)
        with pytest.raises(ValidationError, match="达标率目标不能超过 100%"):
            _item(plan, tree.owner, measure=PlanItem.Measure.QUOTA, target=120)

    def test_history_keeps_every_change(self, tree):
        plan = _plan(tree.town_a, tree.owner)
        item = _item(plan, tree.owner)
        services.plan_item_save(plan=plan, by=tree.owner, item=item, target=4)
        services.plan_submit(plan=plan, by=tree.owner)
        assert [h.target for h in item.history.order_by("history_date")] == [2, 4]
        assert plan.history.count() == 2


class TestCompletion:
    def test_activities_participants_manual_and_quota(self, tree):
        plan = _plan(tree.town_a, tree.owner)
        study = _item(plan, tree.owner, quarter=1, target=2)
        reach = _item(plan, tree.owner, quarter=2, measure=PlanItem.Measure.PARTICIPANTS, target=3)
        build = _item(
            plan,
            tree.owner,
            quarter=3,
            category="org_building",
            measure=PlanItem.Measure.MANUAL,
            target=10,
            achieved=10,
        )
        quota = _item(
            plan,
            tree.owner,
            quarter=4,
            category="one_plus_100",
            measure=PlanItem.Measure.QUOTA,
            target=100,
        )
        a1 = _held(tree.town_a, study, 2)
        _held(tree.town_a, study, 3, status=Activity.Status.CANCELLED)  # not held
        a3 = _held(tree.town_a, reach, 5)
        youth = YouthFactory(organisation=tree.town_a)
        for activity in (a1, a3):
            RegistrationFactory(activity=activity, youth=youth, checked_in_at=activity.starts_at)
        RegistrationFactory(activity=a3, checked_in_at=a3.starts_at)
        RegistrationFactory(activity=a3)  # signed up, never came
        # Two cadres in the subtree, one meeting a quota of 1 youth from 1 field.
        QuotaRuleFactory(quota=1, min_sectors=1)
        met = CadreFactory(organisation=tree.branch_a)
        CadreYouthFactory(cadre=met)
        cadre_progress_refresh()

        figures = plan_completion(plans=[plan], as_of=datetime.date(YEAR, 12, 31))[plan.pk]
        by_item = {f.item.pk: f for f in figures.items}
        assert by_item[study.pk].achieved == 1 and not by_item[study.pk].done
        assert by_item[reach.pk].achieved == 2
        assert by_item[build.pk].done
        # tree.cadre (no youths) and `met`: 50 %, the share the cadre list of township A shows.
        assert by_item[quota.pk].achieved == 50
        listed = cadre_progress_list(user=tree.owner)
        assert listed.count() == 2 and listed.filter(quota_met=True).count() == 1
        assert [q.activities_held for q in figures.quarters] == [1, 1, 0, 0]
        assert [q.activities_planned for q in figures.quarters] == [2, 0, 0, 0]
        assert figures.items_due == 4 and figures.due_done == 1 and figures.rate == 25.0

    def test_items_are_due_once_their_quarter_ended(self, tree):
        plan = _plan(tree.town_a, tree.owner)
        for quarter in (1, 2, 3):
            _item(plan, tree.owner, quarter=quarter, measure="manual", target=1, achieved=1)
        mid_year = plan_completion(plans=[plan], as_of=datetime.date(YEAR, 6, 30))[plan.pk]
        assert mid_year.items_due == 2 and mid_year.rate == 100.0
        early = plan_completion(plans=[plan], as_of=datetime.date(YEAR, 3, 30))[plan.pk]
        assert early.items_due == 0 and early.rate is None

    def test_many_plans_in_a_constant_number_of_queries(self, tree, django_assert_max_num_queries):
        plans = []
        for org in (tree.town_a, tree.branch_a, tree.town_b):
            plan = _plan(org, tree.county)
            for quarter in (1, 2, 3, 4):
                item = _item(plan, tree.county, quarter=quarter)
                _held(org, item, 3 * quarter - 1)
            _item(plan, tree.county, measure="quota", target=100)
            plans.append(plan)
        with django_assert_max_num_queries(4):
            figures = plan_completion(plans=plans, as_of=datetime.date(YEAR, 12, 31))
        assert all(f.quarters[0].activities_held == 1 for f in figures.values())


class TestOverview:
    def test_committee_sees_who_has_no_plan_by_its_date(self, tree):
        services.plan_deadline_set(
            organisation=tree.banner,
            year=YEAR,
            due_on=datetime.date(YEAR, 1, 31),
            by=tree.county,
        )
        on_time = _plan(tree.town_a, tree.owner)
        _item(on_time, tree.owner)
        services.plan_submit(plan=on_time, by=tree.owner, now=_at(1, 20))
        late = _plan(tree.town_b, tree.outsider)
        _item(late, tree.outsider)
        services.plan_submit(plan=late, by=tree.outsider, now=_at(2, 20))
        _plan(tree.branch_a, tree.owner)  # drafted, never handed in
        overview = plan_overview(
            user=tree.county, organisation=tree.banner, year=YEAR, as_of=datetime.date(YEAR, 3, 1)
        )
        status = {r.organisation.name: r.status for r in overview.rows}
        assert status == {
            "测试旗团委": "none",
            "甲镇团委": "on_time",
            "甲镇第一团支部": "draft",
            "乙镇团委": "late",
        }
        assert overview.with_plan == 1 and len(overview.missing) == 3

    def test_missing_text_is_what_the_join_filter_writes(self, tree):
        tree.town_b.name = 'O\'Neil & <乙> "镇"'
        tree.town_b.save(update_fields=["name"])
        overview = plan_overview(user=tree.county, organisation=tree.banner, year=YEAR)
        names = overview.missing_names
        assert len(names) == 4 and tree.town_b.name in names
        expected = Template('{{ names|join:"、" }}').render(Context({"names": names}))
        assert overview.missing_text == expected
        assert "&lt;乙&gt;" in overview.missing_text

    def test_township_sees_only_its_subtree(self, tree):
        _plan(tree.town_b, tree.outsider)
        overview = plan_overview(user=tree.owner, organisation=tree.town_a, year=YEAR)
        assert {r.organisation.name for r in overview.rows} == {"甲镇团委", "甲镇第一团支部"}
        assert all(r.plan is None for r in overview.rows)


class TestPages:
    def test_staff_write_a_plan_through_the_pages(self, client, tree):
        client.force_login(tree.owner)
        response = client.post(
            reverse("activities:plan_create"),
            {"organisation": tree.town_a.pk, "year": YEAR, "summary": "全年工作"},
        )
        plan = WorkPlan.objects.get(organisation=tree.town_a, year=YEAR)
        assert response["Location"] == plan.get_absolute_url()
        item = {
            "item-goal": "开展4次线下活动",
            "item-category": "culture",
            "item-quarter": "2",
            "item-measure": "activities",
            "item-target": "4",
            "item-unit": "次线下活动",
            "item-responsible_cadres": [tree.cadre.pk],
        }
        assert client.post(plan.get_absolute_url(), item).status_code == 302
        added = plan.items.get()
        assert list(added.responsible_cadres.all()) == [tree.cadre]
        client.post(reverse("activities:plan_submit", args=[plan.pk]))
        plan.refresh_from_db()
        assert plan.submitted_at is not None
        page = client.get(plan.get_absolute_url())
        assert "开展4次线下活动" in page.text and "完成 0 / 目标 4 次线下活动" in page.text
        history = client.get(reverse("activities:plan_history", args=[plan.pk]))
        assert "开展4次线下活动" in history.text

    def test_bad_item_keeps_what_was_typed(self, client, tree):
        plan = _plan(tree.town_a, tree.owner)
        client.force_login(tree.owner)
        response = client.post(
            plan.get_absolute_url(),
            {
                "item-goal": "联系青年全部达标",
                "item-category": "one_plus_100",
                "item-quarter": "4",
                "item-measure": "quota",
                "item-target": "150",
            },
        )
        assert response.status_code == 200
        assert "达标率目标不能超过 100%。" in response.text
        assert 'value="联系青年全部达标"' in response.text
        assert not plan.items.exists()

    def test_outsider_gets_404_everywhere(self, client, tree):
        plan = _plan(tree.town_a, tree.owner)
        item = _item(plan, tree.owner)
        client.force_login(tree.outsider)
        for url in (
            plan.get_absolute_url(),
            reverse("activities:plan_history", args=[plan.pk]),
            reverse("activities:plan_item_edit", args=[item.pk]),
        ):
            assert client.get(url).status_code == 404, url
        for url in (
            reverse("activities:plan_submit", args=[plan.pk]),
            reverse("activities:plan_item_delete", args=[item.pk]),
            reverse("activities:plan_deadline", args=[tree.town_a.pk, YEAR]),
        ):
            assert client.post(url, {"due_on": f"{YEAR}-01-31"}).status_code == 404, url
        assert PlanItem.objects.filter(pk=item.pk).exists()

    def test_cadre_reads_own_organisations_plan_only(self, client, tree):
        plan = _plan(tree.town_a, tree.owner)
        other = _plan(tree.town_b, tree.outsider)
        client.force_login(tree.cadre_user)
        assert client.get(plan.get_absolute_url()).status_code == 200
        assert client.get(other.get_absolute_url()).status_code == 404
        assert client.post(plan.get_absolute_url(), {"item-goal": "x"}).status_code == 404
        index = client.get(reverse("activities:plans"))
        assert f"{YEAR} · 甲镇团委" in index.text and "乙镇团委" not in index.text

    def test_activity_form_refuses_another_organisations_item(self, client, tree):
        item = _item(_plan(tree.town_b, tree.county), tree.county)
        client.force_login(tree.county)
        response = client.post(
            reverse("activities:create"),
            {
                "title": "甲镇学习会",
                "category": "theory",
                "organisation": tree.town_a.pk,
                "starts_at": f"{YEAR}-02-10T09:00",
                "ends_at": f"{YEAR}-02-10T11:00",
                "status": "planned",
                "plan_item": item.pk,
            },
        )
        assert response.status_code == 200
        assert "活动只能关联主办组织自己计划中的事项" in response.text
        assert not Activity.objects.filter(title="甲镇学习会").exists()

    def test_deadline_set_by_the_committee(self, client, tree):
        client.force_login(tree.county)
        url = reverse("activities:plan_deadline", args=[tree.banner.pk, YEAR])
        assert client.post(url, {"due_on": f"{YEAR}-01-31"}).status_code == 302
        page = client.get(
            reverse("activities:plans"), {"organisation": tree.banner.pk, "year": YEAR}
        )
        assert f"截至 {YEAR}-01-31 未按时提交计划的组织" in page.text
        refused = client.post(url, {"due_on": "1999-01-01"}, follow=True)
        assert "截止日期应在" in refused.text

    def test_query_counts(self, client, tree, django_assert_max_num_queries):
        plans = []
        for org in (tree.town_a, tree.branch_a, tree.town_b):
            plan = _plan(org, tree.county)
            for quarter in (1, 2, 3, 4):
                item = _item(plan, tree.county, quarter=quarter, responsible_cadres=[])
                _held(org, item, 3 * quarter - 1)
            plans.append(plan)
        client.force_login(tree.county)
        with django_assert_max_num_queries(16):
            page = client.get(reverse("activities:plans"), {"organisation": tree.banner.pk})
        assert page.status_code == 200
        with django_assert_max_num_queries(18):
            assert client.get(plans[0].get_absolute_url()).status_code == 200


def test_activity_page_links_back_to_its_plan_item(client, tree):
    plan = _plan(tree.town_a, tree.owner)
    item = _item(plan, tree.owner, goal="开展4次线下活动")
    activity = _held(tree.town_a, item, 2)
    client.force_login(tree.owner)
    page = client.get(activity.get_absolute_url())
    assert "开展4次线下活动" in page.text
    assert f"{plan.get_absolute_url()}#item{item.pk}" in page.text
    create = client.get(reverse("activities:create"), {"plan_item": item.pk})
    assert create.context["form"].initial["plan_item"] == item.pk
    client.force_login(tree.outsider)
    outsider = client.get(reverse("activities:create"), {"plan_item": item.pk})
    assert "plan_item" not in outsider.context["form"].initial
