"""Personal data that can be erased (issue 11 item 8): `cadres.services.youth_erase`, the
retention rule, consent records and minimal disclosure between cadres on a youth's timeline."""

from __future__ import annotations

import datetime
import json

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import models
from django.utils import timezone

from cadres import services
from cadres.models import (
    CadreProgress,
    CadreYouth,
    Consent,
    ErasureLog,
    ExportLog,
    RosterImport,
    Youth,
)
from cadres.privacy import ERASED_NAME, erasure_tag, retention_candidates, retention_report
from contacts.models import Contact, ContactYouth, Need
from contacts.selectors import youth_timeline
from tests.factories import (
    CadreFactory,
    CadreYouthFactory,
    NeedFactory,
    RegistrationFactory,
    UserFactory,
    YouthFactory,
    log_contact,
)

pytestmark = pytest.mark.django_db

NAME, PHONE, WECHAT = "乌兰其其格", "13900001111", "wulan_qqg"


@pytest.fixture
def person(tree):
    """A youth named in every kind of row that can hold them."""
    youth = YouthFactory(
        name=NAME,
        phone=PHONE,
        wechat_id=WECHAT,
        unit="职教中心",
        notes="家住甲镇",
        organisation=tree.town_a,
    )
    youth.name = NAME  # a second historical row
    youth.notes = "家住甲镇东街"
    youth.save()
    CadreYouthFactory(cadre=tree.cadre, youth=youth)
    services.cadre_progress_refresh(cadre_ids=[tree.cadre.pk])
    log_contact(
        tree.cadre,
        [youth],
        by=tree.cadre_user,
        channel="talk",
        notes=f"与{NAME}谈就业，电话 {PHONE}",
        help_given=f"帮{NAME}联系了招聘会",
    )
    NeedFactory(
        organisation=tree.town_a,
        owner_cadre=tree.cadre,
        youth=youth,
        asker_name=NAME,
        reply_to=PHONE,
        question=f"我是{NAME}，想问创业贷款",
    )
    RegistrationFactory(youth=youth, name=NAME, phone=PHONE)
    RosterImport.objects.create(
        organisation=tree.town_a,
        filename="名单.csv",
        status=RosterImport.Status.DONE,
        rows=[
            {"row": 2, "name": NAME, "phone": PHONE, "birth_year": 1998, "unit": "职教中心"},
            {"row": 3, "name": "巴特尔", "phone": "13900002222", "birth_year": 1997, "unit": ""},
        ],
        created_by=tree.owner,
    )
    ExportLog.objects.create(
        user=tree.owner,
        list_name="youths",
        export_format="csv",
        querystring=f"q={PHONE}",
        row_count=1,
    )
    services.consent_record(youth=youth, wording_version="v1", method=Consent.Method.CADRE)
    from assessment.models import Notification

    Notification.objects.create(
        user=tree.cadre_user,
        kind=Notification.Kind.DORMANT,
        key="dormant",
        data={"youths": [{"id": youth.pk, "name": NAME, "last": None}]},
    )
    return youth


def _everything_that_mentions(*needles: str) -> list[str]:
    """Every row of every table (history included) whose text holds one of the needles."""
    found = []
    for model in apps.get_models():
        text = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        if not text:
            continue
        for row in model.objects.values("pk", *text):
            blob = json.dumps(row, ensure_ascii=False, default=str)
            found += [f"{model._meta.label} {row['pk']}" for n in needles if n in blob]
    return found


def test_the_check_finds_the_person_before_erasure(person):
    """The whole-database scan below can fail: before erasure it finds the person everywhere."""
    found = " ".join(_everything_that_mentions(NAME, PHONE, WECHAT))
    for label in (
        "cadres.Youth",
        "cadres.HistoricalYouth",
        "contacts.Contact",
        "contacts.HistoricalContact",
        "contacts.Need",
        "contacts.HistoricalNeed",
        "activities.Registration",
        "cadres.RosterImport",
        "cadres.ExportLog",
        "assessment.Notification",
    ):
        assert label in found


