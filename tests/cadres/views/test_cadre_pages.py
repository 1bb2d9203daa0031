"""The cadre table, a cadre's page, the contact card, history and the home panels."""

from __future__ import annotations

import pytest

from cadres.models import LiaisonChannel
from tests.factories import (
    CadreFactory,
    CadreYouthFactory,
    LiaisonChannelFactory,
    SectorFactory,
)

pytestmark = pytest.mark.django_db


def _populate(tree, n_cadres=10):
    sector = SectorFactory(code="s")
    for i in range(n_cadres):
        cadre = CadreFactory(organisation=tree.town_a if i % 2 else tree.branch_a)
        CadreYouthFactory(cadre=cadre, youth__sector=sector)
        LiaisonChannelFactory(cadre=cadre)


def test_table_shows_only_cadres_in_scope(client, tree):
    CadreFactory(organisation=tree.town_b, name="乙镇干部")
    client.force_login(tree.owner)
    response = client.get("/cadres/")
    assert response.status_code == 200
    names = {c.name for c in response.context["table"].data}
    assert "甲镇干部" in names and "乙镇干部" not in names
    client.force_login(tree.county)
    names = {c.name for c in client.get("/cadres/").context["table"].data}
    assert {"甲镇干部", "乙镇干部"} <= names


def test_table_filters(client, tree):
    sector_a, sector_b = SectorFactory(code="a"), SectorFactory(code="b")
    done = CadreFactory(organisation=tree.town_a, cadre_type="part_time", name="达标")
    from tests.factories import QuotaRuleFactory

    QuotaRuleFactory(cadre_type="part_time", quota=2, min_sectors=2)
    CadreYouthFactory(cadre=done, youth__sector=sector_a)
    CadreYouthFactory(cadre=done, youth__sector=sector_b)
    client.force_login(tree.owner)

    def names(**params):
        return {c.name for c in client.get("/cadres/", params).context["table"].data}

    assert names(quota_met="yes") == {"达标"}
    assert "达标" not in names(quota_met="no")
    assert names(sectors_short="true") == {"甲镇干部"}
    assert names(organisation=tree.branch_a.pk) == set()
    assert names(q="达") == {"达标"}


def test_organisation_filter_offers_only_scoped_choices(client, tree):
    client.force_login(tree.owner)
    form = client.get("/cadres/").context["filter"].form
    choices = set(form.fields["organisation"].queryset)
    assert choices == {tree.town_a, tree.branch_a}
    # Picking an organisation outside scope is rejected by the form, not honoured.
    response = client.get("/cadres/", {"organisation": tree.town_b.pk})
    assert response.status_code == 200
    assert "organisation" in response.context["filter"].form.errors


def test_cadre_table_query_count_does_not_grow(client, tree, django_assert_max_num_queries):
    _populate(tree, 30)
    client.force_login(tree.owner)
    with django_assert_max_num_queries(10):
        response = client.get("/cadres/", {"sort": "-progress"})
    assert response.status_code == 200
    assert "1/100" in response.content.decode()


def test_cadre_user_and_anonymous_cannot_see_the_table(client, tree):
    assert client.get("/cadres/").status_code == 302
    client.force_login(tree.cadre_user)
    assert client.get("/cadres/").status_code == 404


def test_outsider_gets_404_on_cadre_page_card_and_history(client, tree):
    client.force_login(tree.outsider)
    for url in (
        f"/cadres/{tree.cadre.pk}/",
        f"/cadres/{tree.cadre.pk}/card/",
        f"/cadres/{tree.cadre.pk}/history/",
    ):
        assert client.get(url).status_code == 404, url


def test_other_cadre_gets_404_on_a_colleagues_page(client, tree):
    colleague = CadreFactory(organisation=tree.town_a)
    client.force_login(tree.cadre_user)
    assert client.get(f"/cadres/{colleague.pk}/").status_code == 404
    assert client.get(f"/cadres/{tree.cadre.pk}/").status_code == 200
    assert client.get(f"/cadres/{tree.cadre.pk}/history/").status_code == 404  # staff only


def test_cadre_page_shows_progress_missing_channels_and_panels(client, tree):
    sector = SectorFactory(code="s", name="企业青年")
    SectorFactory(code="r", name="返乡青年")
    for _ in range(3):
        CadreYouthFactory(cadre=tree.cadre, youth__sector=sector)
    LiaisonChannelFactory(cadre=tree.cadre, kind=LiaisonChannel.Kind.YOUTH_HOME, name="青年爱里")
    client.force_login(tree.owner)
    response = client.get(f"/cadres/{tree.cadre.pk}/")
    html = response.content.decode()
    assert "3/100" in html and "1 个（至少 5 个）" in html and "1 个（应有 9 个）" in html
    assert "返乡青年" in html  # a missing field, named
    assert "区域化共建委员会" in html and "（尚未建立）" in html
    assert "再联系 97 名青年" in html


def test_cadre_page_query_count(client, tree, django_assert_max_num_queries):
    sector = SectorFactory(code="s")
    for _ in range(30):
        CadreYouthFactory(cadre=tree.cadre, youth__sector=sector)
    client.force_login(tree.owner)
    # The page itself plus the panels other apps add (contacts, activities, assessment).
    with django_assert_max_num_queries(22):
        assert client.get(f"/cadres/{tree.cadre.pk}/").status_code == 200


def test_contact_card_encodes_the_needs_desk_url(client, tree):
    client.force_login(tree.cadre_user)
    response = client.get(f"/cadres/{tree.cadre.pk}/card/")
    assert response.status_code == 200
    assert response.context["ask_url"] == f"http://testserver/contacts/ask/{tree.cadre.pk}/"
    assert "<svg" in response.context["qr_svg"]
    assert tree.cadre.phone in response.content.decode()
    assert client.get(f"/cadres/{tree.cadre.pk}/card/", {"size": "a4"}).context["size"] == "a4"


def test_history_shows_who_changed_what(client, tree):
    from cadres import services

    youth = CadreYouthFactory(cadre=tree.cadre).youth
    services.cadre_youth_link(cadre=tree.cadre, youth=youth, by=tree.owner)
    tree.cadre.position = "书记"
    tree.cadre._history_user = tree.owner
    tree.cadre.save()
    client.force_login(tree.owner)
    response = client.get(f"/cadres/{tree.cadre.pk}/history/")
    html = response.content.decode()
    assert response.status_code == 200
    assert tree.owner.first_name in html and youth.name in html


def test_home_panel_shows_cadre_progress(client, tree):
    sector = SectorFactory(code="s")
    CadreYouthFactory(cadre=tree.cadre, youth__sector=sector)
    client.force_login(tree.cadre_user)
    html = client.get("/").content.decode()
    assert "1/100" in html and "下一步" in html and "还没有建立的联系渠道" in html


def test_staff_home_counts_cadres_below_quota(client, tree):
    client.force_login(tree.owner)
    html = client.get("/").content.decode()
    assert "未达标团干部" in html
