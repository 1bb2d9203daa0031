"""Every page's query count is independent of the data size (issue 16 item 1).

Every GET page the hostile-input walker knows (tests/test_hostile_input.py: PATTERNS) is opened
twice, as the same kind of user over two subtrees of the same shape: township A holds one of
everything, township C six times as much (cadres, youths, links, contacts, needs, activities,
registrations, branches, ballots) with the period's scores, flags and statistics computed. A page
that runs a query per row, per organisation or per cadre shows it as more queries for C; the
counts must be equal. Staff pages are opened by each township's staff, cadre pages by a cadre
of each township.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cadres.models import Organisation, User
from tests.conftest import build_tree, rows_for_module
from tests.factories import (
    ActivityFactory,
    CadreFactory,
    CadreYouthFactory,
    CampaignFactory,
    LiaisonChannelFactory,
    NeedFactory,
    OrganisationFactory,
    RegistrationFactory,
    UserFactory,
    log_contact,
)
from tests.page_ids import page_ids
from tests.test_hostile_input import INT_CONVERTER, PATTERNS

# Pages that are not one page per URL: a redirect, a file or an action behind a GET.
NOT_PAGES = {"logout", "healthz", "favicon", "manifest", "service_worker"}

SMALL, BIG = 1, 6


def _populate(org: Organisation, cadre, cadre_user: User, n: int) -> dict[str, int]:
    """n of everything in `org` (n=1: one of everything); returns the ids detail pages need."""
    for i in range(n):
        OrganisationFactory(name=f"{org.name}第{i + 2}团支部", kind="branch", parent=org)
    links = CadreYouthFactory.create_batch(3 * n, cadre=cadre)
    youths = [link.youth for link in links]
    for i in range(n):
        other = CadreFactory(organisation=org, name=f"{org.name}干部{i}")
        CadreYouthFactory(cadre=other)
        LiaisonChannelFactory(cadre=cadre, name=f"{org.name}渠道{i}")
    contacts = [
        log_contact(cadre, youths[i : i + 2], by=cadre_user, channel=("wechat", "talk")[i % 2])
        for i in range(3 * n)
    ]
    needs = [NeedFactory(organisation=org, owner_cadre=cadre, youth=y) for y in youths[:n]]
    activities = []
    for _ in range(n):
        activity = ActivityFactory(organisation=org)
        activity.responsible_cadres.add(cadre)
        for youth in youths[:2]:
            RegistrationFactory(activity=activity, youth=youth)
        activities.append(activity)
    branch = Organisation.objects.filter(parent=org, kind="branch").order_by("pk").first()
    campaign = CampaignFactory(branch=branch)
    channel = cadre.channels.order_by("pk").first()
    youth, contact, need = youths[0], contacts[0], needs[0]
    objects = {
        "cadre": cadre,
        "organisation": org,
        "youth": youth,
        "channel": channel,
        "contact": contact,
        "need": need,
        "campaign": campaign,
    }
    return {
        **page_ids(objects),
        "_activity": activities[0].pk,
        "_youth": youth.pk,
        "_campaign_uuid": campaign.public_id,
        "_register_code": activities[0].register_code,
        "_checkin_code": activities[0].checkin_code,
    }


def _world():
    from assessment import services as assessment_services
    from assessment.periods import period_containing

    tree = build_tree()
    town_c = OrganisationFactory(name="丙镇团委", kind="township", parent=tree.banner)
    big_cadre_user = UserFactory(username="cadre_c", organisation=town_c, role=User.Role.CADRE)
    big_cadre = CadreFactory(name="丙镇干部", organisation=town_c, user=big_cadre_user)
    big_staff = UserFactory(username="owner_c", organisation=town_c, role=User.Role.STAFF)
    small_ids = _populate(tree.town_a, tree.cadre, tree.cadre_user, SMALL)
    big_ids = _populate(town_c, big_cadre, big_cadre_user, BIG)
    today = timezone.localdate()
    run = assessment_services.scores_compute(period=period_containing(today), today=today)
    assessment_services.contact_stats_compute(run=run, today=today)
    # The padding detection flags C's burst of logs, not A's three: give A the same finding,
    # so that both integrity lists have rows (an empty page skips its row query).
    from assessment.models import IntegrityFinding

    finding = IntegrityFinding.objects.get(run=run, cadre=big_cadre)
    big_ids["assessment:integrity_detail"] = finding.pk
    finding.pk, finding.cadre, finding.organisation = None, tree.cadre, tree.town_a
    finding.save()
    # Each detail page its own finding: without, the page got an activity's id, a finding of
    # one township, the other's or none as the database's sequences happened to stand (a 200
    # against a 404, seen when the module ran after the hostile-input walk).
    small_ids["assessment:integrity_detail"] = finding.pk
    return {
        "staff": ((tree.owner, small_ids), (big_staff, big_ids)),
        "cadre": ((tree.cadre_user, small_ids), (big_cadre_user, big_ids)),
    }


@pytest.fixture(scope="module")
def sized_world(django_db_setup, django_db_blocker):
    """Built once for the module, in a transaction rolled back at its end (as the walker's)."""
    with rows_for_module(django_db_blocker, _world) as world:
        yield world


def _url(name: str, converters, ids: dict) -> str:
    kwargs = {}
    for key, conv in converters:
        if conv == INT_CONVERTER:
            # A youth page added later (…/youths/<pk>/…) gets the youth, as in the walker's ids.
            default = ids["_youth"] if name.startswith("cadres:youth_") else ids["_activity"]
            kwargs[key] = ids.get(name, default)
        elif conv == "UUIDConverter":
            kwargs[key] = ids["_campaign_uuid"]
        else:
            kwargs[key] = ids["_checkin_code"] if "checkin" in name else ids["_register_code"]
    return reverse(name, kwargs=kwargs)


GET_PATTERNS = [
    p
    for p in PATTERNS
    if p[0].split(":")[-1] not in NOT_PAGES and p[0] not in ("join", "join_done")
]


def _count(client, user, url) -> tuple[int, int]:
    client.force_login(user)
    client.get(url)  # once untimed: session, caches and lazy per-process state settle
    with CaptureQueriesContext(connection) as queries:
        status = client.get(url).status_code
    return status, len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["staff", "cadre"])
@pytest.mark.parametrize(("name", "converters"), GET_PATTERNS, ids=[p[0] for p in GET_PATTERNS])
def test_query_count_does_not_grow_with_the_data(client, sized_world, name, converters, role):
    from django.core.cache import cache

    (small_user, small_ids), (big_user, big_ids) = sized_world[role]
    cache.clear()
    small = _count(client, small_user, _url(name, converters, small_ids))
    client.logout()
    cache.clear()
    big = _count(client, big_user, _url(name, converters, big_ids))
    assert small[0] == big[0], f"status {small[0]} with one of everything, {big[0]} with {BIG}"
    assert big[1] <= small[1], (
        f"{name} as {role}: {small[1]} queries with one of everything, {big[1]} with {BIG}×"
    )
