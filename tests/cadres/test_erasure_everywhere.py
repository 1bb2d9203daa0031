"""Erasure reaches everything that may hold the person (issue 11 item 8): the export files kept
for download, and every text or binary column of every table in the database, whatever app or
library created it (history, export log, outbox payloads, touched markers, rate-limit and
confirmation records included)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from cadres import services
from cadres.export_jobs import export_dir, export_job_file
from cadres.models import ExportJob, RosterImport, TaskOutbox
from contacts.models import Confirmation, Contact

# `person`: the youth named in every kind of row (tests/cadres/test_privacy.py).
from tests.cadres.test_privacy import NAME, PHONE, WECHAT, person  # noqa: F401
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def exports(settings, tmp_path):
    settings.LIANQING_EXPORT_DIR = tmp_path / "exports"
    return settings


def _job(user, *, status=ExportJob.Status.DONE, hours=24, text=f"{NAME},{PHONE}\n"):
    job = ExportJob.objects.create(
        user=user,
        path="/cadres/youths/",
        list_name="youths",
        export_format="csv",
        status=status,
        download_name="youths.csv",
        expires_at=timezone.now() + datetime.timedelta(hours=hours),
    )
    if status == ExportJob.Status.DONE:
        job.file_name = f"{job.pk}.csv"
        job.save(update_fields=["file_name"])
        (export_dir() / job.file_name).write_text(text, encoding="utf-8")
    return job


def test_erasure_deletes_the_export_files_that_may_hold_the_person(
    tree,
    person,  # noqa: F811
    exports,
    client,
):
    above = _job(tree.county)  # banner staff: the youth's township is in their subtree
    same = _job(tree.owner)
    cadre = _job(tree.cadre_user)  # the cadre who held the youth and logged the contact
    running = _job(tree.colleague, status=ExportJob.Status.RUNNING)
    outsider = _job(tree.outsider)  # another township: cannot have exported the youth
    other_cadre = _job(UserFactory(organisation=tree.town_a, role="cadre"))
    assert all(export_job_file(j) for j in (above, same, cadre, outsider, other_cadre))

    log = services.youth_erase(youth=person, reason="本人申请删除", by=tree.owner)

    for job in (above, same, cadre, running):
        job.refresh_from_db()
        assert job.status == ExportJob.Status.ERASED and job.file_name == "" and job.finished_at
    assert sorted(p.name for p in export_dir().iterdir()) == sorted(
        [f"{outsider.pk}.csv", f"{other_cadre.pk}.csv"]
    )
    assert export_job_file(ExportJob.objects.get(pk=outsider.pk)) is not None
    assert log.counts["cadres.ExportJob"] == 4
    # The requester sees why the file went, and cannot download it.
    client.force_login(tree.owner)
    page = client.get(f"/cadres/exports/jobs/{same.pk}/").content.decode()
    assert "个人信息删除" in page and "export-download" not in page
    assert client.get(f"/cadres/exports/jobs/{same.pk}/download/").status_code == 404


def test_a_job_still_writing_during_the_erasure_leaves_no_file(tree, person, exports):  # noqa: F811
    from cadres.export_jobs import export_write

    job = _job(tree.owner, status=ExportJob.Status.RUNNING)
    services.youth_erase(youth=person, reason="本人申请删除", by=tree.owner)
    # The worker had read the rows before the erasure and finishes writing now.
    export_write(job=job, headers=["姓名"], rows=[[NAME]], included_minors=False)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.ERASED
    assert list(export_dir().iterdir()) == []


def test_an_expired_job_is_left_to_the_purge(tree, person, exports):  # noqa: F811
    old = _job(tree.owner, hours=-1)
    services.youth_erase(youth=person, reason="本人申请删除", by=tree.owner)
    assert ExportJob.objects.get(pk=old.pk).status == ExportJob.Status.DONE  # purge deletes it


def _raw_mentions(*needles: str) -> list[str]:
    """Every (table, column) of the database, read as it is stored, whose value holds a needle:
    text columns, JSON (also \\u-escaped), and binary columns (an upload kept for its check)."""
    escaped = [n.encode("unicode_escape").decode().replace("\\\\u", "\\u") for n in needles]
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names from introspection
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, memoryview | bytes):
                        blob = bytes(value)
                        hits = [n for n in needles if n.encode() in blob]
                    else:
                        text = str(value)
                        hits = [n for n in (*needles, *escaped) if n in text]
                    found += [f"{table}.{column}" for _n in hits]
    return found


@pytest.fixture
def everywhere(tree, person):  # noqa: F811
    """Beyond the person fixture: rows in the tables that carry ids or hashes rather than text
    (outbox payloads, touched markers, confirmations), and an upload waiting for its check."""
    from assessment.models import TouchedCadre

    contact = Contact.objects.filter(cadre=tree.cadre).first()
    Confirmation.objects.create(
        contact=contact,
        cadre=tree.cadre,
        youth=person,
        kind=Confirmation.Kind.SHARE,
        outcome=Confirmation.Outcome.CONFIRMED,
        day=timezone.localdate(),
        device="0" * 32,
    )
    TaskOutbox.objects.create(task="assessment.compute_scores", args=[tree.cadre.pk])
    TouchedCadre.objects.create(period="2026Q4", cadre_id=tree.cadre.pk, week=timezone.localdate())
    RosterImport.objects.create(
        organisation=tree.town_a,
        filename="待检查.csv",
        status=RosterImport.Status.CHECKING,
        upload=f"姓名,手机号\n{NAME},{PHONE}\n".encode(),
        created_by=tree.owner,
    )
    return person


def test_the_raw_scan_finds_the_person_before_erasure(everywhere):
    """The scan below can fail: before erasure it finds the person in many tables, the upload's
    bytes included."""
    found = set(_raw_mentions(NAME, PHONE, WECHAT))
    assert {"cadres_youth.name", "cadres_historicalyouth.phone", "cadres_rosterimport.upload"} <= (
        found
    )
    assert len({f.split(".")[0] for f in found}) >= 8


def test_after_erasure_no_table_holds_the_name_phone_or_wechat(tree, everywhere, exports):
    from assessment.models import TouchedCadre

    _job(tree.owner)
    services.youth_erase(youth=everywhere, reason="本人申请删除", by=tree.owner)
    assert _raw_mentions(NAME, PHONE, WECHAT) == []
    assert list(export_dir().iterdir()) == []
    # Rows that carry only ids stay, so the counts and the pending work are kept.
    assert Confirmation.objects.filter(youth_id=everywhere.pk).count() == 1
    assert TaskOutbox.objects.count() == 1 and TouchedCadre.objects.exists()
