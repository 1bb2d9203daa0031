"""The outcome closes the loop: a not-satisfied ballot opens the re-election, its result changes
the branch's secretary (the old one's office ended, kept), the next campaign rates the new one,
and a second campaign for the same branch, secretary and year is refused."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cadres.models import Cadre
from surveys import campaigns, settlement
from surveys.forms import CampaignForm
from surveys.models import Campaign, Outcome, ReelectionProcedure
from surveys.selectors import branch_choices
from tests.factories import CadreFactory, CampaignFactory
from tests.surveys.helpers import branch_secretary, close_now, open_campaign, vote

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year


def _not_satisfied(tree, secretary=None):
    campaign, codes = open_campaign(tree, electorate=6, secretary=secretary)
    for code in codes[:5]:
        vote(code, campaign, overall="not_satisfied")
    campaign = close_now(campaign, by=tree.county)  # ended and settled now, by staff
    assert campaign.outcome == Outcome.NOT_SATISFIED
    return campaign


def test_result_changes_the_secretary_and_keeps_the_old_ones_history(tree):
    campaign = _not_satisfied(tree)
    old = campaign.secretary
    procedure = ReelectionProcedure.objects.get(campaign=campaign)
    today = timezone.localdate()
    procedure = settlement.reelection_result_record(
        procedure=procedure, elected_on=today, name="新书记", gender="F", by=tree.county
    )
    new = procedure.new_secretary
    assert procedure.status == ReelectionProcedure.Status.DONE
    assert (new.name, new.organisation_id, new.is_branch_secretary) == (
        "新书记",
        tree.branch_a.pk,
        True,
    )
    old.refresh_from_db()
    assert old.is_branch_secretary is False and old.active_until == today
    assert Cadre.objects.filter(pk=old.pk).exists()
    assert old.history.count() >= 2  # the registry's history shows the change
    # Recorded once.
    with pytest.raises(ValidationError, match="已经登记"):
        settlement.reelection_result_record(
            procedure=procedure, elected_on=today, name="又一位", gender="M", by=tree.county
        )


def test_the_next_campaign_rates_the_new_secretary(tree):
    campaign = _not_satisfied(tree)
    procedure = ReelectionProcedure.objects.get(campaign=campaign)
    successor = CadreFactory(organisation=tree.branch_a, name="支委乙")
    settlement.reelection_result_record(
        procedure=procedure, elected_on=timezone.localdate(), successor=successor, by=tree.county
    )
    form = CampaignForm(branches=branch_choices(user=tree.county))
    assert list(form.fields["secretary"].queryset) == [successor]
    now = timezone.now()
    kwargs = {
        "branch": tree.branch_a,
        "year": YEAR,
        "electorate": 6,
        "opens_at": now + datetime.timedelta(days=1),
        "closes_at": now + datetime.timedelta(days=2),
        "by": tree.county,
    }
    with pytest.raises(ValidationError) as exc:
        campaigns.campaign_create(secretary=campaign.secretary, **kwargs)
    assert "secretary" in exc.value.message_dict
    new_campaign = campaigns.campaign_create(secretary=successor, **kwargs)
    assert new_campaign.secretary == successor


def test_only_staff_above_record_the_result(tree):
    campaign = _not_satisfied(tree)
    procedure = ReelectionProcedure.objects.get(campaign=campaign)
    with pytest.raises(ValidationError):
        settlement.reelection_result_record(
            procedure=procedure,
            elected_on=timezone.localdate(),
            name="某",
            gender="M",
            by=tree.outsider,
        )
    assert Cadre.objects.get(pk=campaign.secretary_id).is_branch_secretary


def test_result_form_errors_keep_what_was_typed_and_outsider_gets_404(client, tree):
    campaign = _not_satisfied(tree)
    url = f"/surveys/campaigns/{campaign.pk}/reelection/result/"
    client.force_login(tree.outsider)
    assert client.post(url, {"elected_on": "2020-01-01", "name": "x"}).status_code == 404
    client.force_login(tree.county)
    response = client.post(url, {"elected_on": "2000-01-01", "name": "王新", "gender": "M"})
    assert response.status_code == 400
    assert "改选日期不能早于测评结算日期" in response.text and 'value="王新"' in response.text
    response = client.post(
        url, {"elected_on": timezone.localdate().isoformat(), "name": "王新", "gender": "M"}
    )
    assert response.status_code == 302
    page = client.get(f"/surveys/campaigns/{campaign.pk}/")
    assert "王新 任团支部书记" in page.text


def test_second_campaign_same_branch_secretary_year_is_refused(tree):
    secretary = branch_secretary(tree)
    CampaignFactory(branch=tree.branch_a, secretary=secretary, year=YEAR)
    now = timezone.now()
    with pytest.raises(ValidationError) as exc:
        campaigns.campaign_create(
            branch=tree.branch_a,
            secretary=secretary,
            year=YEAR,
            electorate=5,
            opens_at=now,
            closes_at=now + datetime.timedelta(days=1),
            by=tree.county,
        )
    assert "每年只测评一次" in exc.value.message_dict["secretary"][0]
    # The database refuses it too, whatever writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignFactory(branch=tree.branch_a, secretary=secretary, year=YEAR)


def test_an_invalid_ballot_may_be_rerun_the_same_year(tree):
    campaign, codes = open_campaign(tree, electorate=10)
    vote(codes[0], campaign)
    campaign = close_now(campaign)
    assert campaign.outcome == Outcome.INVALID
    again = CampaignFactory(branch=tree.branch_a, secretary=campaign.secretary, year=campaign.year)
    assert Campaign.objects.filter(secretary=campaign.secretary, year=campaign.year).count() == 2
    assert again.pk
