"""The linking rule and the ceiling live in cadres.services.cadre_youths_link, and every path
that links obeys them: the registry service, the quick log, the roster import, the admin.
Includes the roster attack of issue 11: a township's upload naming another township's minor."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cadres import roster_import, services
from cadres.admin import CadreYouthAdminForm
from cadres.models import CadreType, CadreYouth, RosterImport, Youth
from contacts.models import Contact
from contacts.services import contact_log
from tests.factories import (
    CadreFactory,
    CadreYouthFactory,
    QuotaRuleFactory,
    SectorFactory,
    YouthFactory,
)

pytestmark = pytest.mark.django_db

HEADER = "姓名,性别,出生年份,领域,单位/学校/村（嘎查）,手机号,微信号,备注,建立联系日期"
OUTSIDE = "所选青年不在团干部所在组织（含下级组织）的范围内，无法关联。"


@pytest.fixture
def sector(db):
    return SectorFactory(code="enterprise", name="企业青年")


def _roster(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def _prepare(tree, data: bytes, *, cadre=None, organisation=None, by=None):
    return roster_import.roster_import_prepare(
        data=data,
        filename="roster.csv",
        organisation=organisation or tree.town_a,
        cadre=cadre if cadre is not None else tree.cadre,
        by=by or tree.owner,
    )


# --- the rule, in the service ---------------------------------------------------------------


def test_a_cadre_links_a_youth_of_own_subtree(tree):
    youth = YouthFactory(organisation=tree.branch_a)
    link = services.cadre_youth_link(cadre=tree.cadre, youth=youth, by=tree.owner)
    assert (link.cadre, link.youth) == (tree.cadre, youth)
    assert link.history.first().history_user == tree.owner


@pytest.mark.parametrize("where", ["town_b", "town_a_from_branch"])
def test_outsider_youth_is_refused_and_nothing_is_written(tree, where):
    if where == "town_b":
        cadre, youth = tree.cadre, YouthFactory(organisation=tree.town_b)
    else:  # a branch cadre reaching up to the township's youths: not their subtree either
        cadre, youth = (
            CadreFactory(organisation=tree.branch_a),
            YouthFactory(organisation=tree.town_a),
        )
    with pytest.raises(ValidationError) as exc:
        services.cadre_youth_link(cadre=cadre, youth=youth)
    assert exc.value.messages == [OUTSIDE]
    assert not CadreYouth.objects.exists()


def test_a_missing_youth_gets_the_same_answer_as_an_outsider(tree):
    """The quick log must not become an oracle of which youth ids exist elsewhere."""
    outsider = YouthFactory(organisation=tree.town_b)
    answers = []
    for pk in (outsider.pk, outsider.pk + 1000):
        with pytest.raises(ValidationError) as exc:
            contact_log(
                cadre=tree.cadre,
                youths=[pk],
                channel="wechat",
                date=timezone.localdate(),
                link_unlinked=True,
                by=tree.cadre_user,
            )
        answers.append(exc.value.message_dict)
    assert answers[0] == answers[1] == {"youths": [OUTSIDE]}
    assert not Contact.objects.exists() and not CadreYouth.objects.exists()


def test_the_ceiling_refuses_links_past_factor_times_quota(tree, settings):
    settings.LIANQING_LINK_CEILING_FACTOR = 2
    QuotaRuleFactory(cadre_type=CadreType.FULL_TIME, quota=2)  # ceiling: 4
    youths = [YouthFactory(organisation=tree.town_a) for _ in range(5)]
    assert (
        services.cadre_youths_link(
            cadre=tree.cadre, youths=dict.fromkeys([y.pk for y in youths[:3]])
        )
        == 3
    )
    # Two more at once: all or none, and the reason says the limit.
    with pytest.raises(ValidationError) as exc:
        services.cadre_youths_link(
            cadre=tree.cadre, youths=dict.fromkeys([youths[3].pk, youths[4].pk])
        )
    assert "上限 4 名" in exc.value.messages[0]
    assert CadreYouth.objects.filter(cadre=tree.cadre).count() == 3
    services.cadre_youth_link(cadre=tree.cadre, youth=youths[3])
    # Linking an already linked youth again costs nothing, even at the ceiling.
    services.cadre_youth_link(cadre=tree.cadre, youth=youths[0])
    with pytest.raises(ValidationError):
        services.cadre_youth_link(cadre=tree.cadre, youth=youths[4])
    assert CadreYouth.objects.filter(cadre=tree.cadre).count() == 4


def test_the_admin_link_form_obeys_the_rule(tree):
    outside = YouthFactory(organisation=tree.town_b)
    form = CadreYouthAdminForm(
        data={"cadre": tree.cadre.pk, "youth": outside.pk, "linked_on": "2026-01-05"}
    )
    assert not form.is_valid() and OUTSIDE in form.non_field_errors()
    inside = YouthFactory(organisation=tree.town_a)
    form = CadreYouthAdminForm(
        data={"cadre": tree.cadre.pk, "youth": inside.pk, "linked_on": "2026-01-05"}
    )
    assert form.is_valid(), form.errors


# --- the roster import ------------------------------------------------------------------------


def test_a_townships_upload_with_another_townships_minor_links_and_reveals_nothing(
    client, tree, sector
):
    """Issue 11: township A's upload carries the phone of a minor registered in township B."""
    minor_year = timezone.localdate().year - 12
    minor = YouthFactory(
        name="乙镇少年", birth_year=minor_year, phone="13912340000", organisation=tree.town_b
    )
    record = _prepare(
        tree,
        _roster(
            f"冒名,男,{timezone.localdate().year - 13},企业青年,某校,13912340000,,,",
            "甲镇青年,女,1999,企业青年,物流园,13800000001,,,",
        ),
    )
    assert record.status == RosterImport.Status.INVALID
    assert record.errors == [
        {"row": 2, "column": "手机号", "problem": "已在其他组织登记，请联系上级团委"}
    ]
    assert (record.n_new, record.n_matched) == (0, 0)  # no count tells the phone exists
    assert not CadreYouth.objects.exists()
    assert Youth.objects.count() == 1
    # The report page names neither the youth nor where they are registered.
    client.force_login(tree.owner)
    page = client.get(reverse("cadres:import_detail", args=[record.pk])).content.decode()
    assert "已在其他组织登记" in page
    assert minor.name not in page and tree.town_b.name not in page
    # And the cadre still cannot open the minor's record.
    client.force_login(tree.cadre_user)
    assert client.get(reverse("cadres:youth_detail", args=[minor.pk])).status_code == 404


