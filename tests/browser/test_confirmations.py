"""见面码 end to end at phone width: the cadre shows the code, the youth's own phone (a second
browser context) opens it, types the phone once, taps 确认见面; the contact appears confirmed for
the cadre. Then a share link answered on the youth's phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, login, settle, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_meeting_code_scan_confirm_and_the_cadre_sees_it(demo_site, new_page):
    from cadres.models import Cadre, Youth
    from contacts import confirmations as conf
    from contacts.models import Confirmation

    cadre = Cadre.objects.get(user__username="cadre")
    youth = Youth.objects.filter(cadre_links__cadre=cadre).order_by("pk").first()
    Youth.objects.filter(pk=youth.pk).update(phone="13987654321")
    Confirmation.objects.filter(cadre=cadre, youth=youth).delete()

    # 1. The cadre's phone: home → 见面码.
    page = new_page(PHONE)
    # The page's own timers on a clock the test can move (time still flows as usual): step 4
    # waits for the screen's self-refresh, 20 s of the cadre's time, not of the suite's.
    page.clock.install()
    login(page, demo_site.url, "cadre")
    page.get_by_role("link", name="见面码（请青年扫码确认见面）").click()
    settle(page)
    expect(page.locator(".lq-meet-qr svg")).to_be_visible()
    box = page.locator(".lq-meet-qr").bounding_box()
    assert box["width"] >= 300  # big enough for a camera at arm's length
    shot(page, "confirm-meeting-code-phone")

    # 2. The youth's phone, another browser: what the camera opens.
    phone = new_page(PHONE)
    phone.goto(f"{demo_site.url}/contacts/m/{conf.meeting_code(cadre_id=cadre.pk)}/")
    assert cadre.name in phone.content()
    phone.get_by_label("你的手机号").fill("139 8765 4321")
    shot(phone, "confirm-youth-phone-form")
    phone.get_by_role("button", name="确认见面").click()
    settle(phone)
    assert "已确认见面" in phone.content()
    shot(phone, "confirm-youth-done")

    # 3. The next scan on that phone remembers the youth: one tap, and "already today".
    phone.goto(f"{demo_site.url}/contacts/m/{conf.meeting_code(cadre_id=cadre.pk)}/")
    assert youth.name in phone.content() and phone.get_by_label("你的手机号").count() == 0
    phone.get_by_role("button", name="确认见面").click()
    assert "今天已经" in phone.content()

    # 4. The cadre's screen refreshes itself (every 20 s) and shows it confirmed; the contact
    #    page marks the youth.
    row = page.locator("#meet-today li", has_text=youth.name)
    assert row.count() == 0  # not until the screen refreshes itself
    page.clock.fast_forward("00:21")
    row.wait_for(timeout=30_000)
    settle(page)
    expect(row).to_contain_text("已确认", use_inner_text=True)
    shot(page, "confirm-meeting-code-after-phone")
    row.get_by_role("link").click()
    settle(page)
    assert "青年已确认" in page.content()
    assert Confirmation.objects.filter(cadre=cadre, youth=youth, same_device=False).count() == 1

    # 5. Nothing left to ask on that contact; another contact offers its share link, which the
    #    youth opens on their phone and answers with four digits.
    expect(page.locator("summary", has_text="请青年确认这次联系")).to_have_count(0)
    confirmed_contact = int(page.url.rstrip("/").rsplit("/", 1)[1])
    other = (
        cadre.contacts.filter(is_deleted=False, activity__isnull=True)
        .exclude(pk=confirmed_contact)
        .first()
    )
    other_youth = other.youth_rows.select_related("youth").first().youth
    Youth.objects.filter(pk=other_youth.pk).update(phone="13711112222")
    Confirmation.objects.filter(youth=other_youth).delete()
    page.goto(f"{demo_site.url}/contacts/{other.pk}/")
    page.locator("summary", has_text="请青年确认这次联系").click()
    shot(page, "confirm-share-panel-phone")
    youth_phone = new_page(PHONE)
    youth_phone.goto(f"{demo_site.url}/contacts/c/{conf.share_token(contact_id=other.pk)}/")
    youth_phone.get_by_label("你的手机号后四位").fill("2222")
    shot(youth_phone, "confirm-share-youth")
    youth_phone.get_by_role("button", name="是的，我们联系过").click()
    assert "已确认这次联系" in youth_phone.content()
    assert Confirmation.objects.filter(
        contact=other, youth=other_youth, outcome="confirmed"
    ).exists()
    page.reload()
    expect(page.locator("dd", has_text=other_youth.name)).to_contain_text(
        "青年已确认", use_inner_text=True
    )
