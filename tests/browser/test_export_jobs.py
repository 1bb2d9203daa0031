"""A large export's page in the browser: the progress bar polls the job, the page turns into
the download when the worker is done (cadres/static/cadres/jobs.js, cadres/export_jobs.py)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cadres.models import ExportJob, User
from tests.browser.conftest import PHONE, login, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_an_export_in_the_background_shows_progress_then_the_download(
    demo_site, new_page, settings, tmp_path
):
    from cadres import tasks

    settings.LIANQING_EXPORT_DIR = tmp_path / "exports"
    user = User.objects.get(username="township")
    # Queued with a broker configured: a worker has written 20 of the 50 rows so far.
    job = ExportJob.objects.create(
        user=user,
        path="/cadres/youths/",
        querystring="",
        list_name="cadres:youth_list",
        export_format="csv",
        status=ExportJob.Status.RUNNING,
        done=20,
        total=50,
        download_name="youths.csv",
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    page = new_page(PHONE)
    login(page, demo_site.url, "township")
    page.goto(f"{demo_site.url}/cadres/exports/jobs/{job.pk}/")
    bar = page.locator("progress[data-lq-job-bar]")
    assert bar.is_visible() and bar.get_attribute("value") == "20"
    shot(page, "export-job-progress-phone")
    assert tasks.export_file(job.pk) == "done"  # the worker
    page.get_by_text("导出完成").wait_for(timeout=10_000)  # the poller reloaded the page
    with page.expect_download() as download:
        page.locator("#export-download").click()
    assert download.value.suggested_filename == "youths.csv"
    shot(page, "export-job-done-phone")
    # The banner committee above the township may not open it: the file is the township's.
    other = new_page(PHONE)
    login(other, demo_site.url, "county")
    assert other.goto(f"{demo_site.url}/cadres/exports/jobs/{job.pk}/download/").status == 404