def test_the_preview_counts_only_matches_in_the_importers_scope(tree, sector):
    mine = YouthFactory(name="甲", phone="13800000002", organisation=tree.branch_a)
    # Township B's youth with the same name, birth year and unit (no phone): not a match for A.
    YouthFactory(name="同名", birth_year=2000, unit="新胜村", phone="", organisation=tree.town_b)
    record = _prepare(
        tree,
        _roster("甲,男,1998,企业青年,厂,13800000002,,,", "同名,男,2000,企业青年,新胜村,,,,"),
    )
    assert record.status == RosterImport.Status.PREVIEW, record.errors
    assert (record.n_new, record.n_matched) == (1, 1)
    record = roster_import.roster_import_commit(roster_import=record, by=tree.owner)
    linked = set(
        CadreYouth.objects.filter(cadre=tree.cadre).values_list("youth__organisation", flat=True)
    )
    assert mine.pk in set(CadreYouth.objects.values_list("youth_id", flat=True))
    assert linked == {tree.branch_a.pk, tree.town_a.pk}  # the new one is A's, B's untouched
    assert Youth.objects.filter(organisation=tree.town_b).count() == 1


def test_banner_import_refuses_a_youth_outside_the_cadres_subtree_on_its_row(tree, sector):
    """The banner's staff see township B, but a township A cadre may not link B's youth."""
    YouthFactory(name="乙镇青年", phone="13800000003", organisation=tree.town_b)
    record = _prepare(tree, _roster("乙镇青年,男,1998,企业青年,厂,13800000003,,,"), by=tree.county)
    assert record.status == RosterImport.Status.INVALID
    assert record.errors == [{"row": 2, "column": "", "problem": OUTSIDE}]
    assert not CadreYouth.objects.exists()


