"""Never a 500, whatever the input (STYLE: "clear Chinese errors, never a 500").

Every named URL pattern of the project that takes no argument or integer ids (plus the public
pages keyed by a code or a UUID) is requested as county staff, as a cadre and anonymously, with
garbage in every usual query parameter (pages, dates, years, sort orders, export formats, long
strings, unicode, NUL bytes) and with empty and garbage POST bodies. The ids are those of real
objects of the township the cadre works in, so detail pages render rather than 404.

"""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from cadres.privacy import join_token
from tests.conftest import build_tree, rows_for_module
from tests.factories import (
    ActivityFactory,
    CadreYouthFactory,
    CampaignFactory,
    LiaisonChannelFactory,
    NeedFactory,
    RegistrationFactory,
    log_contact,
)
from tests.page_ids import page_ids, running_export_job, work_plan_with_item

SKIPPED_NAMESPACES: set[str] = set()
SKIPPED_NAMES = {"logout"}  # would end the session half-way through the loop

INT_CONVERTER = "IntConverter"


def _patterns(resolvers=None, prefix=""):
    """(name, {kwarg: converter class name}) for every named pattern we can build args for."""
    out = []
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            if ns in SKIPPED_NAMESPACES:
                continue
            out += _patterns(entry.url_patterns, f"{prefix}{ns}:" if ns else prefix)
        elif isinstance(entry, URLPattern) and entry.name:
            if entry.pattern.regex.groups > len(entry.pattern.converters):
                continue  # a regex pattern with groups (admin's app_list): no plain args
            converters = {k: type(v).__name__ for k, v in entry.pattern.converters.items()}
            if any(
                c not in (INT_CONVERTER, "StringConverter", "UUIDConverter")
                for c in converters.values()
            ):
                continue
            name = f"{prefix}{entry.name}"
            if name.split(":")[-1] in SKIPPED_NAMES:
                continue
            if prefix.startswith("admin:") and converters:
                continue  # admin object pages take <path:object_id>; its lists are covered
            out.append((name, tuple(sorted(converters.items()))))
    return out


PATTERNS = sorted(set(_patterns()))

LONG = "长" * 5000
GARBAGE = ["-1", "abc", "2026-13-45", "';DROP TABLE x;--", LONG, "𠀋🙂<script>", "a\x00b", "9" * 40]
KEYS = [
    "page",
    "per_page",
    "date",
    "date_from",
    "date_to",
    "start",
    "end",
    "year",
    "month",
    "o",
    "sort",
    "q",
    "view",
    "organisation",
    "sector",
    "cadre",
    "status",
    "category",
    "outcome",
    "days",
    "code",
    "branch",
    "needs",
    "size",
    "org",
    "shared",
    "quota_met",
    "overdue",
    "offline",
]


def _querystrings():
    yield {}
    for value in GARBAGE:
        yield dict.fromkeys(KEYS, value)
    for fmt in ("pdf", "csv", "xlsx", "", "../../etc/passwd"):
        yield {"_export": fmt, "page": "abc", "o": "nonexistent", "date_from": "2026-13-45"}
    for per_page in ("-1", "0", "100000000"):
        yield {"per_page": per_page}
    yield {"view": "calendar", "month": "2026-13"}
    yield {"view": "calendar", "month": "99999-1"}
    yield {"view": "calendar", "month": "0-0"}


POST_BODIES = [
    {},
    dict.fromkeys(KEYS, "abc")
    | {
        "action": "assign",
        "step": "cast",
        "youth": "9" * 30,
        "youths": ["abc", "9" * 30],
        "owner_cadre": "9" * 30,
        "channel": "wechat",
        "question": "x\x00y",
        "decision": "approve",
        "vo": "abc",
        "hours": "abc",
        "birth_year": "9" * 30,
    },
    dict.fromkeys(KEYS, LONG) | {"action": "answer", "answer": LONG, "youth": "-1"},
]

# Encoded once per session, not once per request: percent-encoding the 5000-character values
# cost a fifth of the loop's time. The bytes sent are exactly what client.get(url, query) and
# client.post(url, body) would send.
QUERYSTRINGS = [(query, urlencode(query, doseq=True)) for query in _querystrings()]
ENCODED_BODIES = [(body, encode_multipart(BOUNDARY, body)) for body in POST_BODIES]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The loop trips every public rate limiter (failed code guesses, sign-ups): clear the cache
    before and after, so that no later test starts rate-limited."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="module")
