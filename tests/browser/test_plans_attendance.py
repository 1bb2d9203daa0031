"""Issue 15 at phone width (390×844) in Chromium: attendance after the event."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, login, settle, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _past_activity():
    from activities.models import Activity, Registration
    from activities.selectors import youth_scope
    from cadres.models import Organisation, User

    county = User.objects.get(username="county")
    org = Organisation.objects.get(pk=county.organisation_id)
    day = timezone.localdate() - datetime.timedelta(days=5)
    start = datetime.datetime.combine(
        day, datetime.time(19), tzinfo=timezone.get_current_timezone()
    )
    activity = Activity.objects.create(
        title="补录测试文艺汇演",
        category=Activity.Category.CULTURE,
        organisation=org,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
        status=Activity.Status.DONE,
    )
    youths = list(youth_scope(county).order_by("id")[:3])
    Registration.objects.bulk_create(
        [Registration(activity=activity, youth=y, source="staff") for y in youths[:2]]
    )
    return activity, youths


def test_attendance_after_the_event_on_a_phone(demo_site, new_page):
    from activities.models import Registration
    from contacts.models import ContactYouth

    activity, youths = _past_activity()
    page = new_page(PHONE)
    login(page, demo_site.url, "county")
    page.goto(f"{demo_site.url}/activities/{activity.pk}/checkin/")
    page.get_by_role("link", name="活动后补录").click()
    settle(page)
    assert "活动后补录出勤" in page.content()

    # Too many hours: refused in Chinese, what was typed and ticked stays.
    reg0 = Registration.objects.get(activity=activity, youth=youths[0])
    page.locator(f"label[for='lr{reg0.pk}']").click()
    page.get_by_label("时长（小时）").fill("5")
    page.get_by_role("button", name="补录所选人员出勤").click()
    page.get_by_text("时长不能超过活动时长（2 小时）。").wait_for()
    assert page.get_by_label("时长（小时）").input_value() == "5"
    shot(page, "late-attendance-refused-phone")

    # A youth who came without signing up, found by name, ticked with the registered one.
    page.get_by_label("时长（小时）").fill("1.5")
    page.get_by_placeholder("查找未报名的青年：姓名、手机号或单位").fill(youths[2].name)
    page.get_by_role("button", name="查找").click()
    settle(page)
    page.locator(f"label[for='lr{reg0.pk}']").click()
    page.locator(f"label[for='ly{youths[2].pk}']").click()
    page.get_by_label("时长（小时）").fill("1.5")
    page.get_by_role("button", name="补录所选人员出勤").click()
    page.get_by_text("已补录 2 人出勤（其中未报名 1 人）").wait_for()
    shot(page, "late-attendance-done-phone")
    # The page fits the phone: no horizontal scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    attended = Registration.objects.filter(activity=activity, checked_in_at__isnull=False)
    assert {r.youth_id for r in attended} == {youths[0].pk, youths[2].pk}
    day = timezone.localdate(activity.starts_at)
    dates = set(
        ContactYouth.objects.filter(contact__activity=activity).values_list("date", flat=True)
    )
    assert dates == {day}


def test_work_plan_year_on_a_phone(demo_site, new_page):
    from activities.models import WorkPlan
    from cadres.models import User

    county = User.objects.get(username="county")
    year = timezone.localdate().year
    WorkPlan.objects.filter(organisation=county.organisation, year=year).delete()
    page = new_page(PHONE)
    login(page, demo_site.url, "county")
    page.goto(f"{demo_site.url}/activities/plans/")
    page.get_by_role("button", name="设定截止日期").wait_for()
    page.get_by_label("计划提交截止日期").fill(f"{year}-01-31")
    page.get_by_role("button", name="设定截止日期").click()
    page.get_by_text("已设定计划提交截止日期。").wait_for()
    expect(page.get_by_test_id("plan-missing")).to_be_visible()
    shot(page, "plans-overview-phone")

    # The committee writes its own plan: one item measured by linked activities.
    page.get_by_role("button", name="创建计划").click()
    page.get_by_text("年度工作计划已创建，请添加工作事项。").wait_for()
    page.get_by_label("工作目标").fill("开展4次线下活动")
    page.get_by_label("类别").select_option("culture")
    page.get_by_label("计划季度").select_option("2")
    page.get_by_label("目标值").fill("4")
    page.get_by_label("单位").fill("次线下活动")
    page.get_by_role("button", name="添加事项").click()
    page.get_by_text("已添加计划事项。").wait_for()
    # A quota item above 100 % is refused in Chinese and the goal typed stays.
    page.get_by_label("工作目标").fill("联系青年全部达标")
    page.get_by_label("类别").select_option("one_plus_100")
    page.get_by_label("计划季度").select_option("4")
    page.get_by_label("衡量方式").select_option("quota")
    page.get_by_label("目标值").fill("150")
    page.get_by_role("button", name="添加事项").click()
    page.get_by_text("达标率目标不能超过 100%。").wait_for()
    assert page.get_by_label("工作目标").input_value() == "联系青年全部达标"
    page.get_by_label("目标值").fill("100")
    page.get_by_role("button", name="添加事项").click()
    page.get_by_text("已添加计划事项。").wait_for()
    page.get_by_role("button", name="提交计划").click()
    page.get_by_text("计划已提交。").wait_for()
    expect(page.get_by_test_id("plan-items")).to_contain_text(
        "完成 0 / 目标 4 次线下活动", use_inner_text=True
    )
    expect(page.get_by_test_id("quarters")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "plan-detail-phone")

    plan = WorkPlan.objects.get(organisation=county.organisation, year=year)
    assert plan.submitted_at is not None and plan.items.count() == 2