def test_import_for_an_organisation_above_the_cadre_is_refused(tree, sector):
    branch_cadre = CadreFactory(organisation=tree.branch_a)
    with pytest.raises(ValidationError) as exc:
        _prepare(tree, _roster("甲,男,1998,企业青年,厂,,,,"), cadre=branch_cadre)
    assert "cadre" in exc.value.message_dict
    assert not RosterImport.objects.exists()


def test_the_roster_reports_rows_past_the_ceiling(tree, sector, settings):
    settings.LIANQING_LINK_CEILING_FACTOR = 1
    QuotaRuleFactory(cadre_type=CadreType.FULL_TIME, quota=3)
    CadreYouthFactory(cadre=tree.cadre)  # one already held: room for two
    record = _prepare(
        tree,
        _roster(
            "一,男,1998,企业青年,厂,13800000011,,,",
            "二,男,1998,企业青年,厂,13800000012,,,",
            "二,男,1998,企业青年,厂,13800000012,,,",  # the same youth again: counts once
            "三,男,1998,企业青年,厂,13800000013,,,",
        ),
    )
    assert record.status == RosterImport.Status.INVALID
    assert [e["row"] for e in record.errors] == [5]
    assert "上限 3 名" in record.errors[0]["problem"]
    assert Youth.objects.count() == 1


def test_a_commit_refused_by_the_ceiling_writes_nothing(tree, sector, settings):
    settings.LIANQING_LINK_CEILING_FACTOR = 1
    QuotaRuleFactory(cadre_type=CadreType.FULL_TIME, quota=2)
    record = _prepare(
        tree,
        _roster("一,男,1998,企业青年,厂,13800000021,,,", "二,男,1998,企业青年,厂,13800000022,,,"),
    )
    assert record.status == RosterImport.Status.PREVIEW, record.errors
    CadreYouthFactory(cadre=tree.cadre)  # meanwhile the cadre was given another youth
    before = Youth.objects.count()
    with pytest.raises(ValidationError) as exc:
        roster_import.roster_import_commit(roster_import=record, by=tree.owner)
    assert "上限 2 名" in " ".join(exc.value.messages)
    assert Youth.objects.count() == before
    assert RosterImport.objects.get(pk=record.pk).status == RosterImport.Status.PREVIEW


def test_a_commit_after_the_phone_was_registered_elsewhere_writes_nothing(tree, sector):
    record = _prepare(tree, _roster("一,男,1998,企业青年,厂,13800000031,,,"))
    assert record.status == RosterImport.Status.PREVIEW, record.errors
    YouthFactory(phone="13800000031", organisation=tree.town_b)
    with pytest.raises(ValidationError) as exc:
        roster_import.roster_import_commit(roster_import=record, by=tree.owner)
    assert "第 2 行：已在其他组织登记，请联系上级团委" in exc.value.messages
    assert Youth.objects.count() == 1 and not CadreYouth.objects.exists()


def test_the_web_upload_of_the_attack_answers_with_the_report(client, tree, sector):
    YouthFactory(phone="13912340001", organisation=tree.town_b)
    client.force_login(tree.owner)
    upload = SimpleUploadedFile(
        "roster.csv", _roster("冒名,男,2000,企业青年,某校,13912340001,,,"), "text/csv"
    )
    response = client.post(
        reverse("cadres:import"),
        {"file": upload, "organisation__pk": tree.town_a.pk, "cadre__pk": tree.cadre.pk},
        follow=True,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "已在其他组织登记，请联系上级团委" in body
    assert not CadreYouth.objects.exists()
