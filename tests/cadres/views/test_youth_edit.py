"""/cadres/youths/<id>/edit/ and /move-away/ (issue 15 item 2): staff correct a youth's entry
(the duplicate-phone rule of youth creation), and mark a youth who left (history kept, out of
the quota counts). Scoped: an outsider and a cadre get 404."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cadres.models import CadreProgress, CadreYouth, Youth
from cadres.services import cadre_progress_refresh, cadre_youth_link
from tests.factories import CadreYouthFactory, SectorFactory, YouthFactory

pytestmark = pytest.mark.django_db


def url(youth: Youth, action: str = "edit") -> str:
    return f"/cadres/youths/{youth.pk}/{action}/"


@pytest.fixture
def youth(tree):
    link = CadreYouthFactory(
        cadre=tree.cadre,
        youth__organisation=tree.branch_a,
        youth__name="乌兰",
        youth__phone="13900000001",
        youth__unit="职教中心",
    )
    cadre_progress_refresh(cadre_ids=[tree.cadre.pk])
    return link.youth


def _data(youth: Youth, **changes) -> dict:
    data = {
        "name": youth.name,
        "phone": youth.phone,
        "sector": youth.sector_id,
        "unit": youth.unit,
        "birth_year": youth.birth_year,
        "gender": youth.gender,
        "wechat_id": "",
        "notes": "",
    }
    data.update(changes)
    return data


class TestEdit:
    def test_staff_fixes_the_phone_with_history(self, client, tree, youth):
        client.force_login(tree.owner)
        assert client.get(url(youth)).status_code == 200
        response = client.post(url(youth), _data(youth, phone="139 0000 0002"))
        assert response.status_code == 302
        assert response["Location"] == f"/cadres/youths/{youth.pk}/"
        youth.refresh_from_db()
        assert youth.phone == "13900000002"
        last = youth.history.first()
        assert last.history_user == tree.owner and last.phone == "13900000002"

    def test_a_phone_held_by_a_youth_in_scope_names_them_and_saves_nothing(
        self, client, tree, youth
    ):
        YouthFactory(organisation=tree.town_a, name="乌兰", phone="13900000009", unit="牧场")
        client.force_login(tree.owner)
        response = client.post(url(youth), _data(youth, phone="13900000009", unit="新单位"))
        page = response.content.decode()
        assert response.status_code == 400
        assert "该手机号已登记为 乌兰（1998，牧场）" in page
        assert 'value="新单位"' in page  # what the user typed is kept
        youth.refresh_from_db()
        assert (youth.phone, youth.unit) == ("13900000001", "职教中心")

    def test_a_phone_held_outside_scope_is_refused_without_saying_whose(self, client, tree, youth):
        YouthFactory(organisation=tree.town_b, name="外镇青年", phone="13900000009")
        client.force_login(tree.owner)
        response = client.post(url(youth), _data(youth, phone="13900000009"))
        page = response.content.decode()
        assert response.status_code == 400
        assert "该手机号已登记，请联系团委核实" in page and "外镇青年" not in page
        youth.refresh_from_db()
        assert youth.phone == "13900000001"

    def test_bad_phone_and_year_get_chinese_errors(self, client, tree, youth):
        client.force_login(tree.owner)
        response = client.post(url(youth), _data(youth, phone="12ab", birth_year="19x"))
        assert response.status_code == 400
        assert "请填写 4 位年份" in response.content.decode()
        response = client.post(url(youth), _data(youth, phone="12345"))
        assert response.status_code == 400
        youth.refresh_from_db()
        assert youth.phone == "13900000001"

    def test_a_new_field_recounts_the_holding_cadres_and_the_scores(self, client, tree, youth):
        other = SectorFactory(name="新领域", code="new-field")
        assert CadreProgress.objects.get(cadre=tree.cadre).sector_count == 1
        second = CadreYouthFactory(cadre=tree.cadre, youth__sector=youth.sector).youth
        cadre_progress_refresh(cadre_ids=[tree.cadre.pk])
        assert CadreProgress.objects.get(cadre=tree.cadre).sector_count == 1
        client.force_login(tree.owner)
        with mock.patch("assessment.freshness.numbers_changed") as changed:
            client.post(url(second), _data(second, sector=other.pk))
        assert changed.called
        assert CadreProgress.objects.get(cadre=tree.cadre).sector_count == 2

    @pytest.mark.parametrize("who", ["outsider", "cadre_user"])
    def test_outsider_and_cadre_get_404(self, client, tree, youth, who):
        client.force_login(getattr(tree, who))
        assert client.get(url(youth)).status_code == 404
        assert client.post(url(youth), _data(youth, phone="13900000005")).status_code == 404
        youth.refresh_from_db()
        assert youth.phone == "13900000001"

    def test_page_queries_are_bounded(self, client, tree, youth, django_assert_max_num_queries):
        client.force_login(tree.owner)
        with django_assert_max_num_queries(12):
            assert client.get(url(youth)).status_code == 200


class TestMoveAway:
    def test_links_end_with_history_and_the_quota_drops_the_youth(self, client, tree, youth):
        assert CadreProgress.objects.get(cadre=tree.cadre).youth_count == 1
        client.force_login(tree.owner)
        day = timezone.localdate() - datetime.timedelta(days=3)
        response = client.post(url(youth, "move-away"), {"on": day.isoformat()})
        assert response.status_code == 302
        youth.refresh_from_db()
        assert youth.moved_away_on == day
        assert not CadreYouth.objects.filter(youth=youth).exists()
        ended = CadreYouth.history.filter(youth_id=youth.pk, history_type="-")
        assert list(ended.values_list("history_user", flat=True)) == [tree.owner.pk]
        assert CadreProgress.objects.get(cadre=tree.cadre).youth_count == 0
        assert youth.history.first().history_user == tree.owner
        page = client.get(f"/cadres/youths/{youth.pk}/").content.decode()
        assert "迁出" in page and youth.name in page  # the record stays, visible to staff

    def test_a_moved_youth_cannot_be_linked_again(self, client, tree, youth):
        client.force_login(tree.owner)
        client.post(url(youth, "move-away"), {"on": timezone.localdate().isoformat()})
        youth.refresh_from_db()
        with pytest.raises(ValidationError):
            cadre_youth_link(cadre=tree.cadre, youth=youth, by=tree.owner)

    def test_a_future_day_is_refused_and_nothing_changes(self, client, tree, youth):
        client.force_login(tree.owner)
        day = timezone.localdate() + datetime.timedelta(days=1)
        response = client.post(url(youth, "move-away"), {"on": day.isoformat()}, follow=True)
        assert "迁出日期不能晚于今天" in response.content.decode()
        youth.refresh_from_db()
        assert youth.moved_away_on is None
        assert CadreYouth.objects.filter(youth=youth).exists()

    def test_outsider_gets_404_and_nothing_changes(self, client, tree, youth):
        client.force_login(tree.outsider)
        response = client.post(url(youth, "move-away"), {"on": timezone.localdate().isoformat()})
        assert response.status_code == 404
        youth.refresh_from_db()
        assert youth.moved_away_on is None

    def test_get_is_not_allowed(self, client, tree, youth):
        client.force_login(tree.owner)
        assert client.get(url(youth, "move-away")).status_code == 405
