"""/cadres/youths/new/: a youth met in the field, added and linked in one step (issue 14 item 1)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cadres import registry
from cadres.models import CadreYouth, Youth
from tests.factories import CadreFactory, CadreYouthFactory, SectorFactory, YouthFactory
from tests.threads import in_threads

URL = "/cadres/youths/new/"


@pytest.fixture
def sector(db):
    return SectorFactory(code="vocational", name="职校学生")


def _data(sector_row, /, **extra):
    data = {
        "name": "乌兰",
        "phone": "139 1234 5678",
        "sector": sector_row.pk,
        "unit": "职教中心",
        "birth_year": "1998",
        "gender": "F",
    }
    data.update(extra)
    return data


@pytest.mark.django_db
class TestCadreAddsAYouth:
    def test_new_youth_is_registered_in_own_organisation_and_linked(self, client, tree, sector):
        client.force_login(tree.cadre_user)
        assert client.get(URL).status_code == 200
        response = client.post(URL, _data(sector))
        assert response.status_code == 302 and response["Location"] == "/cadres/me/youths/"
        youth = Youth.objects.get()
        assert youth.phone == "13912345678" and youth.organisation == tree.town_a
        assert CadreYouth.objects.filter(cadre=tree.cadre, youth=youth).exists()
        assert youth.history.first().history_user == tree.cadre_user
        assert "已登记 乌兰 并加入联系名单" in client.get("/cadres/me/youths/").content.decode()

    def test_from_quick_log_returns_to_quick_log_with_the_youth_picked(self, client, tree, sector):
        client.force_login(tree.cadre_user)
        response = client.post(URL, _data(sector, next="quick_log"))
        youth = Youth.objects.get()
        assert response["Location"] == f"/contacts/new/?youth={youth.pk}"
        page = client.get(response["Location"]).content.decode()
        assert f'value="{youth.pk}" checked' in page

    def test_same_phone_in_subtree_offers_the_link_instead_and_links(self, client, tree, sector):
        existing = YouthFactory(
            organisation=tree.branch_a,
            name="乌兰",
            birth_year=1998,
            unit="职教中心",
            phone="13912345678",
        )
        client.force_login(tree.cadre_user)
        response = client.post(URL, _data(sector, name="乌兰花"))
        body = response.content.decode()
        assert response.status_code == 200
        assert "可能是 乌兰（1998，职教中心）——改为关联？" in body
        assert "仍然新增" not in body  # one phone, one youth
        assert 'value="乌兰花"' in body  # what was typed is kept
        assert Youth.objects.count() == 1
        response = client.post(URL, _data(sector, name="乌兰花", link_existing=existing.pk))
        assert response.status_code == 302
        assert Youth.objects.count() == 1
        assert CadreYouth.objects.filter(cadre=tree.cadre, youth=existing).exists()

    def test_same_name_year_unit_without_phone_may_be_confirmed_as_somebody_else(
        self, client, tree, sector
    ):
        YouthFactory(organisation=tree.town_a, name="乌兰", birth_year=1998, unit="职教中心")
        client.force_login(tree.cadre_user)
        response = client.post(URL, _data(sector, phone=""))
        assert "可能是 乌兰（1998，职教中心）" in response.content.decode()
        assert "仍然新增" in response.content.decode()
        response = client.post(URL, _data(sector, phone="", confirm_new="1"))
        assert response.status_code == 302
        assert Youth.objects.filter(name="乌兰").count() == 2

    def test_phone_held_outside_the_subtree_is_refused_without_saying_whose(
        self, client, tree, sector
    ):
        YouthFactory(organisation=tree.town_b, name="其他镇的人", phone="13912345678")
        client.force_login(tree.cadre_user)
        response = client.post(URL, _data(sector))
        body = response.content.decode()
        assert "该手机号已登记，请联系团委核实" in body
        assert "其他镇的人" not in body and "乙镇" not in body
        assert Youth.objects.count() == 1

    def test_linking_a_youth_of_another_subtree_is_refused(self, client, tree, sector):
        stranger = YouthFactory(organisation=tree.town_b)
        client.force_login(tree.cadre_user)
        for pk in (stranger.pk, 999999):
            response = client.post(URL, _data(sector, link_existing=pk))
            assert "不在团干部所在组织（含下级组织）的范围内" in response.content.decode()
        assert not CadreYouth.objects.exists()

    def test_a_minor_needs_the_guardian_box_and_is_flagged(self, client, tree, sector):
        year = timezone.localdate().year - 12
        client.force_login(tree.cadre_user)
        response = client.post(URL, _data(sector, birth_year=str(year)))
        assert "请先征得监护人同意" in response.content.decode()
        assert not Youth.objects.exists()
        response = client.post(URL, _data(sector, birth_year=str(year), guardian_consent="on"))
        assert response.status_code == 302
        assert Youth.objects.get().is_minor
        assert "未满 14 周岁，已标注" in client.get(response["Location"]).content.decode()

    @pytest.mark.parametrize(
        "bad",
        [
            {"name": ""},
            {"phone": "12345"},
            {"birth_year": "19x8"},
            {"birth_year": "1800"},
            {"sector": "999999"},
            {"name": "名" * 500},
            {"link_existing": "abc"},
        ],
    )
    def test_bad_input_is_a_message_and_keeps_what_was_typed(self, client, tree, sector, bad):
        client.force_login(tree.cadre_user)
        response = client.post(URL, _data(sector, unit="留着的单位", **bad))
        assert response.status_code == 200
        assert "留着的单位" in response.content.decode()
        assert not Youth.objects.exists()

    def test_ceiling_refusal_rolls_the_new_youth_back(self, client, tree, sector, settings):
        from cadres.models import QuotaRule

        QuotaRule.objects.create(cadre_type=tree.cadre.cadre_type, quota=1, min_sectors=1)
        settings.LIANQING_LINK_CEILING_FACTOR = 1
        CadreYouthFactory(cadre=tree.cadre)
        client.force_login(tree.cadre_user)
        response = client.post(URL, _data(sector))
        assert "已达上限" in response.content.decode()
        assert not Youth.objects.filter(name="乌兰").exists()


@pytest.mark.django_db
class TestStaffAndOutsiders:
    def test_staff_add_for_a_cadre_of_their_subtree_only(self, client, tree, sector):
        other = CadreFactory(organisation=tree.town_b)
        client.force_login(tree.owner)
        page = client.get(URL).content.decode()
        assert other.name not in page  # the cadre is picked by name (config/pickers.py)
        response = client.post(URL, _data(sector, cadre__pk=other.pk))
        assert response.status_code == 200 and not Youth.objects.exists()
        response = client.post(URL, _data(sector, cadre=other.name))
        assert response.status_code == 200 and not Youth.objects.exists()
        response = client.post(URL, _data(sector, cadre=tree.cadre.name))
        assert response.status_code == 302
        assert CadreYouth.objects.filter(cadre=tree.cadre).count() == 1

    def test_a_login_without_cadre_or_staff_role_gets_404(self, client, tree):
        from tests.factories import UserFactory

        loner = UserFactory(role="cadre", organisation=tree.town_a)
        client.force_login(loner)
        assert client.get(URL).status_code == 404

    def test_anonymous_is_sent_to_login(self, client, tree):
        assert client.get(URL).status_code == 302


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("trial", range(3))
def test_two_phones_adding_the_same_youth_at_once_make_one_record(tree, trial):
    sector = SectorFactory(code="vocational", name="职校学生")
    colleague = CadreFactory(organisation=tree.town_a)
    outcomes: list[str] = []

    def add(cadre):
        def work():
            try:
                registry.youth_add_for_cadre(
                    cadre=cadre,
                    name="乌兰",
                    birth_year=1998,
                    sector=sector,
                    phone="13912345678",
                    unit="职教中心",
                    by=tree.cadre_user,
                )
                outcomes.append("created")
            except registry.PossibleDuplicate:
                outcomes.append("duplicate")

        return work

    errors = in_threads(add(tree.cadre), add(colleague))
    assert not errors, errors
    assert sorted(outcomes) == ["created", "duplicate"]
    assert Youth.objects.filter(phone="13912345678").count() == 1
    assert datetime.date.today()  # the run finished within the thread timeout
