"""/contacts/: the staff contact list with filters and export, scoped to the subtree."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tests.factories import CadreFactory, CadreYouthFactory, log_contact

pytestmark = pytest.mark.django_db
URL = "/contacts/"


@pytest.fixture
def contacts(tree, own_youths):
    mine = log_contact(tree.cadre, own_youths[:2], channel="talk", topic="甲镇座谈")
    b_cadre = CadreFactory(organisation=tree.town_b, name="乙镇干部")
    b_youth = CadreYouthFactory(cadre=b_cadre).youth
    theirs = log_contact(b_cadre, [b_youth], channel="wechat", topic="乙镇话题")
    return mine, theirs


def test_owner_sees_own_subtree_only(client, tree, contacts):
    client.force_login(tree.owner)
    body = client.get(URL).content.decode()
    assert "甲镇座谈" in body and "乙镇话题" not in body


def test_county_sees_both(client, tree, contacts):
    client.force_login(tree.county)
    body = client.get(URL).content.decode()
    assert "甲镇座谈" in body and "乙镇话题" in body


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_outsider_export_does_not_contain_other_subtree(client, tree, contacts, fmt):
    client.force_login(tree.outsider)
    response = client.get(URL, {"_export": fmt})
    assert response.status_code == 200
    if fmt == "csv":
        text = response.content.decode("utf-8-sig")
    else:
        import io

        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(response.content)).active
        text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row)
    assert "乙镇话题" in text and "甲镇座谈" not in text


def test_outsider_gets_404_for_a_contact_of_another_subtree(client, tree, contacts):
    mine, _theirs = contacts
    client.force_login(tree.outsider)
    assert client.get(f"/contacts/{mine.pk}/").status_code == 404
    assert client.post(f"/contacts/{mine.pk}/delete/").status_code == 404


def test_cadre_gets_404_on_the_staff_list(client, tree, contacts):
    client.force_login(tree.cadre_user)
    assert client.get(URL).status_code == 404


def test_filters_by_channel_and_date(client, tree, contacts, own_youths):
    old = timezone.localdate() - datetime.timedelta(days=40)
    log_contact(tree.cadre, own_youths[:1], channel="qq", date=old, topic="旧的QQ")
    client.force_login(tree.county)
    body = client.get(URL, {"channel": "qq"}).content.decode()
    assert "旧的QQ" in body and "甲镇座谈" not in body
    since = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    body = client.get(URL, {"date_from": since}).content.decode()
    assert "旧的QQ" not in body and "甲镇座谈" in body
    body = client.get(URL, {"organisation": tree.town_b.pk}).content.decode()
    assert "乙镇话题" in body and "甲镇座谈" not in body
    body = client.get(URL, {"offline": "true"}).content.decode()
    assert "甲镇座谈" in body and "乙镇话题" not in body


def test_organisation_filter_choices_are_scoped(client, tree, contacts):
    client.force_login(tree.outsider)
    response = client.get(URL, {"organisation": tree.town_a.pk})
    assert "甲镇座谈" not in response.content.decode()


def test_export_escapes_formula_cells(client, tree, own_youths):
    log_contact(tree.cadre, own_youths[:1], topic='=HYPERLINK("x")')
    client.force_login(tree.owner)
    response = client.get(URL, {"_export": "csv"})
    text = response.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text


def test_soft_deleted_contact_leaves_the_list(client, tree, contacts):
    mine, _ = contacts
    client.force_login(tree.owner)
    response = client.post(f"/contacts/{mine.pk}/delete/")
    assert response.status_code == 302
    assert "甲镇座谈" not in client.get(URL).content.decode()
    assert "已删除" in client.get(f"/contacts/{mine.pk}/").content.decode()


def test_list_and_export_queries_are_constant(
    client, tree, contacts, own_youths, django_assert_max_num_queries
):
    for _ in range(20):
        log_contact(tree.cadre, own_youths[:3], channel="visit")
    client.force_login(tree.county)
    with django_assert_max_num_queries(8):
        assert client.get(URL).status_code == 200
    # One more than before the shared export mixin: the INSERT of the ExportLog row.
    with django_assert_max_num_queries(11):
        assert client.get(URL, {"_export": "csv"}).status_code == 200
    from cadres.models import ExportLog

    assert ExportLog.objects.filter(user=tree.county, list_name="contacts").exists()