def test_erasure_leaves_the_person_in_no_table(tree, person):
    log = services.youth_erase(youth=person, reason="本人申请删除", by=tree.owner)
    assert _everything_that_mentions(NAME, PHONE, WECHAT, "职教中心", "家住甲镇") == []
    youth = Youth.objects.get(pk=person.pk)
    assert (youth.name, youth.phone, youth.unit, youth.notes) == (ERASED_NAME, "", "", "")
    assert youth.erased_at is not None
    assert not Youth.history.filter(id=person.pk).exists()
    # The other youth of the roster file is untouched.
    rows = RosterImport.objects.get().rows
    assert rows[1]["name"] == "巴特尔" and rows[0]["name"] == ERASED_NAME
    assert log.tag == erasure_tag(person.pk) and log.erased_by == tree.owner
    assert log.organisation == tree.town_a and log.reason == "本人申请删除"


def test_erasure_keeps_the_counts_and_ends_the_links(tree, person):
    contacts, rows, needs = (
        Contact.objects.count(),
        ContactYouth.objects.count(),
        Need.objects.count(),
    )
    assert CadreProgress.objects.get(cadre=tree.cadre).youth_count == 1
    services.youth_erase(youth=person, reason="本人申请删除", by=tree.owner)
    assert (Contact.objects.count(), ContactYouth.objects.count(), Need.objects.count()) == (
        contacts,
        rows,
        needs,
    )
    assert not CadreYouth.objects.filter(youth_id=person.pk).exists()
    assert CadreProgress.objects.get(cadre=tree.cadre).youth_count == 0
    assert Consent.objects.get(youth_id=person.pk).withdrawn_at is not None


def test_the_erasure_log_holds_no_personal_data(tree, person):
    log = services.youth_erase(youth=person, reason="本人申请删除", by=tree.owner)
    blob = json.dumps(
        ErasureLog.objects.filter(pk=log.pk).values().get(), ensure_ascii=False, default=str
    )
    assert NAME not in blob and PHONE not in blob and str(person.birth_year) not in blob
    assert log.counts["contacts.Contact"] == 1 and log.counts["cadres.RosterImport"] == 1


def test_an_erased_youth_is_in_nobodys_scope_and_cannot_be_erased_twice(tree, person, client):
    services.youth_erase(youth=person, reason="本人申请删除", by=tree.owner)
    client.force_login(tree.owner)
    assert client.get(f"/cadres/youths/{person.pk}/").status_code == 404
    with pytest.raises(ValidationError):
        services.youth_erase(youth=person, reason="再删一次", by=tree.owner)
    assert ErasureLog.objects.count() == 1


def test_a_reason_is_required(tree, person):
    with pytest.raises(ValidationError):
        services.youth_erase(youth=person, reason="  ", by=tree.owner)
    assert Youth.objects.get(pk=person.pk).name == NAME


# --- Retention ---------------------------------------------------------------------------------


def _aged(youth, years: int, days: int = 0):
    then = timezone.now() - datetime.timedelta(days=365 * years + days)
    Youth.objects.filter(pk=youth.pk).update(created_at=then)
    return youth


def test_retention_names_the_stale_and_the_over_age_only(tree):
    today = timezone.localdate()
    org = tree.town_a
    stale = _aged(YouthFactory(organisation=org), 4)
    recent_contact = _aged(YouthFactory(organisation=org), 4)
    link = CadreYouthFactory(cadre=tree.cadre, youth=recent_contact)
    log_contact(tree.cadre, [recent_contact], date=today - datetime.timedelta(days=300))
    link.delete()  # no link left, but a contact within the three years
    linked = _aged(YouthFactory(organisation=org), 4)
    CadreYouthFactory(cadre=tree.cadre, youth=linked)
    new_unlinked = YouthFactory(organisation=org)
    over_age = YouthFactory(organisation=org, birth_year=today.year - 30)
    at_limit = YouthFactory(organisation=org, birth_year=today.year - 29)
    CadreYouthFactory(cadre=tree.cadre, youth=over_age)
    names = set(retention_candidates(today=today).values_list("pk", flat=True))
    assert names == {stale.pk, over_age.pk}
    assert {recent_contact.pk, linked.pk, new_unlinked.pk, at_limit.pk}.isdisjoint(names)


def test_retention_years_are_a_setting(tree, settings):
    youth = _aged(YouthFactory(organisation=tree.town_a), 2)
    assert not retention_candidates().filter(pk=youth.pk).exists()
    settings.LIANQING_RETENTION_YEARS = 1
    assert retention_candidates().filter(pk=youth.pk).exists()


