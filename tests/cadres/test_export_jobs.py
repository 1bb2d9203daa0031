"""Large exports as background jobs (cadres/export_jobs.py): past LIANQING_EXPORT_INLINE_MAX rows
the list is written to a file by a job, offered to the user who asked only, logged once, purged
after LIANQING_EXPORT_KEEP_HOURS."""

from __future__ import annotations

import csv
import datetime
import io
import time

import pytest
from django.utils import timezone

from cadres.export_jobs import exports_purge
from cadres.models import ExportJob, ExportLog, TaskOutbox, Youth
from cadres.tables import YouthTable
from tests.factories import CadreYouthFactory, SectorFactory, YouthFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def big(settings, tmp_path):
    """Exports of more than 3 rows go to a job; files under a temporary directory."""
    settings.LIANQING_EXPORT_INLINE_MAX = 3
    settings.LIANQING_EXPORT_DIR = tmp_path / "exports"
    return settings


def _youths(tree, n, **kwargs):
    sector = SectorFactory(code="e", name="企业青年")
    return [
        YouthFactory(
            organisation=tree.town_a, sector=sector, birth_year=1995, name=f"青年{i:03}", **kwargs
        )
        for i in range(n)
    ]


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_a_large_export_runs_as_a_job_and_only_its_user_downloads_it(client, tree, big):
    _youths(tree, 5)
    YouthFactory(organisation=tree.town_b, name="乙镇青年")  # outside the owner's scope
    client.force_login(tree.owner)
    response = client.get("/cadres/youths/", {"_export": "csv", "sort": "name"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cadres/exports/jobs/{job.pk}/"
    assert (job.status, job.total, job.user_id) == ("done", 5, tree.owner.pk)  # ran in-process
    page = client.get(response["Location"]).content.decode()
    assert "导出完成：共 5 行" in page and f"/cadres/exports/jobs/{job.pk}/download/" in page
    rows = _csv_rows(client.get(f"/cadres/exports/jobs/{job.pk}/download/"))
    assert rows[0][:2] == ["姓名", "性别"] and len(rows) == 6
    assert [r[0] for r in rows[1:]] == [f"青年{i:03}" for i in range(5)]  # sorted, scoped
    log = ExportLog.objects.get()
    assert (log.user_id, log.list_name, log.row_count, log.export_format) == (
        tree.owner.pk,
        "cadres:youth_list",
        5,
        "csv",
    )
    assert "sort=name" in log.querystring and "_export" not in log.querystring


@pytest.mark.parametrize("who", ["colleague", "county", "outsider", "cadre_user"])
def test_anyone_but_the_user_who_asked_gets_404(client, tree, big, who):
    _youths(tree, 5)
    client.force_login(tree.owner)
    client.get("/cadres/youths/", {"_export": "csv"})
    job = ExportJob.objects.get()
    client.force_login(getattr(tree, who))  # even the banner committee above the owner
    for suffix in ("", "progress/", "download/"):
        assert client.get(f"/cadres/exports/jobs/{job.pk}/{suffix}").status_code == 404
    client.logout()
    assert client.get(f"/cadres/exports/jobs/{job.pk}/download/").status_code == 302  # login


def test_a_small_export_stays_in_the_request(client, tree, big):
    _youths(tree, 3)
    client.force_login(tree.owner)
    response = client.get("/cadres/youths/", {"_export": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert not ExportJob.objects.exists() and ExportLog.objects.get().row_count == 3


def test_the_fast_youth_rows_equal_what_the_table_exports(tree):
    """YouthTable.export_values (values_list) must give exactly the table's own export values."""
    youths = _youths(tree, 2, phone="13812345678")
    YouthFactory(organisation=tree.town_a, name="=cmd", gender="F", unit="", phone="")
    CadreYouthFactory(youth=youths[0])
    CadreYouthFactory(youth=youths[0])
    from cadres.selectors import youth_list

    data = youth_list(user=tree.owner).order_by("name")
    fast = list(YouthTable(data).export_values(data))
    generic = list(YouthTable(data).as_values())[1:]
    assert [list(r) for r in fast] == [list(r) for r in generic]
    assert any(r[-1] == 2 for r in fast)  # the duplicate count is a number, not a badge


def test_xlsx_is_written_with_escaped_cells_and_without_minors(client, tree, big):
    from openpyxl import load_workbook

    _youths(tree, 4)
    YouthFactory(organisation=tree.town_a, name="=HYPERLINK(1)", birth_year=1996)
    YouthFactory(organisation=tree.town_a, name="未成年", birth_year=timezone.localdate().year - 8)
    client.force_login(tree.owner)
    client.get("/cadres/youths/", {"_export": "xlsx"})
    job = ExportJob.objects.get()
    response = client.get(f"/cadres/exports/jobs/{job.pk}/download/")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    names = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(names) == 5 and "'=HYPERLINK(1)" in names and "未成年" not in names
    assert response["Content-Disposition"].startswith('attachment; filename="youths.xlsx"')
    assert ExportLog.objects.get().included_minors is False


@pytest.mark.parametrize("export_format", ["xlsx", "csv"])
def test_every_text_cell_is_escaped_and_cleaned_in_the_file_writers(tmp_path, export_format):
    """The job's writers themselves (XlsxWriter, csv): formulas stay text, control characters
    go (XML 1.0 cannot hold them), numbers and dates stay typed in the workbook."""
    from openpyxl import load_workbook

    from cadres.export_jobs import write_csv, write_xlsx
    from cadres.models import Gender

    path = tmp_path / f"out.{export_format}"
    rows = [
        ["=1+1", "+86 139", "-2", "@SUM(A1)", "\tTAB", 1998, -3, 2.5],
        ["甲\x00乙\x07丙", "a\tb", "", None, Gender.MALE, True, datetime.date(2026, 5, 1), 0],
    ]
    writer = write_xlsx if export_format == "xlsx" else write_csv
    seen: list[int] = []
    assert writer(path, ["=标题", "b", "c", "d", "e", "f", "g", "h"], rows, seen.append) == 2
    if export_format == "csv":
        got = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        assert got[0][0] == "'=标题" and got[1][:5] == [
            "'=1+1",
            "'+86 139",
            "'-2",
            "'@SUM(A1)",
            "'\tTAB",
        ]
        return
    sheet = load_workbook(path).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "'=标题"
    assert values[1] == ["'=1+1", "'+86 139", "'-2", "'@SUM(A1)", "'\tTAB", 1998, -3, 2.5]
    second = values[2]
    assert second[0] == "甲乙丙" and second[1] == "a\tb" and second[2] is None and second[3] is None
    assert second[4] == "M" and second[5] is True and second[7] == 0
    assert second[6] == datetime.datetime(2026, 5, 1)
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)


def test_the_filter_is_replayed_in_the_job(client, tree, big):
    _youths(tree, 5)
    YouthFactory.create_batch(4, organisation=tree.town_a, unit="物流园")
    client.force_login(tree.owner)
    response = client.get("/cadres/youths/", {"_export": "csv", "q": "物流园"})
    assert response.status_code == 302
    rows = _csv_rows(client.get(f"/cadres/exports/jobs/{ExportJob.objects.get().pk}/download/"))
    assert len(rows) == 5 and all(r[4] == "物流园" for r in rows[1:])


def test_a_list_without_a_fast_path_streams_through_its_table(client, tree, big):
    from tests.factories import CadreFactory

    CadreFactory.create_batch(4, organisation=tree.town_a)
    client.force_login(tree.owner)
    assert client.get("/cadres/", {"_export": "csv"}).status_code == 302
    job = ExportJob.objects.get()
    assert (job.status, job.done) == ("done", 5)
    rows = _csv_rows(client.get(f"/cadres/exports/jobs/{job.pk}/download/"))
    assert len(rows) == 6 and rows[0][0] == "姓名"


def test_the_job_reads_a_constant_number_of_queries(tree, big, django_assert_max_num_queries):
    from cadres.export_jobs import export_job_run, export_job_start

    def run(n_new):
        _more = [YouthFactory(organisation=tree.town_a) for _ in range(n_new)]
        job = export_job_start(
            user=tree.owner,
            path="/cadres/youths/",
            querystring="",
            list_name="cadres:youth_list",
            export_format="csv",
            download_name="youths.csv",
            total=0,
        )
        ExportJob.objects.filter(pk=job.pk).update(status="running")
        return job

    small = run(5)
    with django_assert_max_num_queries(14):
        export_job_run(job_id=small.pk)
    large = run(60)
    with django_assert_max_num_queries(14):
        export_job_run(job_id=large.pk)
    assert ExportJob.objects.get(pk=large.pk).done == 65


def test_with_the_broker_down_the_job_waits_in_the_outbox_and_the_page_polls(
    client,
    tree,
    big,
    settings,
    monkeypatch,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    _youths(tree, 5)
    client.force_login(tree.owner)

    def refused(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr("cadres.outbox._send", refused)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/cadres/youths/", {"_export": "csv"}, follow=True)
    job = ExportJob.objects.get()
    assert TaskOutbox.objects.get().task == "cadres.export_file"  # sent when the broker is back
    page = response.content.decode()
    assert 'data-lq-job-status="running"' in page and "正在后台导出" in page
    with django_assert_max_num_queries(4):
        progress = client.get(f"/cadres/exports/jobs/{job.pk}/progress/").json()
    assert progress == {"status": "running", "done": 0, "total": 5}


def test_purge_deletes_expired_files_and_jobs_only(client, tree, big):
    _youths(tree, 5)
    client.force_login(tree.owner)
    client.get("/cadres/youths/", {"_export": "csv"})
    client.get("/cadres/youths/", {"_export": "xlsx"})
    old, new = ExportJob.objects.order_by("pk")
    ExportJob.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    directory = big.LIANQING_EXPORT_DIR
    assert (directory / old.file_name).exists()
    assert client.get(f"/cadres/exports/jobs/{old.pk}/download/").status_code == 404  # expired
    assert exports_purge() == 1
    assert not (directory / old.file_name).exists() and (directory / new.file_name).exists()
    assert list(ExportJob.objects.values_list("pk", flat=True)) == [new.pk]
    assert ExportLog.objects.count() == 2  # the log outlives the file
    assert exports_purge() == 0


def test_a_rerun_of_a_finished_job_does_nothing_and_logs_once(client, tree, big):
    from cadres import tasks

    _youths(tree, 5)
    client.force_login(tree.owner)
    client.get("/cadres/youths/", {"_export": "csv"})
    job = ExportJob.objects.get()
    assert tasks.export_file(job.pk) == "skipped"
    assert ExportLog.objects.count() == 1


def test_a_failing_export_says_so_on_its_page(client, tree, big, monkeypatch):
    _youths(tree, 5)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("cadres.export_jobs.write_csv", boom)
    client.force_login(tree.owner)
    response = client.get("/cadres/youths/", {"_export": "csv"}, follow=True)
    assert ExportJob.objects.get().status == "failed" and "导出失败" in response.content.decode()
    assert not ExportLog.objects.exists()
    assert not list(big.LIANQING_EXPORT_DIR.iterdir())  # no half-written file left


# One broker queue for every xdist worker: tests with a real Celery worker run in one group.
@pytest.mark.xdist_group("celery-worker")
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_real_worker_writes_the_export_and_the_page_follows(client, tree, big):
    from celery.contrib.testing.worker import start_worker

    from tests.celery_helpers import own_broker

    big.CELERY_TASK_ALWAYS_EAGER = False
    _youths(tree, 7)
    client.force_login(tree.owner)
    with (
        own_broker(11) as app,
        start_worker(app, pool="solo", perform_ping_check=False, loglevel="error"),
    ):
        response = client.get("/cadres/youths/", {"_export": "csv"})
        assert response.status_code == 302
        job = ExportJob.objects.get()
        deadline = time.monotonic() + 60
        while client.get(f"/cadres/exports/jobs/{job.pk}/progress/").json()["status"] != "done":
            assert time.monotonic() < deadline, "the worker never finished the export"
            time.sleep(0.2)
    rows = _csv_rows(client.get(f"/cadres/exports/jobs/{job.pk}/download/"))
    assert len(rows) == 8 and Youth.objects.count() == 7
    assert ExportLog.objects.get().row_count == 7


@pytest.mark.parametrize(
    "path",
    [
        "/cadres/",
        "/cadres/youths/",
        "/contacts/",
        "/contacts/needs/",
        "/activities/",
        "/activities/projects/",
        "/surveys/",
        "/assessment/scores/",
    ],
)
def test_every_exported_list_replays_in_its_job(client, tree, settings, tmp_path, path):
    """With every export sent to a job, each list's view replays without a request of its own
    (no session, no middleware) and finishes: a view the replay cannot run would fail here."""
    settings.LIANQING_EXPORT_INLINE_MAX = -1
    settings.LIANQING_EXPORT_DIR = tmp_path / "exports"
    client.force_login(tree.county)
    response = client.get(path, {"_export": "csv"})
    assert response.status_code == 302, response.status_code
    job = ExportJob.objects.get()
    assert (job.status, job.failure) == ("done", "")
    assert client.get(f"/cadres/exports/jobs/{job.pk}/download/").status_code == 200
    assert ExportLog.objects.get().row_count == job.done
