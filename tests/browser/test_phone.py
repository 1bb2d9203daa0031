"""The cadre's whole day on a phone (issue 14), in Chromium at 390×844: no signal (the queue,
a reload offline, two tabs, sent exactly once), adding a youth, channels, correcting a contact,
and tap targets of at least 44×44 px."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, login, settle, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def _wait_for_worker(page):
    page.wait_for_function(
        # A function, not an expression: Playwright evals the predicate's text in the page, once
        # for a function (then calls it) but on every poll for an expression, and a poll after
        # the first is the page's own eval, which the strict policy refuses (an EvalError when
        # the worker was not yet in control at the first look: flaky under load).
        "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null",
        timeout=15000,
    )


def _log_offline(page, index: int, channel_id: str) -> str:
    first = page.locator("#youth-list label").nth(index)
    name = first.get_attribute("data-name")
    first.click()
    page.locator(f"label[for='{channel_id}']").click()
    page.get_by_role("button", name="保存").click()
    return name


def test_contacts_logged_without_signal_are_sent_once_when_it_returns(demo_site, new_page):
    from cadres.models import Cadre
    from contacts.models import Contact

    cadre = Cadre.objects.get(user__username="cadre")
    before = Contact.objects.filter(cadre=cadre).count()
    page = new_page(PHONE)
    context = page.context
    login(page, demo_site.url, "cadre")
    _wait_for_worker(page)
    # Online once: the pages the cadre needs are kept.
    for path in ("/", "/contacts/new/", "/contacts/batch/", "/cadres/me/youths/"):
        page.goto(demo_site.url + path)
        settle(page)

    context.set_offline(True)
    # Every page opens from the phone, also after a reload.
    for path in ("/", "/contacts/batch/", "/cadres/me/youths/", "/contacts/new/"):
        page.goto(demo_site.url + path)
        assert "ERR_INTERNET_DISCONNECTED" not in page.content()
    page.reload()
    assert page.locator("#youth-list label").count() > 2
    first = _log_offline(page, 0, "id_channel_5")
    outbox = page.get_by_test_id("outbox")
    outbox.get_by_text("待同步 1 条").wait_for()
    expect(outbox).to_contain_text("没有网络", use_inner_text=True)
    shot(page, "phone-offline-queued")

    # A second tab, offline too: sees the queue, adds to it.
    tab = context.new_page()
    tab.goto(demo_site.url + "/contacts/new/")
    tab.get_by_test_id("outbox").get_by_text("待同步 1 条").wait_for()
    second = _log_offline(tab, 1, "id_channel_0")
    tab.get_by_test_id("outbox").get_by_text("待同步 2 条").wait_for()
    page.get_by_test_id("outbox").get_by_text("待同步 2 条").wait_for()
    page.reload()  # still offline: the queue survives a reload
    page.get_by_test_id("outbox").get_by_text("待同步 2 条").wait_for()
    assert Contact.objects.filter(cadre=cadre).count() == before

    # Signal again: both tabs try; the queue is sent once.
    context.set_offline(False)
    page.get_by_test_id("outbox").wait_for(state="hidden", timeout=60000)
    tab.get_by_test_id("outbox").wait_for(state="hidden", timeout=60000)
    page.wait_for_timeout(1000)
    new = Contact.objects.filter(cadre=cadre).order_by("pk")[before:]
    assert Contact.objects.filter(cadre=cadre).count() == before + 2
    names = {r.youth.name for c in new for r in c.youth_rows.select_related("youth")}
    assert names == {first, second}
    assert len({c.client_key for c in new}) == 2 and all(c.client_key for c in new)
    # Reloading and going offline/online again sends nothing more.
    page.reload()
    context.set_offline(True)
    context.set_offline(False)
    page.wait_for_timeout(1500)
    assert Contact.objects.filter(cadre=cadre).count() == before + 2
    shot(page, "phone-offline-synced")


def test_a_refused_entry_stays_with_its_reason_until_discarded(demo_site, new_page):
    from cadres.models import Cadre, CadreYouth
    from contacts.models import Contact

    cadre = Cadre.objects.get(user__username="cadre")
    before = Contact.objects.filter(cadre=cadre).count()
    page = new_page(PHONE)
    login(page, demo_site.url, "cadre")
    _wait_for_worker(page)
    page.goto(demo_site.url + "/contacts/new/")
    settle(page)
    page.context.set_offline(True)
    name = _log_offline(page, 0, "id_channel_5")
    page.get_by_test_id("outbox").get_by_text("待同步 1 条").wait_for()
    # Meanwhile the youth leaves the cadre's list.
    CadreYouth.objects.filter(cadre=cadre, youth__name=name).delete()
    page.context.set_offline(False)
    page.get_by_text("不在您的联系名单中").wait_for(timeout=60000)
    shot(page, "phone-offline-refused")
    assert Contact.objects.filter(cadre=cadre).count() == before
    page.get_by_role("button", name="放弃这条").click()
    page.get_by_test_id("outbox").wait_for(state="hidden")


def test_a_double_tapped_save_makes_one_contact(demo_site, new_page):
    from cadres.models import Cadre
    from contacts.models import Contact

    cadre = Cadre.objects.get(user__username="cadre")
    before = Contact.objects.filter(cadre=cadre).count()
    page = new_page(PHONE)
    login(page, demo_site.url, "cadre")
    page.goto(demo_site.url + "/contacts/new/")
    page.locator("#youth-list label").first.click()
    page.locator("label[for='id_channel_5']").click()
    page.get_by_role("button", name="保存").dblclick()
    page.wait_for_url(demo_site.url + "/")
    settle(page)
    expect(page.get_by_role("alert")).to_contain_text("已记录与", use_inner_text=True)
    assert Contact.objects.filter(cadre=cadre).count() == before + 1


# --- Tap targets (WCAG 2.5.5): every control a thumb must hit is at least 44×44 CSS px. ---

MEASURE = """() => {
  const seen = new Set();
  const small = [];
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && !el.closest(".d-none");
  };
  const target = (el) => {
    // A radio or check box is tapped through its label (Bootstrap's btn-check is invisible).
    if (el.matches("input[type=radio], input[type=checkbox]")) {
      return el.closest("label") || document.querySelector(`label[for='${el.id}']`) ||
        el.closest(".form-check") || el;
    }
    return el;
  };
  document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]"
  ).forEach((el) => {
    if (el.closest(".navbar-collapse:not(.show)") || el.classList.contains("skip-link")) return;
    const t = target(el);
    if (seen.has(t) || !visible(t)) return;
    seen.add(t);
    const r = t.getBoundingClientRect();
    if (r.width < 44 || r.height < 44) {
      small.push(`${t.tagName.toLowerCase()}.${t.className} "${(t.innerText || t.value || "").trim().slice(0, 20)}" ${Math.round(r.width)}×${Math.round(r.height)}`);
    }
  });
  return {count: seen.size, small};
}"""


def test_every_tap_target_on_the_cadre_pages_is_at_least_44px(with_contacts, new_page):
    from cadres.models import Cadre

    cadre = Cadre.objects.get(user__username="cadre")
    page = new_page(PHONE)
    login(page, with_contacts.url, "cadre")
    report = {}
    for name, path in [
        ("home", "/"),
        ("quick-log", "/contacts/new/"),
        ("batch", "/contacts/batch/"),
        ("my-youths", "/cadres/me/youths/"),
        ("my-contacts", "/contacts/mine/"),
        ("score", "/assessment/"),  # the cadre's own score page
        ("channels", f"/cadres/{cadre.pk}/channels/"),
        ("youth-new", "/cadres/youths/new/"),
        ("meeting-code", "/contacts/meet/"),  # 见面码
    ]:
        assert page.goto(with_contacts.url + path).status == 200, path
        settle(page)
        result = page.evaluate(MEASURE)
        report[name] = result
        shot(page, f"phone-taps-{name}")
    problems = {k: v["small"] for k, v in report.items() if v["small"]}
    counts = {k: v["count"] for k, v in report.items()}
    print("tap targets measured:", counts)
    for k, v in problems.items():
        print("SMALL", k, v)
    assert problems == {}, problems


def test_cadre_adds_a_youth_builds_a_channel_and_corrects_a_contact_on_a_phone(demo_site, new_page):
    from cadres.models import Cadre, CadreYouth, LiaisonChannel, Youth
    from contacts.models import Contact

    cadre = Cadre.objects.get(user__username="cadre")
    known = CadreYouth.objects.filter(cadre=cadre).select_related("youth").first().youth
    page = new_page(PHONE)
    login(page, demo_site.url, "cadre")

    # 1. From quick log: a youth met in the field, then the same one again (a duplicate).
    page.goto(demo_site.url + "/contacts/new/")
    page.get_by_role("link", name="找不到？新增青年（登记并加入名单）").click()
    page.get_by_label("姓名").fill("乌兰")
    page.get_by_label("手机号（可不填）").fill("139 0476 1234")
    page.get_by_label("领域").select_option(index=1)
    page.get_by_label("单位/学校/村（嘎查）").fill("职教中心")
    page.get_by_label("出生年份").fill("1998")
    shot(page, "phone-youth-new")
    page.get_by_role("button", name="保存并加入联系名单").click()
    settle(page)
    expect(page).to_have_url(re.compile(re.escape("/contacts/new/?youth=")))
    expect(page.get_by_role("alert")).to_contain_text(
        "已登记 乌兰 并加入联系名单", use_inner_text=True
    )
    assert page.locator("#youth-list input:checked").get_attribute("value") == str(
        Youth.objects.get(phone="13904761234").pk
    )
    page.goto(demo_site.url + "/cadres/youths/new/")
    page.get_by_label("姓名").fill(known.name)
    page.get_by_label("领域").select_option(index=1)
    page.get_by_label("单位/学校/村（嘎查）").fill(known.unit)
    page.get_by_label("出生年份").fill(str(known.birth_year))
    page.get_by_role("button", name="保存并加入联系名单").click()
    page.get_by_test_id("duplicate-prompt").wait_for()
    shot(page, "phone-youth-duplicate")
    assert Youth.objects.filter(name=known.name, birth_year=known.birth_year).count() == 1

    # 2. The missing 基层联系点 channel, straight from the home's next step.
    page.goto(demo_site.url + "/")
    page.get_by_test_id("next-channel").click()
    page.get_by_label("联系的组织、班级、企业或阵地名称").fill("天山镇8+4联系点")
    shot(page, "phone-channels")
    page.get_by_role("button", name="保存").click()
    settle(page)
    expect(page.get_by_role("alert")).to_contain_text("已建立联系渠道", use_inner_text=True)
    assert LiaisonChannel.objects.filter(cadre=cadre, name="天山镇8+4联系点").exists()

    # 3. My contacts: open the newest, correct it.
    page.goto(demo_site.url + "/contacts/new/")
    page.locator("#youth-list label").first.click()
    page.locator("label[for='id_channel_0']").click()
    page.get_by_role("button", name="保存").click()
    settle(page)
    page.goto(demo_site.url + "/contacts/mine/")
    shot(page, "phone-my-contacts")
    page.get_by_test_id("my-contacts").locator("a").first.click()
    page.get_by_role("link", name="修改", exact=True).click()
    page.locator("label[for='id_channel_5']").click()
    page.locator("summary").first.click()
    page.get_by_label("话题").fill("就业信息")
    shot(page, "phone-contact-edit")
    page.get_by_role("button", name="保存修改").click()
    settle(page)
    expect(page.get_by_role("alert")).to_contain_text("联系记录已修改", use_inner_text=True)
    shot(page, "phone-contact-corrected")
    latest = Contact.objects.filter(cadre=cadre).order_by("-created_at", "-pk").first()
    assert latest.channel == "talk" and latest.topic == "就业信息"
