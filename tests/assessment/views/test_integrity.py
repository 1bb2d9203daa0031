"""/assessment/integrity/: supervisors of the subtree only (outsider and cadre 404), constant
queries, verification outcomes with history, 属实 opening a supervision case, and never a
trace of it on the cadre's own page or the ranking."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from assessment import services
from assessment.models import IntegrityFinding, IntegrityReview, SupervisionCase
from assessment.periods import period_containing
from tests.assessment.conftest import link_youths, log_contact
from tests.factories import CadreFactory

pytestmark = pytest.mark.django_db


def _pad(cadre, n=21):
    """A hand-typed talk with n youths: the batch_log signal."""
    youths = link_youths(cadre, n, sectors=1)
    return log_contact(cadre, youths, timezone.localdate(), "talk")


def _compute():
    return services.scores_compute(period=period_containing(timezone.localdate()).code)


@pytest.fixture
def finding(tree):
    contact = _pad(tree.cadre)
    _compute()
    finding = IntegrityFinding.objects.get(cadre=tree.cadre)
    finding.contact = contact
    return finding


def test_supervisor_sees_flagged_cadre_with_signal_text(client, tree, finding):
    client.force_login(tree.county)
    html = client.get(reverse("assessment:integrity")).content.decode()
    assert "甲镇干部" in html
    assert "一次见面人数不合常理" in html and "最多一次 21 名青年" in html
    assert reverse("assessment:integrity_detail", args=[finding.pk]) in html


def test_detail_shows_the_evidence_contact(client, tree, finding):
    client.force_login(tree.owner)
    response = client.get(reverse("assessment:integrity_detail", args=[finding.pk]))
    assert response.status_code == 200
    assert reverse("contacts:detail", args=[finding.contact.pk]) in response.content.decode()


def test_outsider_does_not_see_it_and_gets_404_on_detail(client, tree, finding):
    client.force_login(tree.outsider)
    html = client.get(reverse("assessment:integrity")).content.decode()
    assert "甲镇干部" not in html
    url = reverse("assessment:integrity_detail", args=[finding.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"outcome": "confirmed", "note": "x"}).status_code == 404
    assert not IntegrityReview.objects.exists()


def test_cadre_gets_404_on_list_and_detail(client, tree, finding):
    client.force_login(tree.cadre_user)
    assert client.get(reverse("assessment:integrity")).status_code == 404
    url = reverse("assessment:integrity_detail", args=[finding.pk])
    assert client.get(url).status_code == 404


def test_never_on_the_cadres_own_page_or_the_ranking(client, tree, finding):
    client.force_login(tree.cadre_user)
    own = client.get(reverse("assessment:dashboard")).content.decode()
    assert "真实性" not in own and "人数不合常理" not in own
    client.force_login(tree.county)
    ranking = client.get(reverse("assessment:scores")).content.decode()
    assert "人数不合常理" not in ranking


def test_confirmed_with_case_opens_a_supervision_case_and_keeps_history(client, tree, finding):
    client.force_login(tree.county)
    url = reverse("assessment:integrity_detail", args=[finding.pk])
    client.post(url, {"outcome": "pending", "note": ""})
    response = client.post(
        url, {"outcome": "confirmed", "note": "回访 5 名青年，3 名说没见过", "open_case": "on"}
    )
    case = SupervisionCase.objects.get(cadre=tree.cadre)
    assert response.status_code == 302 and response.url == reverse(
        "assessment:case", args=[case.pk]
    )
    assert list(IntegrityReview.objects.values_list("outcome", flat=True)) == [
        "confirmed",
        "pending",
    ]
    html = client.get(url).content.decode()
    assert "属实" in html and "待核实" in html and "3 名说没见过" in html
    listing = client.get(reverse("assessment:integrity")).content.decode()
    assert "text-bg-danger" in listing  # the newest outcome, 属实


def test_errors_keep_what_was_typed(client, tree, finding):
    client.force_login(tree.county)
    url = reverse("assessment:integrity_detail", args=[finding.pk])
    response = client.post(url, {"outcome": "unfounded", "note": "   "})
    assert response.status_code == 200
    assert "请写明核实情况" in response.content.decode()
    response = client.post(
        url, {"outcome": "unfounded", "note": "青年都确认见过", "open_case": "on"}
    )
    html = response.content.decode()
    assert "只有核实“属实”才能立案督导" in html and "青年都确认见过" in html
    response = client.post(url, {"outcome": "bogus"})
    assert response.status_code == 200
    assert not IntegrityReview.objects.exists() and not SupervisionCase.objects.exists()


def test_bad_query_strings_are_not_500(client, tree, finding):
    client.force_login(tree.county)
    for params in ({"page": "x"}, {"page": "99999999999999999999"}, {"period": "2026Q9"}):
        assert client.get(reverse("assessment:integrity"), params).status_code == 200


def test_list_query_count_does_not_grow_with_findings(
    client, tree, finding, django_assert_max_num_queries
):
    client.force_login(tree.county)
    with django_assert_max_num_queries(30) as small:
        client.get(reverse("assessment:integrity"))
    for i in range(8):
        _pad(CadreFactory(organisation=tree.town_a if i % 2 else tree.town_b))
    _compute()
    assert IntegrityFinding.objects.count() == 9
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("assessment:integrity"))
    assert len(response.context["rows"]) == 9


def test_detail_query_count_does_not_grow_with_evidence(
    client, tree, django_assert_max_num_queries
):
    _pad(tree.cadre, 21)
    _compute()
    small_finding = IntegrityFinding.objects.get(cadre=tree.cadre)
    client.force_login(tree.county)
    with django_assert_max_num_queries(30) as small:
        client.get(reverse("assessment:integrity_detail", args=[small_finding.pk]))
    other = CadreFactory(organisation=tree.town_a)
    _pad(other, 60)
    _compute()
    big = IntegrityFinding.objects.get(cadre=other)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(reverse("assessment:integrity_detail", args=[big.pk])).status_code == 200
