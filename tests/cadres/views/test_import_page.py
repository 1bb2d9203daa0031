"""The roster import page: upload, row-by-row report, preview, commit; scoped choices."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cadres.models import CadreYouth, RosterImport, Youth
from tests.factories import SectorFactory

pytestmark = pytest.mark.django_db

HEADER = "姓名,性别,出生年份,领域,单位,手机号"


def _upload(client, tree, text: str, encoding="utf-8"):
    return client.post(
        "/cadres/import/",
        {
            "file": SimpleUploadedFile("名单.csv", text.encode(encoding), "text/csv"),
            "organisation__pk": tree.town_a.pk,
            "cadre__pk": tree.cadre.pk,
        },
        follow=True,
    )


def test_bad_row_is_reported_then_fixed_file_imports(client, tree):
    SectorFactory(code="e", name="企业青年")
    client.force_login(tree.owner)
    response = _upload(
        client,
        tree,
        f"{HEADER}\n王芳,女,1998,企业青年,厂,13812345678\n李四,男,1999,企业青年,厂,123\n",
    )
    html = response.content.decode()
    assert "发现 1 处问题" in html and "手机号格式不正确" in html
    assert Youth.objects.count() == 0

    response = _upload(
        client,
        tree,
        f"{HEADER}\n王芳,女,1998,企业青年,厂,13812345678\n李四,男,1999,企业青年,厂,13912345678\n",
        "gbk",
    )
    assert "检查通过：共 2 行" in response.content.decode()
    record = RosterImport.objects.get(status=RosterImport.Status.PREVIEW)
    response = client.post(f"/cadres/import/{record.pk}/commit/", follow=True)
    assert "导入完成：新增青年 2 名" in response.content.decode()
    assert CadreYouth.objects.filter(cadre=tree.cadre).count() == 2


def test_organisation_and_cadre_choices_are_scoped(client, tree):
    client.force_login(tree.outsider)
    form = client.get("/cadres/import/").context["form"]
    assert tree.town_a not in set(form.fields["organisation"].queryset)
    assert tree.cadre not in set(form.fields["cadre"].queryset)
    response = client.post(
        "/cadres/import/",
        {
            "file": SimpleUploadedFile("x.csv", b"a", "text/csv"),
            "organisation__pk": tree.town_a.pk,
            "cadre__pk": tree.cadre.pk,
        },
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert not RosterImport.objects.exists()


def test_outsider_gets_404_on_someone_elses_import(client, tree):
    SectorFactory(code="e", name="企业青年")
    client.force_login(tree.owner)
    _upload(client, tree, f"{HEADER}\n王芳,女,1998,企业青年,厂,13812345678\n")
    record = RosterImport.objects.get()
    client.force_login(tree.outsider)
    assert client.get(f"/cadres/import/{record.pk}/").status_code == 404
    assert client.post(f"/cadres/import/{record.pk}/commit/").status_code == 404
    assert Youth.objects.count() == 0


def test_cadre_cannot_import(client, tree):
    client.force_login(tree.cadre_user)
    assert client.get("/cadres/import/").status_code == 404


def test_template_download(client, tree):
    client.force_login(tree.owner)
    response = client.get("/cadres/import/template.csv")
    assert response.content.decode("utf-8-sig").startswith("姓名,性别,出生年份,领域")
