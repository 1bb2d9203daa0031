"""Activities in a real browser: staff registers youths, youths check in by code on a phone, and the
attendance becomes contact (derived, not typed) shown on the youth's record and the cadre's home."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from activities.models import Activity, Registration
from cadres.models import Cadre, CadreYouth, Youth
from contacts.models import ContactYouth
from tests.browser.conftest import DESKTOP, PHONE, login, settle, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_register_checkin_by_code_and_derived_contact(demo_site, new_page):
    cadre = Cadre.objects.get(user__username="cadre")
    activity = Activity.objects.get(title__startswith="青年爱里“有问必答”")
    youth_ids = list(
        CadreYouth.objects.filter(cadre=cadre, youth__phone__gt="")
        .exclude(youth__activity_registrations__activity=activity)
        .order_by("youth_id")
        .values_list("youth_id", flat=True)[:2]
    )
    youths = list(Youth.objects.filter(pk__in=youth_ids).order_by("pk"))
    assert len(youths) == 2

    # 1. township staff signs the two youths up from the registration page (desktop).
    staff = new_page(DESKTOP)
    login(staff, demo_site.url, "township")
    staff.goto(f"{demo_site.url}/activities/{activity.pk}/")
    shot(staff, "activity-detail-desktop")
    for youth in youths:
        staff.goto(f"{demo_site.url}/activities/{activity.pk}/register/?q={youth.phone}")
        staff.locator(f"#y{youth.pk}").check()
        staff.get_by_role("button", name="报名所选青年").click()
        settle(staff)
        expect(staff.get_by_role("alert").first).to_contain_text("已报名 1 人", use_inner_text=True)
    shot(staff, "activity-checkin-list-desktop")

    # 2. each youth types the check-in code on a phone and checks in with their phone number.
    phone = new_page(PHONE)
    for youth in youths:
        phone.goto(f"{demo_site.url}/activities/checkin/")
        phone.get_by_label("签到码").fill(activity.checkin_code.lower())
        phone.get_by_role("button", name="下一步").click()
        phone.get_by_label("手机号").fill(youth.phone)
        phone.get_by_role("button", name="签到").click()
        phone.get_by_text("签到成功").wait_for()
    shot(phone, "activity-checkin-done-phone")
    # Checking in twice is refused, nothing duplicated.
    phone.get_by_role("link", name="下一位签到").click()
    phone.get_by_label("手机号").fill(youths[0].phone)
    phone.get_by_role("button", name="签到").click()
    expect(phone.locator(".alert-danger")).to_contain_text("已经签到过了", use_inner_text=True)
    shot(phone, "activity-checkin-twice-phone")

    # 3. the attendance is contact for the youths' cadre, without anyone typing it.
    for youth in youths:
        assert ContactYouth.objects.filter(
            cadre=cadre, youth=youth, contact__activity=activity, is_offline=True
        ).exists()
    assert Registration.objects.filter(activity=activity, youth__in=youths).count() == 2

    # 4. the demo cadre (responsible for the activity) sees it on the home page and the youth's
    #    record shows the attendance, at phone width.
    cadre_page = new_page(PHONE)
    login(cadre_page, demo_site.url, "cadre")
    expect(cadre_page.get_by_text(activity.title).first).to_be_visible()
    shot(cadre_page, "activity-cadre-home-phone")
    cadre_page.goto(f"{demo_site.url}/activities/volunteers/youth/{youths[0].pk}/")
    expect(cadre_page.locator("main")).to_contain_text(activity.title, use_inner_text=True)
    shot(cadre_page, "activity-youth-record-phone")
    cadre_page.goto(f"{demo_site.url}/activities/{activity.pk}/checkin/")
    expect(cadre_page.get_by_test_id("counts")).to_contain_text("已签到 2", use_inner_text=True)
    shot(cadre_page, "activity-checkin-list-phone")


def test_calendar_and_list_at_phone_width(demo_site, new_page):
    page = new_page(PHONE)
    login(page, demo_site.url, "county")
    page.goto(f"{demo_site.url}/activities/")
    expect(page.locator("main")).to_contain_text("扶贫路上党旗飘", use_inner_text=True)
    shot(page, "activity-list-phone")
    page.goto(f"{demo_site.url}/activities/?view=calendar")
    shot(page, "activity-calendar-phone")
    page.goto(f"{demo_site.url}/activities/projects/")
    expect(page.locator("main")).to_contain_text("肉牛标准化养殖", use_inner_text=True)
    shot(page, "activity-projects-phone")
