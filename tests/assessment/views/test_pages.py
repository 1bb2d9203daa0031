"""Every assessment page and export: who sees what (outsider 404), constant query counts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessment import services, supervision
from assessment.models import CaseStep, Flag, ScoringPolicy, SupervisionCase

pytestmark = pytest.mark.django_db

STAFF_PAGES = [
    "assessment:scores",
    "assessment:flags",
    "assessment:bulletin",
    "assessment:review",
    "assessment:eligibility",
    "assessment:policy",
]


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_cadre_gets_404_on_staff_pages(client, tree, scored, name):
    client.force_login(tree.cadre_user)
    assert client.get(reverse(name)).status_code == 404


def test_dashboard_for_staff_shows_their_subtree_only(client, tree, scored):
    client.force_login(tree.owner)
    response = client.get(reverse("assessment:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "甲镇干部" in html and "乙镇干部" not in html
    assert 'data-chart="weeks"' in html
    assert response.context["ov"].totals["n"] == 1


def test_outsider_cannot_pick_another_subtree(client, tree, scored):
    client.force_login(tree.outsider)
    response = client.get(reverse("assessment:dashboard"), {"organisation": tree.town_a.pk})
    # The organisation is not a valid choice for them: their own subtree is shown instead.
    assert response.context["ov"].organisation == tree.town_b
    assert "甲镇干部" not in response.content.decode()


def test_cadre_sees_own_score_explained_and_no_ranking(client, tree, scored):
    client.force_login(tree.cadre_user)
    response = client.get(reverse("assessment:dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "我的活跃度" in html and "本季度联系了 3/10 名青年" in html
    assert "怎样提高最快" in html and "再与 4 名青年建立联系" in html
    assert "乙镇干部" not in html and "预警" not in html


@pytest.mark.parametrize("user", ["outsider", "cadre_user"])
def test_cadre_score_page_outside_scope_is_404(client, tree, scored, user):
    client.force_login(getattr(tree, user))
    url = reverse("assessment:cadre_score", args=[tree.cadre.pk])
    assert client.get(url).status_code == 404


def test_owner_and_colleague_see_cadre_score_page(client, tree, scored):
    for user in (tree.owner, tree.colleague, tree.county):
        client.force_login(user)
        url = reverse("assessment:cadre_score", args=[tree.cadre.pk])
        assert client.get(url).status_code == 200


def test_score_ranking_and_export_are_scoped(client, tree, scored):
    client.force_login(tree.outsider)
    html = client.get(reverse("assessment:scores")).content.decode()
    assert "乙镇干部" in html and "甲镇干部" not in html
    csv = client.get(reverse("assessment:scores"), {"_export": "csv"}).content.decode()
    assert "乙镇干部" in csv and "甲镇干部" not in csv


def test_flags_and_cases_are_404_for_outsider(client, tree, scored):
    client.force_login(tree.outsider)
    flag = scored["flag_a"]
    assert client.post(reverse("assessment:case_open", args=[flag.pk])).status_code == 404
    case = supervision.case_open(flag=flag, by=tree.county)
    assert client.get(reverse("assessment:case", args=[case.pk])).status_code == 404
    assert client.post(reverse("assessment:case_close", args=[case.pk])).status_code == 404
    assert "甲镇干部" not in client.get(reverse("assessment:flags")).content.decode()


def test_staff_opens_case_and_records_steps_in_order(client, tree, scored):
    client.force_login(tree.owner)
    response = client.post(reverse("assessment:case_open", args=[scored["flag_a"].pk]))
    case = SupervisionCase.objects.get()
    assert response.url == reverse("assessment:case", args=[case.pk])
    step = {
        "kind": 2,
        "date": "2026-11-20",
        "conducted_by": "王书记",
        "notes": "约谈",
        "agreed_actions": "每周走访",
        "follow_up_on": "2026-12-20",
    }
    response = client.post(reverse("assessment:case", args=[case.pk]), step)
    assert response.status_code == 400
    assert "下一步应为“提醒”" in response.content.decode()
    assert 'value="王书记"' in response.content.decode()  # the form keeps what was typed
    step["kind"] = 1
    response = client.post(reverse("assessment:case", args=[case.pk]), step)
    assert response.status_code == 302
    assert CaseStep.objects.filter(case=case, kind=1).exists()


def test_bulletin_page_and_excel_are_scoped(client, tree, scored):
    client.force_login(tree.owner)
    html = client.get(reverse("assessment:bulletin"), {"edition": "supervisors"}).content.decode()
    assert "工作通报" in html and "甲镇干部" in html and "print.css" in html
    # Both sources are installed: the bulletin reports them, it does not say "not connected".
    assert "活动数据尚未接入" not in html and "满意度测评数据尚未接入" not in html
    response = client.get(reverse("assessment:bulletin"), {"format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    client.force_login(tree.outsider)
    response = client.get(
        reverse("assessment:bulletin"),
        {"organisation": tree.town_a.pk, "format": "xlsx", "edition": "supervisors"},
    )
    from io import BytesIO

    from openpyxl import load_workbook

    wb = load_workbook(BytesIO(response.content))
    cells = [c.value for row in wb["预警与督导"].iter_rows() for c in row]
    assert "甲镇干部" not in cells


def test_malformed_period_shows_chinese_error_not_500(client, tree, scored):
    client.force_login(tree.owner)
    response = client.get(reverse("assessment:bulletin"), {"period": "2026Q9"})
    assert response.status_code == 200
    assert "季度只能是 Q1 到 Q4" in response.content.decode()
    response = client.get(reverse("assessment:dashboard"), {"period": "2099Q1"})
    assert "尚未开始" in response.content.decode()


def test_review_notes_saved_for_half_year(client, tree, scored):
    client.force_login(tree.owner)
    url = reverse("assessment:review") + "?period=2026H2"
    response = client.post(url, {"notes": "整体良好"})
    assert response.status_code == 302
    assert "整体良好" in client.get(url).content.decode()


def test_eligibility_lists_reasons(client, tree, scored):
    services.scores_compute(period="2026")
    client.force_login(tree.owner)
    html = client.get(reverse("assessment:eligibility"), {"period": "2026"}).content.decode()
    assert "联系青年 6/10 名，未达到指标" in html
    assert "覆盖领域 2/4 个，未达到要求" in html


def test_policy_page_committee_creates_version_and_bad_weights_refused(client, tree, db):
    services.policy_current()
    data = {
        "w_quota": 30,
        "w_reach": 25,
        "w_depth": 15,
        "w_diversity": 10,
        "w_responsiveness": 10,
        "w_ballot": 20,
        "w_confirmed": 0,
        "flag_score_below": 60,
        "quota_grace_days": 180,
        "no_contact_days": 30,
        "overdue_needs_max": 0,
        "note": "",
    }
    client.force_login(tree.owner)  # township staff: may read, not change
    assert client.post(reverse("assessment:policy"), data).status_code == 404
    client.force_login(tree.county)
    response = client.post(reverse("assessment:policy"), data)
    assert response.status_code == 400
    assert "之和必须等于 100，现在是 110" in response.content.decode()
    data["w_ballot"], data["w_quota"] = 10, -10
    assert "不小于 0" in client.post(reverse("assessment:policy"), data).content.decode()
    data["w_quota"] = 30
    assert client.post(reverse("assessment:policy"), data).status_code == 302
    assert ScoringPolicy.objects.count() == 2


def test_home_panels(client, tree, scored):
    client.force_login(tree.cadre_user)
    assert "我的活跃度" in client.get("/").content.decode()
    client.force_login(tree.owner)
    assert "活跃度预警与督导" in client.get("/").content.decode()


@pytest.mark.parametrize(
    "name,params",
    [
        ("assessment:dashboard", {}),
        ("assessment:bulletin", {}),
        ("assessment:bulletin", {"format": "xlsx"}),
        ("assessment:bulletin", {"edition": "supervisors"}),
        ("assessment:bulletin", {"edition": "supervisors", "format": "xlsx"}),
        ("assessment:review", {}),
        ("assessment:scores", {}),
        ("assessment:scores", {"_export": "xlsx"}),
        ("assessment:flags", {}),
        ("assessment:eligibility", {"period": "2026"}),
        ("assessment:eligibility", {"period": "2026", "_export": "csv"}),
    ],
)
def test_query_count_does_not_grow_with_cadres(
    client, tree, scored, django_assert_max_num_queries, name, params
):
    from tests.assessment.conftest import link_youths
    from tests.factories import CadreFactory

    services.scores_compute(period="2026")
    client.force_login(tree.county)
    with django_assert_max_num_queries(30) as small:
        client.get(reverse(name), params)
    for i in range(15):
        cadre = CadreFactory(organisation=tree.town_a if i % 2 else tree.town_b)
        link_youths(cadre, 2, sectors=1)
    services.scores_compute(period="2026Q4")
    services.scores_compute(period="2026")
    for run_flag in Flag.objects.all()[:5]:
        supervision.case_open(flag=run_flag, by=tree.county)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(reverse(name), params).status_code == 200


def test_outsider_cannot_write_review_notes_for_another_subtree(client, tree, scored):
    from assessment.models import OrganisationReview

    client.force_login(tree.outsider)
    url = reverse("assessment:review") + f"?organisation={tree.town_a.pk}&period=2026H2"
    client.post(url, {"notes": "越权"})
    assert not OrganisationReview.objects.filter(organisation=tree.town_a).exists()


def test_cadre_page_panel_is_for_supervisors_only(rf, tree, scored):
    from assessment.panels import cadre_detail_panels
    from tests.factories import CadreFactory, UserFactory

    peer_user = UserFactory(organisation=tree.town_a, role="cadre")
    CadreFactory(organisation=tree.town_a, user=peer_user)
    request = rf.get("/")
    request.user = peer_user
    assert cadre_detail_panels(request, tree.cadre) == []
    request.user = tree.owner
    (html,) = cadre_detail_panels(request, tree.cadre)
    assert "活跃度" in html and str(scored["run"].scores.get(cadre=tree.cadre).score) in html
