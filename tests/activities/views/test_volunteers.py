"""Volunteer record and certificate, hours approval, commendations, project library, panels."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.models import (
    Commendation,
    EntrepreneurshipProject,
    ProjectSupport,
    VolunteerHours,
)
from tests.factories import ActivityFactory, CadreYouthFactory, RegistrationFactory, YouthFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def youth(tree):
    link = CadreYouthFactory(cadre=tree.cadre)
    a = ActivityFactory(organisation=tree.town_a, title="爱心送考")
    RegistrationFactory(activity=a, youth=link.youth, checked_in_at=timezone.now(), hours=2)
    Commendation.objects.create(
        title="优秀青年志愿者",
        youth=link.youth,
        organisation=tree.town_a,
        date=timezone.localdate(),
    )
    return link.youth


def test_youth_record_shows_hours_attendance_and_commendation(client, tree, youth):
    client.force_login(tree.cadre_user)  # the cadre holding the youth
    response = client.get(reverse("activities:youth_record", args=[youth.pk]))
    assert response.status_code == 200
    assert "爱心送考" in response.text and "优秀青年志愿者" in response.text
    assert response.context["summary"] == {"attended": 1, "hours": Decimal("2.0")}
    cert = client.get(reverse("activities:youth_certificate", args=[youth.pk]))
    assert "志愿服务证明" in cert.text and "2 小时" in cert.text


def test_outsider_gets_404_on_youth_record(client, tree, youth):
    client.force_login(tree.outsider)
    assert client.get(reverse("activities:youth_record", args=[youth.pk])).status_code == 404
    assert client.get(reverse("activities:youth_certificate", args=[youth.pk])).status_code == 404


def test_entered_hours_count_only_once_approved(client, tree, youth):
    client.force_login(tree.owner)
    url = reverse("activities:volunteer_hours")
    bad = client.post(
        url,
        {
            "youth__pk": youth.pk,
            "organisation": tree.town_a.pk,
            "date": "2026-01-02",
            "hours": "-3",
            "description": "敬老院",
        },
    )
    assert "时长必须大于 0" in bad.text
    client.post(
        url,
        {
            "youth__pk": youth.pk,
            "organisation": tree.town_a.pk,
            "date": (timezone.localdate() - datetime.timedelta(days=1)).isoformat(),
            "hours": "3",
            "description": "敬老院",
        },
    )
    record = VolunteerHours.objects.get(youth=youth)
    assert record.status == "pending"
    client.force_login(tree.outsider)
    decide = reverse("activities:volunteer_hours_decide", args=[record.pk])
    assert client.post(decide, {"decision": "approve"}).status_code == 404
    client.force_login(tree.owner)
    client.post(decide, {"decision": "approve"})
    client.force_login(tree.cadre_user)
    response = client.get(reverse("activities:youth_record", args=[youth.pk]))
    assert response.context["summary"]["hours"] == Decimal("5.0")


def test_commendation_to_team_or_youth_required(client, tree):
    client.force_login(tree.owner)
    url = reverse("activities:commendations")
    data = {"title": "创新创业标兵", "organisation": tree.town_a.pk, "date": "2026-08-08"}
    assert "请选择受表彰的青年" in client.post(url, data).text
    data["team_name"] = "天山镇代表队"
    assert client.post(url, data).status_code == 302
    client.force_login(tree.outsider)
    assert "天山镇代表队" not in client.get(url).text


def test_project_library_export_scoped_with_loan_total(client, tree, django_assert_max_num_queries):
    for i in range(10):
        p = EntrepreneurshipProject.objects.create(
            name=f"肉牛养殖{i}",
            youth=YouthFactory(organisation=tree.town_a),
            organisation=tree.town_a,
            field="畜牧",
            stage="operating",
        )
        ProjectSupport.objects.create(
            project=p,
            kind="loan",
            date=timezone.localdate(),
            loan_amount=50000,
            loan_status="disbursed",
        )
    EntrepreneurshipProject.objects.create(
        name="@乙镇农家乐",
        youth=YouthFactory(organisation=tree.town_b),
        organisation=tree.town_b,
        field="旅游",
    )
    client.force_login(tree.owner)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("activities:projects"), {"_export": "csv"})
    body = response.content.decode()
    assert "肉牛养殖3" in body and "50000" in body and "农家乐" not in body
    client.force_login(tree.county)
    assert (
        "'@乙镇农家乐"
        in client.get(reverse("activities:projects"), {"_export": "csv"}).content.decode()
    )
    client.force_login(tree.cadre_user)
    assert client.get(reverse("activities:projects")).status_code == 404


def test_loan_support_needs_positive_amount(client, tree):
    p = EntrepreneurshipProject.objects.create(
        name="电商",
        youth=YouthFactory(organisation=tree.town_a),
        organisation=tree.town_a,
        field="电商",
    )
    client.force_login(tree.owner)
    url = reverse("activities:project_detail", args=[p.pk])
    response = client.post(url, {"kind": "loan", "date": "2026-03-01"})
    assert "贷款金额" in response.text and not p.supports.exists()


def test_home_panels_show_upcoming_and_totals(client, tree, django_assert_max_num_queries):
    start = timezone.now() + datetime.timedelta(days=2)
    a = ActivityFactory(
        organisation=tree.town_a,
        title="劳务输出培训会",
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
    )
    a.responsible_cadres.add(tree.cadre)
    client.force_login(tree.owner)
    # 16 and the header's bell (the unread reminders: one count, assessment.context_processors),
    # and the youth count's rollup read (cadres.rollups; no rollup has been computed here, so the
    # panel also counts live).
    with django_assert_max_num_queries(18):
        assert "劳务输出培训会" in client.get("/").text
    client.force_login(tree.cadre_user)
    assert "劳务输出培训会" in client.get("/").text
    client.force_login(tree.outsider)
    assert "劳务输出培训会" not in client.get("/").text


def test_volunteer_organisations_totals(client, tree, youth):
    client.force_login(tree.owner)
    url = reverse("activities:volunteers")
    client.post(url, {"name": "爱心送考车队", "organisation": tree.town_a.pk})
    from activities.models import VolunteerOrganisation

    vo = VolunteerOrganisation.objects.get()
    client.force_login(tree.owner)
    client.post(reverse("activities:youth_record", args=[youth.pk]), {"vo": vo.pk})
    row = next(o for o in client.get(url).context["organisations"] if o.pk == vo.pk)
    assert row.n_members == 1 and row.activity_hours == Decimal("2.0")
    client.force_login(tree.outsider)
    assert "爱心送考车队" not in client.get(url).text


def test_commendation_picks_the_youth_by_name_never_an_id(client, tree):
    """Issue 15 item 4: the form asks for a name (with the namesakes told apart), and a youth
    outside the user's scope is refused even when its id is posted."""
    from activities.models import Commendation

    mine = YouthFactory(name="乌兰", organisation=tree.town_a, unit="职教中心")
    far = YouthFactory(name="乌兰", organisation=tree.town_b, unit="外镇中学")
    client.force_login(tree.owner)
    url = reverse("activities:commendations")
    page = client.get(url).text
    assert "编号" not in page and 'name="youth__pk"' in page
    data = {"title": "创新创业标兵", "organisation": tree.town_a.pk, "date": "2026-08-08"}
    refused = client.post(url, {**data, "youth": "乌兰", "youth__pk": far.pk})
    assert refused.status_code == 200 and not Commendation.objects.exists()
    assert "外镇中学" not in refused.text
    assert client.post(url, {**data, "youth": "乌兰"}).status_code == 302
    assert Commendation.objects.get().youth == mine