def hostile_world(django_db_setup, django_db_blocker):
    """The tree and one of everything, built once for the module's cases, not per case; what a
    garbage POST writes is rolled back after its case (`rows_for_module`)."""

    def build():
        tree = build_tree()
        return tree, _world(tree)

    with rows_for_module(django_db_blocker, build) as rows:
        yield rows


@pytest.fixture
def tree(hostile_world, db):
    return hostile_world[0]


@pytest.fixture
def world(hostile_world, db):
    return hostile_world[1]


def _world(tree):
    """One of everything, in township A, so that id URLs hit real objects."""
    link = CadreYouthFactory(cadre=tree.cadre)
    youth = link.youth
    activity = ActivityFactory(organisation=tree.town_a)
    activity.responsible_cadres.add(tree.cadre)
    registration = RegistrationFactory(activity=activity, youth=youth)
    contact = log_contact(tree.cadre, [youth], by=tree.cadre_user)
    need = NeedFactory(organisation=tree.town_a, owner_cadre=tree.cadre, youth=youth)
    campaign = CampaignFactory(branch=tree.branch_a)
    channel = LiaisonChannelFactory(cadre=tree.cadre)
    plan, plan_item = work_plan_with_item(tree.town_a, activity.starts_at.year)
    objects = {
        "cadre": tree.cadre,
        "organisation": tree.town_a,
        "youth": youth,
        "channel": channel,
        "contact": contact,
        "need": need,
        "campaign": campaign,
        "plan": plan,
        "plan_item": plan_item,
        "export_job": running_export_job(tree.county),
    }
    ids = page_ids(objects)
    return {
        "ids": ids,
        "activity": activity,
        "registration": registration,
        "campaign": campaign,
        "youth": youth,
        "join_token": join_token(tree.cadre),
    }


def _urls(name, converters, world):
    """The URL with real ids, and once more with an id no database integer can hold."""
    real, huge = {}, {}
    for key, conv in converters:
        if conv == INT_CONVERTER:
            real[key] = world["ids"].get(name, world["activity"].pk)
            huge[key] = 10**30
        elif conv == "UUIDConverter":
            real[key] = world["campaign"].public_id
            huge[key] = uuid.UUID(int=0)
        elif name == "picker":  # /pickers/<kind>/: a real kind, and a hostile one
            real[key] = "youth"
            huge[key] = "%00<script>" + "x" * 300
        elif name in ("join", "join_done"):  # a cadre's signed "加入联系" token
            real[key] = world["join_token"]
            huge[key] = "%00<script>" + "x" * 300
        else:
            real[key] = (
                world["activity"].checkin_code
                if "checkin" in name
                else world["activity"].register_code
            )
            huge[key] = "%00<script>" + "x" * 300
    urls = [reverse(name, kwargs=real)]
    if converters:
        urls.append(reverse(name, kwargs=huge))
    return urls


USERS = ["county", "cadre_user", None]


@pytest.mark.parametrize("who", USERS, ids=["county", "cadre", "anonymous"])
@pytest.mark.parametrize(("name", "converters"), PATTERNS, ids=[p[0] for p in PATTERNS])
def test_no_server_error(client, tree, world, name, converters, who, settings):
    settings.LIANQING_ASK_RATE = 10_000  # the loop posts many times from one address
    if who is not None:
        client.force_login(getattr(tree, who))
    client.raise_request_exception = True
    failures = []

    def attempt(method, url, data, encoded_body=None):
        try:
            if method == "get":  # the query string is already in the url
                status = client.get(url).status_code
            else:
                status = client.generic("POST", url, encoded_body, MULTIPART_CONTENT).status_code
        except Exception as exc:  # noqa: BLE001 - every crash is reported, with its input
            status = f"{type(exc).__name__}: {str(exc)[:200]}"
        if not isinstance(status, int) or status >= 500:
            shown = {k: (v[:20] if isinstance(v, str) else v) for k, v in list(data.items())[:3]}
            failures.append((method.upper(), url[:80], shown, status))

    for url in _urls(name, converters, world):
        for query, encoded in QUERYSTRINGS:
            attempt("get", f"{url}?{encoded}" if encoded else url, query)
        for body, encoded in ENCODED_BODIES:
            attempt("post", url, body, encoded)
    assert not failures


def test_patterns_cover_every_app():
    names = {name for name, _ in PATTERNS}
    for expected in (
        "home",
        "cadres:list",
        "cadres:youth_detail",
        "contacts:youth_search",
        "contacts:ask_cadre",
        "surveys:vote",
        "surveys:receipts",
        "activities:public_register",
        "activities:public_checkin",
        "activities:projects",
    ):
        assert expected in names
