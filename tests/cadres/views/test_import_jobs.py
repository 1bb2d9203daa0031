"""A roster import's commit as a background job (cadres/jobs.py): queued once, a progress page
that survives a reload, the result when the job is done; in-process without a broker."""

from __future__ import annotations

import pytest

from cadres import jobs, services, tasks
from cadres.models import RosterImport, Youth
from tests.factories import SectorFactory, YouthFactory

pytestmark = pytest.mark.django_db

ROSTER = "姓名,性别,出生年份,领域,单位,手机号\n王芳,女,1998,企业青年,厂,13812345678\n李四,男,1999,企业青年,厂,13912345678\n"


@pytest.fixture
def preview(tree):
    SectorFactory(code="e", name="企业青年")
    record = services.roster_import_prepare(
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
