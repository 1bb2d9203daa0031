"""/cadres/rules/ (issue 15 item 2): the quota per cadre type and the field list, changed by the
programme committee only (as in admin); a township's staff, a cadre and an outsider get 404;
a quota change moves the cadre list at once and schedules the scores."""

from __future__ import annotations

from unittest import mock

import pytest

from cadres.models import QuotaRule, Sector
from cadres.selectors import cadre_progress_list
from tests.factories import SectorFactory

pytestmark = pytest.mark.django_db
URL = "/cadres/rules/"


def test_the_committee_sets_a_quota_and_the_lists_follow(client, tree):
    SectorFactory.create_batch(5)
    client.force_login(tree.county)
    assert client.get(URL).status_code == 200
    with mock.patch("assessment.freshness.numbers_changed") as changed:
        response = client.post(
            URL,
            {
                "form": "quota",
                "cadre_type": "full_time",
                "full_time-cadre_type": "full_time",
                "full_time-quota": "60",
                "full_time-min_sectors": "3",
                "full_time-min_channels": "4",
            },
        )
    assert response.status_code == 302 and changed.called
    rule = QuotaRule.objects.get(cadre_type="full_time")
    assert (rule.quota, rule.min_sectors, rule.min_channels) == (60, 3, 4)
    cadre = cadre_progress_list(user=tree.county).get(pk=tree.cadre.pk)
    assert cadre.quota == 60


def test_bad_numbers_get_chinese_errors_and_nothing_changes(client, tree):
    client.force_login(tree.county)
    response = client.post(
        URL,
        {
            "form": "quota",
            "cadre_type": "full_time",
            "full_time-cadre_type": "full_time",
            "full_time-quota": "0",
            "full_time-min_sectors": "99",
            "full_time-min_channels": "x",
        },
    )
    assert response.status_code == 400
    assert not QuotaRule.objects.exists()


def test_the_committee_adds_and_switches_off_a_field(client, tree):
    client.force_login(tree.county)
    data = {"form": "sector", "name": "新就业群体", "code": "new-economy", "sort_order": "9"}
    assert client.post(URL, {**data, "is_active": "on"}).status_code == 302
    sector = Sector.objects.get(code="new-economy")
    assert sector.is_active
    assert client.post(URL, {**data, "sector": sector.pk}).status_code == 302
    sector.refresh_from_db()
    assert not sector.is_active
    dup = client.post(URL, {**data, "code": "other", "is_active": "on"})
    assert dup.status_code == 400 and Sector.objects.count() == 1


@pytest.mark.parametrize("who", ["owner", "cadre_user", "outsider"])
def test_below_the_committee_it_is_404(client, tree, who):
    client.force_login(getattr(tree, who))
    assert client.get(URL).status_code == 404
    response = client.post(URL, {"form": "sector", "name": "x", "code": "x", "sort_order": "0"})
    assert response.status_code == 404
    assert not Sector.objects.exists()


def test_page_queries_are_bounded(client, tree, django_assert_max_num_queries):
    SectorFactory.create_batch(12)
    client.force_login(tree.county)
    with django_assert_max_num_queries(8):
        assert client.get(URL).status_code == 200
