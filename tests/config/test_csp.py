"""The Content Security Policy (config/settings/base.py) and the templates that make it possible.

1. Every template file under templates/ is free of inline code: no <script> without src (JSON
   data blocks excepted), no <style>, no style="" or on…="" attributes, no javascript: links.
2. Every named page of every app, requested as committee staff, as a cadre and anonymously
   (the public vote, needs form, sign-up and check-in pages included), answers with the strict
   policy, and its rendered HTML has none of the above either (templates render widgets, tables
   and partials the file scan cannot see). The walk must render every project template but the
   few reachable only through a POST or a rare state, which are rendered here explicitly.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import (
    ActivityFactory,
    CadreYouthFactory,
    LiaisonChannelFactory,
    NeedFactory,
    RegistrationFactory,
    SectorFactory,
    log_contact,
)
from tests.page_ids import page_ids, running_export_job, work_plan_with_item
from tests.surveys.helpers import open_campaign
from tests.test_hostile_input import PATTERNS, _urls

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
DATA_SCRIPT_TYPES = {"application/json"}


class InlineCode(HTMLParser):
    """Collects what a strict policy (no 'unsafe-inline') would refuse in one HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        kind = (attributes.get("type") or "").lower()
        if tag == "script" and "src" not in attributes and kind not in DATA_SCRIPT_TYPES:
            self.found.append(f"inline <script {attributes}>")
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            url = name in ("href", "src", "action") and (value or "").strip().lower()
            if name == "style" or name.startswith("on") or (url and url.startswith("javascript:")):
                self.found.append(f"<{tag} {name}={value!r}>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def test_the_checker_finds_each_kind_of_inline_code():
    """The walk below can fail: every pattern it must refuse is recognised."""
    found = inline_code(
        '<script>alert(1)</script><script type="module">x()</script><style>p{}</style>'
        '<p style="color:red" onclick="x()"></p><a href="javascript:x()">x</a>'
        '<script id="d" type="application/json">{"a": 1}</script><script src="/s.js"></script>'
    )
    assert len(found) == 6, found


# --- 1. The template files ---------------------------------------------------------------------

FILE_PATTERNS = {
    "inline <script>": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "<style>": re.compile(r"<style[\s>]", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event-handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_template_file_has_no_inline_code(path):
    text = path.read_text(encoding="utf-8")
    problems = [kind for kind, pattern in FILE_PATTERNS.items() if pattern.search(text)]
    assert problems == []


# --- 2. The rendered pages ---------------------------------------------------------------------


@pytest.fixture
def world(tree):
    """One of everything in township A (ids for the URL patterns), a computed score run for the
    dashboard's charts, and roster imports in each state."""
    from django.utils import timezone

    from activities.models import EntrepreneurshipProject
    from assessment import services as assessment_services
    from assessment.models import SupervisionCase
    from assessment.periods import period_containing
    from cadres.models import RosterImport

    link = CadreYouthFactory(cadre=tree.cadre)
    youth = link.youth
    channel = LiaisonChannelFactory(cadre=tree.cadre)
    activity = ActivityFactory(organisation=tree.town_a)
    activity.responsible_cadres.add(tree.cadre)
    registration = RegistrationFactory(activity=activity, youth=youth)
    contact = log_contact(tree.cadre, [youth], by=tree.cadre_user, channel="talk", notes="a\nb")
    need = NeedFactory(organisation=tree.town_a, owner_cadre=tree.cadre, youth=youth)
    campaign, codes = open_campaign(tree, electorate=3)
    from surveys.models import Member

    member = Member.objects.create(
        branch=tree.branch_a, name="团员", birth_year=2000, joined_on=timezone.localdate()
    )
    run = assessment_services.scores_compute(period=period_containing(timezone.localdate()))
    assessment_services.contact_stats_compute(run=run)
    invalid = RosterImport.objects.create(
        organisation=tree.town_a,
        filename="bad.csv",
        status=RosterImport.Status.INVALID,
        errors=[{"row": 2, "column": "手机号", "problem": "格式不正确"}],
        created_by=tree.owner,
    )
    project = EntrepreneurshipProject.objects.create(
        name="沙棘饮品", youth=youth, organisation=tree.town_a, field="农产品加工"
    )
    case = SupervisionCase.objects.create(
        cadre=tree.cadre, organisation=tree.town_a, opened_by=tree.county
    )
    from assessment.models import IntegrityFinding

    finding = IntegrityFinding.objects.create(
        run=run,
        cadre=tree.cadre,
        organisation=tree.town_a,
        period=run.period,
        codes="batch_log",
        signals=[
            {
                "code": "batch_log",
                "value": 1,
                "detail": {"logs": 1, "largest": 1},
                "contacts": [contact.pk],
                "youths": [youth.pk],
            }
        ],
        computed_at=timezone.now(),
    )
    plan, plan_item = work_plan_with_item(tree.town_a, activity.starts_at.year)
    objects = {
        "cadre": tree.cadre,
        "organisation": tree.town_a,
        "branch": tree.branch_a,
        "youth": youth,
        "channel": channel,
        "contact": contact,
        "need": need,
        "campaign": campaign,
        "member": member,
        "roster_import": invalid,
        "project": project,
        "case": case,
        "finding": finding,
        "plan": plan,
        "plan_item": plan_item,
        "export_job": running_export_job(tree.county),
    }
    ids = page_ids(objects)
    # The erasure confirmation page is for staff holding its permission.
    from django.contrib.auth.models import Permission

    from cadres.privacy import join_token

    tree.county.user_permissions.add(Permission.objects.get(codename="erase_youth"))
    return {
        "ids": ids,
        "activity": activity,
        "registration": registration,
        "campaign": campaign,
        "codes": codes,
        "youth": youth,
        "join_token": join_token(tree.cadre),
    }


USERS = ["county", "cadre_user", None]
# Pages a GET cannot reach (POST-only actions) or that need a state of their own: rendered by
# test_post_only_pages_pass_the_policy instead. Error pages for anonymous users render 404.html.
NOT_WALKED = {
    "surveys/code_slips.html",  # POST codes_generate: the codes are shown once
    "surveys/vote_ballot.html",  # a valid voting code
    "surveys/vote_done.html",  # a cast ballot
    "activities/too_many.html",  # a tripped rate limit
    "registration/locked_out.html",  # an axes lockout
    "registration/logged_out.html",  # unused: logout redirects to the login page
    "registration/password_change_done.html",
    "contacts/ask_done.html",  # after a public need is submitted
    "contacts/meeting_confirm.html",  # a 见面码 of this minute
    "contacts/meeting_done.html",  # after a youth confirmed a meeting
    "contacts/share_confirm.html",  # a valid share link
    "contacts/share_done.html",  # after a youth answered a share link
    "500.html",
    "503.html",  # the database unreachable: tests/reliability/test_broker_down.py
    "surveys/share_slips.html",  # POST ballot_box_open: the scrutineers' shares are shown once
    "benchmark/floor.html",  # served only by benchmark_pages (LIANQING_BENCHMARK)
    "surveys/settle.html",  # the scrutineers' screen: reached below, after voting ends
    "contacts/need_status.html",  # the asker's signed status link, given after asking
    # Two ids in one URL (activity and team): tests/activities/test_teams.py checks its policy.
    "activities/teams/detail.html",
}


def _check(response, where: str, failures: list[str]) -> None:
    if response.status_code >= 300 or not response.get("Content-Type", "").startswith("text/html"):
        return
    policy = response.get("Content-Security-Policy", "")
    if "default-src 'self'" not in policy or "unsafe-inline" in policy:
        failures.append(f"{where}: policy {policy!r}")
    for problem in inline_code(response.content.decode()):
        failures.append(f"{where}: {problem}")


def test_every_page_carries_the_policy_and_renders_no_inline_code(client, tree, world):
    failures: list[str] = []
    rendered: set[str] = set()
    html_pages = 0
    for who in USERS:
        client.logout()
        if who is not None:
            client.force_login(getattr(tree, who))
        for name, converters in PATTERNS:
            url = _urls(name, converters, world)[0]
            for query in ({}, {"view": "calendar"}) if name == "activities:list" else ({},):
                response = client.get(url, query)
                _check(response, f"{who or 'anonymous'} GET {url}", failures)
                if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                    html_pages += 1
                rendered |= {t.name for t in response.templates if t.name}
    assert failures == [], "\n".join(failures)
    assert html_pages > 100
    project = {str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")}
    missed = project - rendered - NOT_WALKED
    assert missed == set(), "walk these pages too (give the fixture the data they need)"


def test_post_only_pages_pass_the_policy(client, tree, world, settings):
    """The pages NOT_WALKED names, each reached the way people reach it."""
    from django.core.cache import cache

    failures: list[str] = []
    campaign = world["campaign"]
    vote = reverse("surveys:vote")
    pages = []
    client.force_login(tree.county)
    slips = client.post(reverse("surveys:codes_generate", args=[campaign.pk]))
    pages.append(("code slips", slips))
    pages.append(("settle", client.get(reverse("surveys:campaign_settle", args=[campaign.pk]))))
    code = re.findall(r"<code>([A-Z0-9-]{19})</code>", slips.content.decode())[0]
    unsealed, _codes = open_campaign(tree, electorate=3, seal=False, year=campaign.year - 1)
    pages.append(
        ("share slips", client.post(reverse("surveys:ballot_box_open", args=[unsealed.pk])))
    )
    client.logout()
    pages.append(("ballot", client.get(vote, {"code": code})))
    ballot = {"step": "cast", "code": code, "campaign": campaign.pk, "overall": "satisfied"}
    ballot |= {f"aspect_{i}": "basic" for i in range(len(campaign.aspects))}
    pages.append(("vote done", client.post(vote, ballot)))
    settings.LIANQING_ASK_RATE = 10_000
    ask = {"question": "想了解创业贷款", "category": "other", "anonymous": "on"}
    pages.append(("ask done", client.post(reverse("contacts:ask"), ask, follow=True)))
    from contacts.models import Need
    from contacts.need_status import need_status_token

    asked = Need.objects.latest("pk")
    Need.objects.filter(pk=asked.pk).update(status="answered", answer="可以申请创业担保贷款。")
    status_url = reverse("contacts:need_status", args=[need_status_token(asked)])
    pages.append(("need status", client.get(status_url)))
    cache.clear()
    for _ in range(40):  # trip the sign-up rate limit
        last = client.post(
            reverse("activities:public_register", args=[world["activity"].register_code]), {}
        )
    pages.append(("too many", last))
    cache.clear()
    from contacts import confirmations as conf

    youth = world["youth"]
    youth.phone = "13900001111"
    youth.save()
    meet = f"/contacts/m/{conf.meeting_code(cadre_id=tree.cadre.pk)}/"
    pages.append(("meeting confirm", client.get(meet)))
    done = {"ticket": conf.meeting_ticket(cadre_id=tree.cadre.pk), "phone": youth.phone}
    pages.append(("meeting done", client.post(reverse("contacts:meet_confirm"), done)))
    share = reverse(
        "contacts:share", args=[conf.share_token(contact_id=world["ids"]["contacts:detail"])]
    )
    pages.append(("share confirm", client.get(share)))
    pages.append(("share done", client.post(share, {"last4": "1111", "answer": "yes"})))
    client.force_login(tree.owner)
    SectorFactory(code="e", name="企业青年")
    upload = SimpleUploadedFile(
        "名单.csv", "姓名,性别,出生年份,领域,单位,手机号\n".encode(), "text/csv"
    )
    pages.append(
        (
            "import",
            client.post(
                reverse("cadres:import"),
                {"file": upload, "organisation__pk": tree.town_a.pk, "cadre__pk": tree.cadre.pk},
                follow=True,
            ),
        )
    )
    rendered = set()
    for label, response in pages:
        assert response.status_code in (200, 429), label
        _check(response, label, failures)
        rendered |= {t.name for t in response.templates if t.name}
    assert failures == [], "\n".join(failures)
    assert {
        "surveys/code_slips.html",
        "surveys/vote_ballot.html",
        "surveys/vote_done.html",
        "contacts/ask_done.html",
        "contacts/need_status.html",
        "activities/too_many.html",
        "cadres/import_detail.html",
        "surveys/share_slips.html",
        "surveys/settle.html",
        "contacts/meeting_confirm.html",
        "contacts/meeting_done.html",
        "contacts/share_confirm.html",
        "contacts/share_done.html",
    } <= rendered


def test_the_policy_is_strict():
    from django.test import Client

    response = Client().get(reverse("login"))
    directives = dict(
        (part.split(" ", 1) + [""])[:2] for part in response["Content-Security-Policy"].split("; ")
    )
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]
