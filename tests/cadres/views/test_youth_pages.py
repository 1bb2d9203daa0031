"""The staff youth list, a youth's page and a cadre's own youths."""

from __future__ import annotations

import pytest

from tests.factories import CadreFactory, CadreYouthFactory, SectorFactory, YouthFactory

pytestmark = pytest.mark.django_db


def test_youth_list_is_scoped_and_marks_duplicates(client, tree):
    sector = SectorFactory(code="s")
    shared = YouthFactory(organisation=tree.town_a, sector=sector, name="共享青年")
    CadreYouthFactory(cadre=tree.cadre, youth=shared)
    CadreYouthFactory(cadre=CadreFactory(organisation=tree.town_a), youth=shared)
    YouthFactory(organisation=tree.town_a, sector=sector, name="单独青年")
    YouthFactory(organisation=tree.town_b, sector=sector, name="乙镇青年")
    client.force_login(tree.owner)

    def names(**params):
        return {y.name for y in client.get("/cadres/youths/", params).context["table"].data}

    assert names() == {"共享青年", "单独青年"}
    assert names(shared="true") == {"共享青年"}
    assert names(q="单独") == {"单独青年"}


@pytest.fixture
def forty_youths(tree):
    """A full page: forty youths in the tree cadre's list, one field."""
    sector = SectorFactory(code="s")
    CadreYouthFactory.create_batch(40, cadre=tree.cadre, youth__sector=sector)


@pytest.mark.usefixtures("forty_youths")
def test_youth_list_query_count(client, tree, django_assert_max_num_queries):
    client.force_login(tree.owner)
    with django_assert_max_num_queries(10):
        assert client.get("/cadres/youths/").status_code == 200


def test_cadre_gets_404_on_staff_youth_list(client, tree):
    client.force_login(tree.cadre_user)
    assert client.get("/cadres/youths/").status_code == 404


def test_outsider_gets_404_on_youth_page(client, tree):
    youth = CadreYouthFactory(cadre=tree.cadre).youth
    client.force_login(tree.outsider)
    assert client.get(f"/cadres/youths/{youth.pk}/").status_code == 404
    client.force_login(tree.owner)
    assert client.get(f"/cadres/youths/{youth.pk}/").status_code == 200


def test_cadre_sees_own_youths_only(client, tree):
    mine = CadreYouthFactory(cadre=tree.cadre).youth
    other = CadreYouthFactory(cadre=CadreFactory(organisation=tree.town_a)).youth
    client.force_login(tree.cadre_user)
    assert client.get(f"/cadres/youths/{mine.pk}/").status_code == 200
    assert client.get(f"/cadres/youths/{other.pk}/").status_code == 404
    response = client.get("/cadres/me/youths/")
    assert {y.name for y in response.context["table"].data} == {mine.name}
    assert "1/100" in response.content.decode()


@pytest.mark.usefixtures("forty_youths")
def test_my_youths_query_count(client, tree, django_assert_max_num_queries):
    client.force_login(tree.cadre_user)
    with django_assert_max_num_queries(14):
        assert client.get("/cadres/me/youths/").status_code == 200


def test_staff_without_cadre_record_gets_404_on_my_youths(client, tree):
    client.force_login(tree.owner)
    assert client.get("/cadres/me/youths/").status_code == 404


def test_youth_page_shows_history_to_staff_only(client, tree):
    from cadres import services

    sector = SectorFactory(code="s")
    youth = services.youth_create(
        name="王芳", birth_year=1998, sector=sector, organisation=tree.town_a, by=tree.owner
    )
    services.cadre_youth_link(cadre=tree.cadre, youth=youth, by=tree.owner)
    client.force_login(tree.owner)
    assert "修改记录" in client.get(f"/cadres/youths/{youth.pk}/").content.decode()
    client.force_login(tree.cadre_user)
    assert "修改记录" not in client.get(f"/cadres/youths/{youth.pk}/").content.decode()
