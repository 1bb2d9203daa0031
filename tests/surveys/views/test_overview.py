from __future__ import annotations

import pytest

from tests.factories import OrganisationFactory, UserFactory
from tests.surveys.helpers import branch_secretary, close_now, open_campaign, vote

pytestmark = pytest.mark.django_db
URL = "/surveys/"


def test_county_sees_campaign_with_turnout_but_no_tallies_while_open(client, tree):
    campaign, codes = open_campaign(tree, electorate=6)
    for code in codes[:5]:
        vote(code, campaign, overall="not_satisfied")
    client.force_login(tree.county)
    response = client.get(URL)
    assert response.status_code == 200
    assert "甲镇第一团支部" in response.text and "投票中" in response.text
    row = response.context["table"].rows[0]
    assert row.get_cell("turnout") == 5
    assert row.get_cell("outcome") == "—" and row.get_cell("satisfaction_rate") == "—"
    assert "不满意</td>" not in response.text


def test_closed_results_show_rate_only_above_small_group_threshold(client, tree):
    small, codes = open_campaign(tree, electorate=3)
    for code in codes:
        vote(code, small)
    close_now(small)
    client.force_login(tree.county)
    row = client.get(URL).context["table"].rows[0]
    assert row.get_cell("outcome") == "满意" and row.get_cell("satisfaction_rate") == "—"


def test_outsider_does_not_see_other_subtree(client, tree):
    open_campaign(tree)
    client.force_login(tree.outsider)
    response = client.get(URL)
    assert response.status_code == 200
    assert "甲镇第一团支部" not in response.text


def test_cadre_gets_404(client, tree):
    client.force_login(tree.cadre_user)
    assert client.get(URL).status_code == 404


def test_secretary_and_branch_staff_do_not_see_own_campaign(client, tree):
    secretary_user = UserFactory(organisation=tree.town_a, role="staff")
    open_campaign(tree, secretary=branch_secretary(tree, user=secretary_user))
    branch_staff = UserFactory(organisation=tree.branch_a, role="staff")
    for user in (secretary_user, branch_staff):
        client.force_login(user)
        response = client.get(URL)
        assert response.status_code == 200
        assert len(response.context["table"].rows) == 0


def test_branches_not_yet_evaluated(client, tree):
    OrganisationFactory(name="甲镇第二团支部", kind="branch", parent=tree.town_a)
    open_campaign(tree)
    client.force_login(tree.owner)
    response = client.get(URL)
    names = [b.name for b in response.context["not_evaluated"]]
    assert names == ["甲镇第二团支部"]


def test_overview_query_count(client, tree, django_assert_max_num_queries):
    for _ in range(5):
        campaign, codes = open_campaign(tree, electorate=5)
        for code in codes[:4]:
            vote(code, campaign)
    close_now(campaign)
    client.force_login(tree.county)
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    assert len(response.context["table"].rows) == 5


def test_export_csv_escapes_formulas_and_counts_queries(
    client, tree, django_assert_max_num_queries
):
    branch = OrganisationFactory(name="=HYPERLINK(1)", kind="branch", parent=tree.town_a)
    from tests.factories import CadreFactory, CampaignFactory

    for _ in range(4):
        CampaignFactory(
            branch=branch,
            secretary=CadreFactory(organisation=branch, is_branch_secretary=True),
        )
    client.force_login(tree.county)
    with django_assert_max_num_queries(10):
        response = client.get(URL, {"_export": "csv"})
    assert response.status_code == 200
    body = response.content.decode("utf-8")
    assert "'=HYPERLINK(1)" in body and "\n=HYPERLINK" not in body
    xlsx = client.get(URL, {"_export": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd")


def test_outsider_export_is_empty(client, tree):
    open_campaign(tree)
    client.force_login(tree.outsider)
    body = client.get(URL, {"_export": "csv"}).content.decode("utf-8")
    assert "甲镇第一团支部" not in body


def test_home_panel_for_staff(client, tree, django_assert_max_num_queries):
    open_campaign(tree)
    client.force_login(tree.county)
    response = client.get("/")
    assert "书记满意度测评" in response.text
