"""Reminders in a real browser at phone width: the bell with its count, the centre, a reminder
marked read, the settings page. Screenshots in artifacts/screenshots/notifications-*.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, login, settle, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_cadre_reads_reminders_on_a_phone(demo_site, new_page):
    import datetime

    from django.utils import timezone

    from assessment import reminders
    from assessment.models import Notification
    from cadres.models import Cadre
    from contacts.models import Need
    from tests.factories import ActivityFactory

    cadre = Cadre.objects.get(user__username="cadre")
    today = timezone.localdate()
    Need.objects.create(
        organisation=cadre.organisation,
        owner_cadre=cadre,
        source="venue",
        category="employment",
        question="想了解创业担保贷款怎么申请",
        due_date=today - datetime.timedelta(days=1),
    )
    start = timezone.make_aware(
        datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time(9, 30))
    )
    activity = ActivityFactory(
        organisation=cadre.organisation,
        title="青年就业政策宣讲",
        place="镇文化站",
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
    )
    activity.responsible_cadres.add(cadre)
    reminders.reminders_refresh(today=today)
    unread = Notification.objects.filter(user=cadre.user, read_at__isnull=True).count()
    assert unread >= 3

    page = new_page(PHONE)
    login(page, demo_site.url, "cadre")
    bell = page.locator("a.lq-bell")
    expect(bell.locator(".lq-bell-count")).to_have_text(str(unread), use_inner_text=True)
    box = bell.bounding_box()
    assert box and box["width"] >= 44 and box["height"] >= 44  # a thumb's tap target
    expect(bell).to_be_visible()  # on the phone without opening the menu
    shot(page, "notifications-home-bell-phone")

    bell.click()
    settle(page)
    expect(page).to_have_url(re.compile("/notifications/$"))
    assert "想了解创业担保贷款怎么申请" in page.content()
    assert "明天 09:30 您负责的活动：青年就业政策宣讲（镇文化站）" in page.content()
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "notifications-centre-phone")

    page.get_by_role("button", name="标为已读", exact=True).first.click()
    settle(page)
    expect(page.locator("a.lq-bell .lq-bell-count")).to_have_text(
        str(unread - 1), use_inner_text=True
    )

    page.get_by_role("link", name="提醒设置").click()
    settle(page)
    page.get_by_label("尚未建立的联系渠道").uncheck()
    page.get_by_label("每周一发送邮件摘要").check()
    shot(page, "notifications-settings-phone")
    page.get_by_role("button", name="保存").click()
    settle(page)
    expect(page.get_by_role("alert")).to_contain_text("提醒设置已保存", use_inner_text=True)

    desk = new_page(DESKTOP)
    login(desk, demo_site.url, "cadre")
    desk.goto(f"{demo_site.url}/notifications/")
    shot(desk, "notifications-centre-desktop")