def test_retention_report_is_a_dry_run_and_apply_anonymises(tree, capsys):
    youth = _aged(YouthFactory(organisation=tree.town_a, name="旧青年甲"), 4)
    call_command("retention_report")
    out = capsys.readouterr().out
    assert "1" in out and tree.town_a.name in out and "旧青年甲" not in out
    assert Youth.objects.get(pk=youth.pk).erased_at is None
    call_command("retention_report", "--apply")
    youth.refresh_from_db()
    assert youth.erased_at is not None and youth.name == ERASED_NAME
    log = ErasureLog.objects.get()
    assert log.kind == ErasureLog.Kind.RETENTION and log.erased_by is None
    assert retention_report()["total"] == 0  # a rerun finds nothing left


def test_the_beat_task_applies_the_rule(tree):
    from cadres.tasks import retention_sweep

    youth = _aged(YouthFactory(organisation=tree.town_a), 4)
    assert retention_sweep() == 1
    assert Youth.objects.get(pk=youth.pk).erased_at is not None
    assert retention_sweep() == 0


def test_the_sweep_works_in_bounded_batches_and_queues_the_next(tree, monkeypatch):
    """Each run stops starting erasures past its time budget (its hard limit stays below the
    broker's visibility timeout) and queues the next run while candidates remain."""
    from cadres import tasks

    youths = [_aged(YouthFactory(organisation=tree.town_a), 4) for _ in range(3)]
    monkeypatch.setattr(tasks, "RETENTION_BATCH_SECONDS", 0.0)  # one youth per run
    queued = []
    monkeypatch.setattr("cadres.outbox.enqueue", lambda task, *args: queued.append(task.name))
    assert tasks.retention_sweep() == 1
    assert queued == ["cadres.retention_sweep"]
    assert Youth.objects.filter(pk__in=[y.pk for y in youths], erased_at__isnull=True).count() == 2
    assert tasks.retention_sweep() == 1 and tasks.retention_sweep() == 1
    assert queued == ["cadres.retention_sweep"] * 2  # the last batch found nothing left
    assert tasks.retention_sweep() == 0


# --- Minimal disclosure on the timeline -------------------------------------------------------


def test_a_cadre_sees_only_that_another_cadres_need_exists(tree):
    other_user = UserFactory(organisation=tree.town_a, role="cadre")
    other = CadreFactory(name="乙干部", organisation=tree.town_a, user=other_user)
    youth = YouthFactory(organisation=tree.town_a)
    CadreYouthFactory(cadre=tree.cadre, youth=youth)
    CadreYouthFactory(cadre=other, youth=youth)
    NeedFactory(organisation=tree.town_a, owner_cadre=other, youth=youth, question="想借创业贷款")
    NeedFactory(organisation=tree.town_a, owner_cadre=tree.cadre, youth=youth, question="想找工作")
    mine = youth_timeline(youth=youth, user=tree.cadre_user)
    kinds = sorted(e["kind"] for e in mine)
    assert kinds == ["need", "need_other"]
    hidden = next(e for e in mine if e["kind"] == "need_other")
    assert hidden["owner"] == "乙干部" and "need" not in hidden
    staff = youth_timeline(youth=youth, user=tree.owner)
    assert sorted(e["kind"] for e in staff) == ["need", "need"]


def test_the_timeline_page_hides_the_text_of_another_cadres_need(tree, client):
    other = CadreFactory(name="乙干部", organisation=tree.town_a)
    youth = YouthFactory(organisation=tree.town_a)
    CadreYouthFactory(cadre=tree.cadre, youth=youth)
    NeedFactory(organisation=tree.town_a, owner_cadre=other, youth=youth, question="想借创业贷款")
    client.force_login(tree.cadre_user)
    page = client.get(f"/contacts/youths/{youth.pk}/").content.decode()
    assert "想借创业贷款" not in page and "乙干部" in page
    client.force_login(tree.owner)
    assert "想借创业贷款" in client.get(f"/contacts/youths/{youth.pk}/").content.decode()


# --- The admin ----------------------------------------------------------------------------------


def test_the_admin_cannot_delete_a_youth_and_does_not_list_erased_ones(tree, person, client):
    admin_user = UserFactory(username="root_t", is_superuser=True, is_staff=True, role="admin")
    client.force_login(admin_user)
    assert client.get(f"/admin/cadres/youth/{person.pk}/delete/").status_code == 403
    services.youth_erase(youth=person, reason="本人申请删除", by=tree.owner)
    assert client.get(f"/admin/cadres/youth/{person.pk}/change/").status_code in (302, 404)
    for page in ("/admin/cadres/erasurelog/", "/admin/cadres/consent/"):
        response = client.get(page)
        assert response.status_code == 200 and NAME not in response.content.decode()
