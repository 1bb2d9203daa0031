"""Erasure wins against a roster check already running (issue 11 item 8): the stored preview
never keeps the erased person's name or phone, whichever of the two writes first.

Before: the check read the upload at its start and stored its preview at the end with a plain
save, so an erasure in between (which had dropped the pending upload) was overwritten by a
PREVIEW holding the person; an erasure during the check's final write waited for it, then
marked the import INVALID but left its rows.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from cadres import jobs, roster_import, services
from cadres.models import RosterImport
from cadres.privacy import UPLOAD_ERASED
from tests.factories import SectorFactory, YouthFactory

NAME, PHONE = "王小明", "13912345678"


def _upload(tree):
    SectorFactory(code="enterprise", name="企业青年")
    person = YouthFactory(name=NAME, phone=PHONE, birth_year=1998, organisation=tree.town_a)
    lines = ["姓名,性别,出生年份,领域,单位,手机号", f"{NAME},男,1998,企业青年,职教中心,{PHONE}"]
    lines += [f"青年{i},女,1999,企业青年,单位{i},137{i:08d}" for i in range(20)]
    data = ("\n".join(lines) + "\n").encode()
    record = roster_import.roster_import_new(
        filename="r.csv", organisation=tree.town_a, by=tree.owner, upload=data
    )
    return person, record


def _stored_text(pk: int) -> str:
    record = RosterImport.objects.get(pk=pk)
    return f"{record.rows} {record.errors} {bytes(record.upload)!r}"


@pytest.mark.django_db
def test_an_erasure_while_the_check_runs_leaves_no_preview_of_the_person(tree, monkeypatch):
    person, record = _upload(tree)
    plan = roster_import._plan_roster

    def plan_then_erase(*args, **kwargs):
        # The check has read the file and matched it; the erasure commits before it stores.
        result = plan(*args, **kwargs)
        services.youth_erase(youth=person, reason="本人申请删除", by=tree.owner)
        return result

    monkeypatch.setattr(roster_import, "_plan_roster", plan_then_erase)
    assert jobs.roster_check_run(import_id=record.pk, user_id=tree.owner.pk) == "invalid"
    stored = RosterImport.objects.get(pk=record.pk)
    assert stored.status == RosterImport.Status.INVALID and stored.rows == []
    assert stored.errors[0]["problem"] == str(UPLOAD_ERASED)
    text = _stored_text(record.pk)
    assert NAME not in text and PHONE not in text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_erasure_during_the_checks_final_write_scrubs_what_it_stored(tree, monkeypatch):
    person, record = _upload(tree)
    saved, go = threading.Event(), threading.Event()
    save_rows = roster_import._save_rows
    errors: list[BaseException] = []

    def save_then_wait(*args, **kwargs):
        save_rows(*args, **kwargs)
        saved.set()  # the preview's rows are written, not committed, the import row locked
        go.wait(60)

    monkeypatch.setattr(roster_import, "_save_rows", save_then_wait)

    def run(work):
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    check = threading.Thread(
        target=run,
        args=(lambda: jobs.roster_check_run(import_id=record.pk, user_id=tree.owner.pk),),
    )
    erase = threading.Thread(
        target=run,
        args=(lambda: services.youth_erase(youth=person, reason="本人申请删除", by=tree.owner),),
    )
    check.start()
    assert saved.wait(60)
    erase.start()
    # Let the erasure reach the import row's lock (or finish, if it does not wait for it).
    for _ in range(600):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            )
            if cursor.fetchone()[0] or not erase.is_alive():
                break
        time.sleep(0.1)
    go.set()
    check.join(60)
    erase.join(60)
    assert not errors, errors
    stored = RosterImport.objects.get(pk=record.pk)
    assert stored.status == RosterImport.Status.PREVIEW  # the check came first: it stored
    assert len(stored.rows) == 21
    text = _stored_text(record.pk)
    assert NAME not in text and PHONE not in text


@pytest.mark.django_db
def test_an_erasure_after_the_check_voids_the_waiting_preview(tree):
    """A checked import waiting for its commit names the person: the erasure voids it, so the
    commit (which matches the stored rows again) can never create a youth named （已删除）."""
    from cadres.models import Youth
    from cadres.privacy import ERASED_NAME, PREVIEW_ERASED

    person, record = _upload(tree)
    assert jobs.roster_check_run(import_id=record.pk, user_id=tree.owner.pk) == "preview"
    services.youth_erase(youth=person, reason="本人申请删除", by=tree.owner)
    stored = RosterImport.objects.get(pk=record.pk)
    assert stored.status == RosterImport.Status.INVALID and stored.rows == []
    assert stored.errors[0]["problem"] == str(PREVIEW_ERASED)
    text = _stored_text(record.pk)
    assert NAME not in text and PHONE not in text
    youths = Youth.objects.count()
    with pytest.raises(ValidationError):
        roster_import.roster_import_commit(roster_import=stored, by=tree.owner)
    assert Youth.objects.count() == youths
    assert Youth.objects.filter(name=ERASED_NAME).count() == 1  # the erased person only


@pytest.mark.django_db
def test_an_import_without_the_person_is_left_to_commit(tree):
    _person, record = _upload(tree)
    other = YouthFactory(name="李四", phone="13800000001", organisation=tree.town_a)
    assert jobs.roster_check_run(import_id=record.pk, user_id=tree.owner.pk) == "preview"
    services.youth_erase(youth=other, reason="本人申请删除", by=tree.owner)
    assert RosterImport.objects.get(pk=record.pk).status == RosterImport.Status.PREVIEW
