"""The strict Content Security Policy in a real browser: every main page, as staff, as a cadre and
anonymously, at phone and desktop width, loads without a console error or a CSP violation, and the
things that used to be inline (filters, spinners, confirm and print buttons, charts, progress bars,
the printed card's page size) still work from static files."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, SCREENSHOTS, login, settle, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = [(PHONE, "phone"), (DESKTOP, "desktop")]

# Reported through the console so that one listener (page.on("console")) sees both what Chromium
# logs itself ("Refused to apply inline style…") and the event, with the directive and the source.
VIOLATION_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber + " sample=" + e.sample);
});
"""


class Watch:
    """Console errors, uncaught exceptions and CSP violations of one page, with the URL."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        page.add_init_script(VIOLATION_LISTENER)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: uncaught {exc}"))

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"{self.page.url}: {message.text}")

    def visit(self, url: str, expect_status: int = 200):
        self.errors.clear()
        response = self.page.goto(url)
        settle(self.page)
        assert response.status == expect_status, url
        if expect_status != 200:
            # Chromium logs the document's own status as an error: that one is expected.
            expected = f"{url}: Failed to load resource: the server responded with a status of "
            self.errors = [e for e in self.errors if not e.startswith(expected)]
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and "unsafe-inline" not in policy, url
        return response

    def assert_clean(self) -> None:
        assert self.errors == [], "\n".join(self.errors)


def _ids():
    from activities.models import Activity
    from cadres.models import Cadre, Organisation, Youth
    from contacts.models import Contact, Need

    cadre = Cadre.objects.get(user__username="cadre")
    activity = Activity.objects.exclude(register_code="").order_by("pk").first()
    return {
        "cadre": cadre.pk,
        "youth": Youth.objects.filter(cadre_links__cadre=cadre).order_by("pk").first().pk,
        "contact": Contact.objects.filter(cadre=cadre).order_by("-pk").first().pk,
        "need": Need.objects.order_by("pk").first().pk,
        "activity": activity.pk,
        "register_code": activity.register_code,
        "checkin_code": activity.checkin_code,
        "township": Organisation.objects.get(name="天山镇团委").pk,
    }


STAFF_PAGES = [
    "/",
    "/assessment/",
    "/assessment/scores/",
    "/assessment/cadres/{cadre}/",
    "/assessment/flags/",
    "/assessment/bulletin/",
    "/assessment/review/",
    "/assessment/eligibility/",
    "/assessment/policy/",
    "/cadres/",
    "/cadres/{cadre}/",
    "/cadres/{cadre}/card/",
    "/cadres/{cadre}/card/?size=a4",
    "/cadres/{cadre}/history/",
    "/cadres/youths/",
    "/cadres/youths/{youth}/",
    "/cadres/organisations/",
    "/cadres/organisations/{township}/",
    "/cadres/import/",
    "/cadres/exports/",
    "/contacts/",
    "/contacts/needs/",
    "/contacts/needs/new/",
    "/contacts/needs/groups/",
    "/contacts/needs/{need}/",
    "/contacts/dormant/",
    "/activities/",
    "/activities/?view=calendar",
    "/activities/new/",
    "/activities/{activity}/",
    "/activities/{activity}/checkin/",
    "/activities/volunteers/",
    "/activities/volunteers/hours/",
    "/activities/volunteers/youth/{youth}/",
    "/activities/commendations/",
    "/activities/projects/",
    "/surveys/",
    "/surveys/campaigns/new/",
    "/accounts/password_change/",
    "/admin/",
    "/admin/cadres/cadre/",
    "/admin/cadres/cadre/{cadre}/change/",
]
CADRE_PAGES = [
    "/",
    "/contacts/new/",
    "/contacts/batch/",
    "/contacts/{contact}/",
    "/contacts/youths/{youth}/",
    "/contacts/dormant/",
    "/cadres/me/youths/",
    "/cadres/{cadre}/",
    "/cadres/{cadre}/card/",
    "/assessment/",
    "/activities/",
]
PUBLIC_PAGES = [
    "/accounts/login/",
    "/contacts/ask/",
    "/contacts/ask/{cadre}/",
    "/surveys/vote/",
    "/activities/r/{register_code}/",
    "/activities/checkin/",
    "/activities/c/{checkin_code}/",
]
# The pages whose screenshots are looked at, per viewport (the brief's "main pages").
SHOTS = {
    ("staff", "/"): "home-staff",
    ("staff", "/assessment/"): "dashboard",
    ("staff", "/cadres/"): "cadre-list",
    ("staff", "/cadres/organisations/"): "organisations",
    ("staff", "/cadres/{cadre}/card/"): "card",
    ("staff", "/assessment/cadres/{cadre}/"): "cadre-score",
    ("staff", "/cadres/import/"): "import",
    ("cadre", "/"): "home-cadre",
    ("cadre", "/contacts/new/"): "quick-log",
    ("cadre", "/contacts/batch/"): "batch-log",
    ("cadre", "/contacts/youths/{youth}/"): "timeline",
    ("public", "/contacts/ask/"): "ask",
    ("public", "/surveys/vote/"): "vote-entry",
    ("public", "/activities/r/{register_code}/"): "public-register",
}


def _tour(watch: Watch, base: str, who: str, pages: list[str], ids: dict, label: str) -> None:
    for template in pages:
        watch.visit(base + template.format(**ids))
        name = SHOTS.get((who, template))
        if name:
            watch.page.wait_for_timeout(200)  # let transitions settle before the screenshot
            shot(watch.page, f"csp-{name}-{label}")
        watch.assert_clean()


# One case per part of the tour and width (eight, not two), so that xdist spreads the tour over
# its workers; the staff's 42 pages in two halves.
HALF = len(STAFF_PAGES) // 2
TOURS = {
    "staff-1": ("staff", "county", STAFF_PAGES[:HALF]),
    "staff-2": ("staff", "county", STAFF_PAGES[HALF:]),
    "cadre": ("cadre", "cadre", CADRE_PAGES),
    "public": ("public", None, PUBLIC_PAGES),
}


@pytest.mark.parametrize("viewport,label", VIEWPORTS, ids=[v[1] for v in VIEWPORTS])
@pytest.mark.parametrize("who,username,pages", TOURS.values(), ids=TOURS.keys())
def test_main_pages_load_without_csp_violations(
    with_contacts, new_page, viewport, label, who, username, pages
):
    base, ids = with_contacts.url, _ids()
    watch = Watch(new_page(viewport))
    if username is not None:
        login(watch.page, base, username)
    _tour(watch, base, who, pages, ids, label)
    if who == "public":
        watch.visit(f"{base}/no-such-page/", expect_status=404)
        watch.assert_clean()


def test_the_watch_sees_a_violation_when_there_is_one(with_contacts, new_page):
    """The tour can fail: an inline style and an inline script are refused and reported."""
    watch = Watch(new_page(PHONE))
    watch.visit(f"{with_contacts.url}/accounts/login/")
    watch.page.evaluate(
        """() => {
          document.body.insertAdjacentHTML("beforeend", '<div style="color:red">x</div>');
          var s = document.createElement("script");
          s.textContent = "window.__ran = true";
          document.body.appendChild(s);
        }"""
    )
    watch.page.wait_for_timeout(200)
    assert watch.page.evaluate("window.__ran === undefined")
    text = "\n".join(watch.errors)
    assert "style-src" in text and "script-src" in text


@pytest.mark.parametrize("viewport,label", VIEWPORTS, ids=[v[1] for v in VIEWPORTS])
def test_dashboard_charts_draw_and_their_tooltips_pass_the_policy(
    with_contacts, new_page, viewport, label
):
    watch = Watch(new_page(viewport))
    login(watch.page, with_contacts.url, "county")
    watch.visit(f"{with_contacts.url}/assessment/")
    charts = watch.page.locator("[data-chart]")
    expect(charts).to_have_count(5)
    for chart in charts.all():
        assert chart.get_attribute("data-rendered") == "1"
        assert chart.locator("svg, canvas").count() >= 1
        assert chart.bounding_box()["height"] > 200  # the height class reached the chart
    # A tooltip is drawn by ECharts on hover: it must not carry inline styles the policy refuses
    # (ECharts' HTML tooltips do; charts.js asks for tooltips drawn inside the SVG instead).
    weeks = watch.page.locator('[data-chart="weeks"]')
    texts = weeks.locator("svg text").count()
    box = weeks.bounding_box()
    weeks.hover(position={"x": box["width"] * 0.45, "y": box["height"] * 0.6})
    watch.page.wait_for_timeout(500)
    assert weeks.locator("svg text").count() > texts  # the tooltip's lines appeared
    shot(watch.page, f"csp-dashboard-tooltip-{label}")
    watch.assert_clean()


def test_quick_log_filter_and_search_work_from_static_files(with_contacts, new_page):
    from cadres.models import Cadre, Youth

    cadre = Cadre.objects.get(user__username="cadre")
    outside = (
        Youth.objects.filter(organisation=cadre.organisation)
        .exclude(cadre_links__cadre=cadre)
        .order_by("pk")
        .first()
    )
    watch = Watch(new_page(PHONE))
    login(watch.page, with_contacts.url, "cadre")
    watch.visit(f"{with_contacts.url}/contacts/new/")
    page = watch.page
    items = page.locator("#youth-list [data-name]")
    total = items.count()
    name = items.first.get_attribute("data-name")
    page.get_by_label("在我的青年中查找").fill(name)
    visible = page.locator("#youth-list [data-name]:not(.d-none)")
    assert 1 <= visible.count() < total
    page.get_by_label("在我的青年中查找").fill("")
    expect(visible).to_have_count(total)
    # The search of the organisation's other youths (a fetch to a URL read from a data attribute).
    page.locator("#other-youths summary").click()
    page.get_by_label("姓名或手机号后四位").fill(outside.name)
    page.get_by_role("button", name="搜索").click()
    page.locator("#other-results label").first.wait_for()
    page.locator("#other-results input").first.check()
    assert page.locator("#id_link").is_checked()
    page.get_by_label("姓名或手机号后四位").fill("没有这个人")
    page.get_by_role("button", name="搜索").click()
    page.get_by_text("没有找到。").wait_for()
    shot(page, "csp-quick-log-search-phone")
    watch.assert_clean()


def test_batch_log_counts_the_picked_youths(with_contacts, new_page):
    watch = Watch(new_page(PHONE))
    login(watch.page, with_contacts.url, "cadre")
    watch.visit(f"{with_contacts.url}/contacts/batch/")
    boxes = watch.page.locator("#youth-list input[type=checkbox]")
    for i in range(3):
        boxes.nth(i).check()
    expect(watch.page.locator("#picked-count")).to_have_text("3", use_inner_text=True)
    name = watch.page.locator("#youth-list [data-name]").nth(4).get_attribute("data-name")
    watch.page.get_by_label("在我的青年中查找").fill(name)
    assert watch.page.locator("#youth-list [data-name]:not(.d-none)").count() >= 1
    assert watch.page.locator("#youth-list [data-name].d-none").count() >= 1
    watch.assert_clean()


def test_roster_upload_shows_the_spinner(with_contacts, new_page, tmp_path):
    watch = Watch(new_page(PHONE))
    page = watch.page
    login(page, with_contacts.url, "county")
    watch.visit(f"{with_contacts.url}/cadres/import/")
    # Stop the real submission after every listener ran: the spinner is what is under test.
    page.evaluate(
        """() => document.getElementById("roster-form").addEventListener(
             "submit", function (e) { e.preventDefault(); })"""
    )
    assert not page.locator("#roster-busy").is_visible()
    page.locator("#roster-submit").click()
    expect(page.locator("#roster-busy")).to_be_visible()
    assert page.locator("#roster-submit").is_disabled()
    shot(page, "csp-import-busy-phone")
    watch.assert_clean()


def test_confirm_buttons_ask_before_deleting(with_contacts, new_page):
    from contacts.models import Contact

    contact = Contact.objects.filter(cadre__user__username="cadre").order_by("-pk").first()
    watch = Watch(new_page(PHONE))
    page = watch.page
    login(page, with_contacts.url, "cadre")
    watch.visit(f"{with_contacts.url}/contacts/{contact.pk}/")
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    page.get_by_role("button", name="删除").click()
    page.wait_for_timeout(300)
    assert asked == ["确定删除这条联系记录吗？"]
    assert Contact.objects.filter(pk=contact.pk).exists()
    # Accepted, the form is submitted (what the service then decides is its own tests' matter).
    page.once("dialog", lambda d: answer(d, True))
    with page.expect_request(lambda r: r.method == "POST" and "/delete/" in r.url):
        page.get_by_role("button", name="删除").click()
    settle(page)
    assert len(asked) == 2
    watch.assert_clean()


def test_print_buttons_print(with_contacts, new_page):
    from cadres.models import Cadre

    cadre = Cadre.objects.get(user__username="cadre")
    page = new_page(DESKTOP)
    page.add_init_script("window.print = function () { window.__printed = true; };")
    watch = Watch(page)
    login(page, with_contacts.url, "county")
    for url in (f"/cadres/{cadre.pk}/card/", "/assessment/bulletin/", "/assessment/review/"):
        watch.visit(with_contacts.url + url)
        page.get_by_role("button", name=re.compile("打印")).first.click()
        assert page.evaluate("window.__printed === true"), url
    watch.assert_clean()


@pytest.mark.parametrize("size,mm", [("a6", (105, 148)), ("a4", (210, 297))])
def test_printed_card_takes_its_paper_size_from_the_stylesheet(with_contacts, new_page, size, mm):
    """The card's @page size used to be written inline per request; now it is a named page in a
    static stylesheet. Chromium's PDF honours the CSS page size: check the MediaBox."""
    from cadres.models import Cadre

    cadre = Cadre.objects.get(user__username="cadre")
    page = new_page(DESKTOP)
    login(page, with_contacts.url, "county")
    page.goto(f"{with_contacts.url}/cadres/{cadre.pk}/card/?size={size}")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf = page.pdf(path=str(SCREENSHOTS / f"csp-card-{size}.pdf"), prefer_css_page_size=True)
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    width_mm, height_mm = (float(v) * 25.4 / 72 for v in box.groups())
    assert abs(width_mm - mm[0]) < 1.5 and abs(height_mm - mm[1]) < 1.5
