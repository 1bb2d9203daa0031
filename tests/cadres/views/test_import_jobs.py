"""A roster import's commit as a background job (cadres/jobs.py): queued once, a progress page
that survives a reload, the result when the job is done; in-process without a broker."""

from __future__ import annotations

import pytest

from cadres import jobs, roster_import, tasks
from cadres.models import RosterImport, Youth
from tests.factories import SectorFactory, YouthFactory

pytestmark = pytest.mark.django_db

ROSTER = "姓名,性别,出生年份,领域,单位,手机号\n王芳,女,1998,企业青年,厂,13812345678\n李四,男,1999,企业青年,厂,13912345678\n"


@pytest.fixture
def preview(tree):
    SectorFactory(code="e", name="企业青年")
    record = roster_import.roster_import_prepare(
        data=ROSTER.encode(), filename="名单.csv", organisation=tree.town_a, by=tree.owner
    )
    assert record.status == RosterImport.Status.PREVIEW
    return record


@pytest.fixture
def queued(monkeypatch, settings):
    """A broker configured: jobs are sent (captured here), not run."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    sent = []
    monkeypatch.setattr("cadres.outbox.enqueue", lambda task, *args: sent.append((task, args)))
    return sent


def test_with_a_broker_the_commit_is_queued_once_and_the_page_shows_progress(
    client, tree, preview, queued, django_assert_max_num_queries
):
    client.force_login(tree.owner)
    client.post(f"/cadres/import/{preview.pk}/commit/")
    again = client.post(f"/cadres/import/{preview.pk}/commit/", follow=True)  # a double click
    assert "不能再次导入" in again.content.decode()
    assert [args for _task, args in queued] == [(preview.pk, tree.owner.pk)]
    assert RosterImport.objects.get(pk=preview.pk).status == RosterImport.Status.COMMITTING
    assert Youth.objects.count() == 0
    page = client.get(f"/cadres/import/{preview.pk}/").content.decode()  # a reload
    assert "data-lq-job=" in page and "cadres/jobs.js" in page
    with django_assert_max_num_queries(6):
        progress = client.get(f"/cadres/import/{preview.pk}/progress/").json()
    assert progress == {"status": "commit", "done": 0, "total": 2}

    assert tasks.roster_commit(preview.pk, tree.owner.pk) == "done"
    assert Youth.objects.count() == 2
    assert client.get(f"/cadres/import/{preview.pk}/progress/").json()["status"] == "done"
    assert "已于" in client.get(f"/cadres/import/{preview.pk}/").content.decode()
    # Redelivered after a worker died: nothing happens twice.
    assert tasks.roster_commit(preview.pk, tree.owner.pk) == "skipped"
    assert Youth.objects.count() == 2


def test_a_commit_the_registry_now_refuses_goes_back_to_preview_with_the_reason(
    client, tree, preview, queued
):
    client.force_login(tree.owner)
    client.post(f"/cadres/import/{preview.pk}/commit/")
    YouthFactory(phone="13812345678", organisation=tree.town_b)  # registered elsewhere meanwhile
    assert tasks.roster_commit(preview.pk, tree.owner.pk) == "refused"
    record = RosterImport.objects.get(pk=preview.pk)
    assert record.status == RosterImport.Status.PREVIEW and "已在其他组织登记" in record.failure
    assert "已在其他组织登记" in client.get(f"/cadres/import/{preview.pk}/").content.decode()
    assert Youth.objects.count() == 1


def test_without_a_broker_the_commit_runs_in_process(client, tree, preview):
    client.force_login(tree.owner)
    response = client.post(f"/cadres/import/{preview.pk}/commit/", follow=True)
    assert "导入完成：新增青年 2 名" in response.content.decode()
    assert (
        jobs.roster_progress(roster_import=RosterImport.objects.get(pk=preview.pk))["status"]
        == "done"
    )


def test_outsider_gets_404_on_the_progress(client, tree, preview):
    client.force_login(tree.outsider)
    assert client.get(f"/cadres/import/{preview.pk}/progress/").status_code == 404
    client.force_login(tree.cadre_user)
    assert client.get(f"/cadres/import/{preview.pk}/progress/").status_code == 404


# --- The check (upload → row-by-row report) as a job. ---

BAD_ROSTER = "姓名,性别,出生年份,领域,单位,手机号\n王芳,女,1998,企业青年,厂,13812345678\n,男,1799,企业青年,厂,12\n"


def _upload(client, tree, text, name="名单.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/cadres/import/",
        {
            "organisation__pk": tree.town_a.pk,
            "file": SimpleUploadedFile(name, text.encode(), content_type="text/csv"),
        },
    )


def test_with_a_broker_the_check_is_queued_and_the_page_shows_progress_until_checked(
    client, tree, queued, django_assert_max_num_queries
):
    SectorFactory(code="e", name="企业青年")
    client.force_login(tree.owner)
    response = _upload(client, tree, ROSTER)
    record = RosterImport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{record.pk}/")
    assert record.status == RosterImport.Status.CHECKING and bytes(record.upload) == ROSTER.encode()
    assert [args for _task, args in queued] == [(record.pk, tree.owner.pk)]
    page = client.get(f"/cadres/import/{record.pk}/").content.decode()  # a reload
    assert 'data-lq-job-status="check"' in page and "cadres/jobs.js" in page
    with django_assert_max_num_queries(6):
        assert client.get(f"/cadres/import/{record.pk}/progress/").json()["status"] == "check"

    assert tasks.roster_check(record.pk, tree.owner.pk) == "preview"
    record.refresh_from_db()
    assert (record.status, record.n_new, bytes(record.upload)) == ("preview", 2, b"")
    assert "检查通过：共 2 行" in client.get(f"/cadres/import/{record.pk}/").content.decode()
    assert Youth.objects.count() == 0  # the check writes no youth
    assert tasks.roster_check(record.pk, tree.owner.pk) == "skipped"  # redelivered: no rerun


def test_a_checked_file_with_errors_is_invalid_with_its_report_and_never_committable(
    client, tree, queued
):
    SectorFactory(code="e", name="企业青年")
    client.force_login(tree.owner)
    _upload(client, tree, BAD_ROSTER)
    record = RosterImport.objects.get()
    assert tasks.roster_check(record.pk, tree.owner.pk) == "invalid"
    record.refresh_from_db()
    assert record.status == RosterImport.Status.INVALID and {e["row"] for e in record.errors} == {3}
    client.post(f"/cadres/import/{record.pk}/commit/")
    assert RosterImport.objects.get(pk=record.pk).status == RosterImport.Status.INVALID
    assert Youth.objects.count() == 0


def test_a_check_that_crashes_ends_invalid_not_waiting_for_ever(client, tree, queued, monkeypatch):
    client.force_login(tree.owner)
    _upload(client, tree, ROSTER)
    record = RosterImport.objects.get()

    def boom(*args, **kwargs):
        raise RuntimeError("reader bug")

    monkeypatch.setattr("cadres.roster.parse_roster", boom)
    assert tasks.roster_check(record.pk, tree.owner.pk) == "failed"
    record.refresh_from_db()
    assert (
        record.status == RosterImport.Status.INVALID and "无法检查" in record.errors[0]["problem"]
    )


def test_without_a_broker_the_upload_is_checked_in_the_request(client, tree):
    SectorFactory(code="e", name="企业青年")
    client.force_login(tree.owner)
    response = _upload(client, tree, ROSTER)
    record = RosterImport.objects.get()
    assert response.status_code == 302 and record.status == RosterImport.Status.PREVIEW


def test_outsider_gets_404_on_a_check_in_progress(client, tree, queued):
    client.force_login(tree.owner)
    _upload(client, tree, ROSTER)
    record = RosterImport.objects.get()
    client.force_login(tree.outsider)
    assert client.get(f"/cadres/import/{record.pk}/progress/").status_code == 404
    assert client.get(f"/cadres/import/{record.pk}/").status_code == 404


def test_a_long_file_name_keeps_its_extension():
    from cadres.roster import clean_filename

    assert clean_filename("名" * 300 + ".xlsx").endswith(".xlsx")
    assert len(clean_filename("名" * 300 + ".xlsx")) == 200


def test_a_commit_stopped_by_its_soft_time_limit_rolls_back_to_preview_with_the_reason(
    client, tree, preview, queued, monkeypatch
):
    """The task's soft limit (below the broker's visibility timeout) stops a slow commit: the
    transaction rolls back and the page says why, instead of "正在导入" for ever."""
    from celery.exceptions import SoftTimeLimitExceeded

    from cadres import roster_import

    client.force_login(tree.owner)
    client.post(f"/cadres/import/{preview.pk}/commit/")

    def writes_then_stops(real):
        def run(*args, **kwargs):
            real(*args, **kwargs)  # the youths are written, then the limit strikes
            raise SoftTimeLimitExceeded()

        return run

    for name in ("_insert_new_youths", "_create_new_youths"):
        monkeypatch.setattr(roster_import, name, writes_then_stops(getattr(roster_import, name)))
    assert tasks.roster_commit(preview.pk, tree.owner.pk) == "refused"
    record = RosterImport.objects.get(pk=preview.pk)
    assert record.status == RosterImport.Status.PREVIEW and "超过时限" in record.failure
    assert Youth.objects.count() == 0  # rolled back
    assert "超过时限" in client.get(f"/cadres/import/{preview.pk}/").content.decode()
