"""The assessment reads the other apps through their own services and selectors, for real:
a closed ballot, activity attendance and contact logs made by their services."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from assessment import services, sources
from assessment.models import CadreScore
from cadres.models import Organisation
from surveys import campaigns as survey_campaigns
from surveys import services as survey_services
from surveys import settlement as survey_settlement
from tests.factories import CadreFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def _closed_ballot(tree, secretary, answers: list[str]):
    """A real campaign on the secretary: codes, ballot box, votes through ballot_cast, close,
    settlement with two of the three scrutineers' shares."""
    now = timezone.now()
    campaign = survey_campaigns.campaign_create(
        branch=secretary.organisation,
        secretary=secretary,
        year=now.year,
        electorate=len(answers),
        opens_at=now - datetime.timedelta(hours=2),
        closes_at=now + datetime.timedelta(days=1),
        aspects=[],
        by=tree.county,
    )
    codes = survey_services.codes_generate(campaign=campaign, by=tree.county)
    shares = survey_services.ballot_box_open(campaign=campaign, by=tree.county)
    for code, overall in zip(codes, answers, strict=True):
        survey_services.ballot_cast(code=code, campaign_id=campaign.pk, overall=overall, aspects=[])
    survey_services.campaign_close(campaign=campaign, by=tree.county)
    return survey_settlement.campaign_settle(campaign=campaign, shares=shares[:2], by=tree.county)


def _secretary(tree):
    branch = OrganisationFactory(kind=Organisation.Kind.BRANCH, parent=tree.town_a)
    return CadreFactory(organisation=branch, is_branch_secretary=True, position="团支部书记")


def test_a_real_closed_ballot_reaches_the_secretary_score(tree):
    year = timezone.localdate().year
    happy, unhappy = _secretary(tree), _secretary(tree)
    satisfied = _closed_ballot(tree, happy, ["satisfied"] * 5 + ["basic"])
    failed = _closed_ballot(tree, unhappy, ["not_satisfied"] * 4 + ["satisfied"] * 2)
    assert (satisfied.outcome, failed.outcome) == ("satisfied", "not_satisfied")
    result = sources.ballot_outcomes(year=year, cadre_ids=[happy.pk, unhappy.pk])
    assert result.status == "ok"
    assert result.data == {happy.pk: "satisfied", unhappy.pk: "not_satisfied"}
    run = services.scores_compute(period=str(year))
    assert run.sources == {"ballots": "ok"}
    scores = {s.cadre_id: s for s in CadreScore.objects.filter(period=str(year))}
    assert scores[happy.pk].c_ballot == 1.0 and scores[unhappy.pk].c_ballot == 0.0
    assert scores[happy.pk].score > scores[unhappy.pk].score


def test_activity_totals_come_from_the_activities_app(tree):
    from activities import services as activity_services
    from activities.models import Activity
    from tests.factories import CadreYouthFactory

    # An hour ago, but never before local midnight: the totals are asked for "today", and in the
    # hour after midnight (Asia/Shanghai) an hour ago is yesterday.
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(timezone.now() - datetime.timedelta(hours=1), midnight)
    activity = Activity.objects.create(
        title="志愿服务",
        category=Activity.Category.VOLUNTEER,
        organisation=tree.town_a,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=3),
        status="open",
    )
    youth = CadreYouthFactory(cadre=tree.cadre).youth
    (registration,) = activity_services.registrations_add(
        activity=activity, youths=[youth], by=tree.owner
    )
    activity_services.checkin(registration=registration, by=tree.owner)
    today = timezone.localdate()
    result = sources.activity_totals(
        user=tree.county, organisation=tree.banner, start=today, end=today
    )
    assert result.status == "ok"
    totals = result.data
    assert totals["activities"] == 1 and totals["participants"] == 1
    # Attendance became contact for the linked cadre, without re-entry.
    assert tree.cadre.contacts.filter(activity=activity).exists()
    assert Decimal(str(totals["volunteer_hours"])) >= 0
