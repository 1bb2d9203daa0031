"""Activity pages: list, calendar, export, detail, check-in list, public sign-up and check-in."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from activities.models import ActivityPhoto, Registration
from contacts.models import ContactYouth
from tests.factories import ActivityFactory, RegistrationFactory, YouthFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def acts(tree):
    mine = ActivityFactory(organisation=tree.branch_a, title="甲镇健步走")
    theirs = ActivityFactory(organisation=tree.town_b, title="=乙镇招聘会")
    mine.responsible_cadres.add(tree.cadre)
    return mine, theirs


def test_owner_list_shows_subtree_only(client, tree, acts):
    client.force_login(tree.owner)
    response = client.get(reverse("activities:list"))
    assert response.status_code == 200
    assert "甲镇健步走" in response.text and "乙镇招聘会" not in response.text


def test_outsider_gets_404_on_detail_and_checkin(client, tree, acts):
    mine, _ = acts
    client.force_login(tree.outsider)
    assert client.get(reverse("activities:detail", args=[mine.pk])).status_code == 404
    assert client.get(reverse("activities:checkin_list", args=[mine.pk])).status_code == 404
    reg = RegistrationFactory(activity=mine)
    url = reverse("activities:registration_checkin", args=[mine.pk, reg.pk])
    assert client.post(url).status_code == 404
    reg.refresh_from_db()
    assert reg.checked_in_at is None


def test_export_is_scoped_and_escapes_formulas(client, tree, acts):
    client.force_login(tree.county)
    response = client.get(reverse("activities:list"), {"_export": "csv"})
    body = response.content.decode("utf-8")
    assert "甲镇健步走" in body and "'=乙镇招聘会" in body
    client.force_login(tree.owner)
    body = client.get(reverse("activities:list"), {"_export": "csv"}).content.decode("utf-8")
    assert "乙镇招聘会" not in body
    xlsx = client.get(reverse("activities:list"), {"_export": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd")


def test_cadre_sees_responsible_activity_and_can_check_in(client, tree, acts):
    mine, theirs = acts
    reg = RegistrationFactory(activity=mine)
    client.force_login(tree.cadre_user)
    assert client.get(reverse("activities:detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("activities:detail", args=[theirs.pk])).status_code == 404
    client.post(reverse("activities:registration_checkin", args=[mine.pk, reg.pk]))
    assert ContactYouth.objects.filter(cadre=tree.cadre, youth=reg.youth).exists()


def test_calendar_view_shows_activity(client, tree, acts):
    mine, _ = acts
    client.force_login(tree.owner)
    month = mine.starts_at.strftime("%Y-%m")
    response = client.get(reverse("activities:list"), {"view": "calendar", "month": month})
    assert response.status_code == 200 and "甲镇健步走" in response.text


def test_list_export_and_detail_query_counts(client, tree, django_assert_max_num_queries):
    for _ in range(15):
        a = ActivityFactory(organisation=tree.town_a)
        RegistrationFactory.create_batch(3, activity=a)
    client.force_login(tree.owner)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("activities:list")).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("activities:list"), {"view": "calendar"}).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("activities:list"), {"_export": "csv"}).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(reverse("activities:detail", args=[a.pk])).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(reverse("activities:checkin_list", args=[a.pk])).status_code == 200


def _png(size=(20, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_photo_upload_accepts_image_and_refuses_others(client, tree, acts, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    mine, _ = acts
    client.force_login(tree.owner)
    url = reverse("activities:photo_upload", args=[mine.pk])
    fake = SimpleUploadedFile("photo.jpg", b"not an image at all", content_type="image/jpeg")
    response = client.post(url, {"image": fake}, follow=True)
    assert "不是有效的图片" in response.text
    big = SimpleUploadedFile("big.png", _png() + b"\0" * (5 * 1024 * 1024), "image/png")
    response = client.post(url, {"image": big}, follow=True)
    assert "不能超过 5 MB" in response.text
    assert not ActivityPhoto.objects.exists()
    ok = SimpleUploadedFile("ok.png", _png(), content_type="image/png")
    client.post(url, {"image": ok, "caption": "合影"})
    assert ActivityPhoto.objects.filter(activity=mine, caption="合影").count() == 1


def test_staff_registers_youths_over_capacity_shows_error(client, tree):
    activity = ActivityFactory(organisation=tree.town_a, capacity=1)
    youths = YouthFactory.create_batch(2, organisation=tree.town_a)
    client.force_login(tree.owner)
    url = reverse("activities:register", args=[activity.pk])
    response = client.post(url, {"youths": [y.pk for y in youths]}, follow=True)
    assert "报名人数已满" in response.text
    assert not activity.registrations.exists()
    outsider_youth = YouthFactory(organisation=tree.town_b)
    response = client.post(url, {"youths": [outsider_youth.pk]})
    assert not activity.registrations.exists()


def test_public_register_and_checkin_without_login(client, tree, acts):
    mine, _ = acts
    url = reverse("activities:public_register", args=[mine.register_code])
    response = client.post(url, {"name": "王小明", "phone": "abc"})
    assert "手机号格式不正确" in response.text
    response = client.post(url, {"name": "王小明", "phone": "13712345678"})
    assert "报名成功" in response.text
    response = client.post(reverse("activities:checkin_enter"), {"code": mine.checkin_code.lower()})
    assert response.status_code == 302
    response = client.post(response.url, {"phone": "13712345678"})
    assert "签到成功" in response.text and "王**" in response.text
    again = client.post(
        reverse("activities:public_checkin", args=[mine.checkin_code]), {"phone": "13712345678"}
    )
    assert "已经签到过了" in again.text
    assert Registration.objects.filter(activity=mine, phone="13712345678").count() == 1
    wrong = client.post(reverse("activities:checkin_enter"), {"code": "NOPE"})
    assert "签到码不正确" in wrong.text


def test_bad_hours_entry_shows_chinese_error(client, tree, acts):
    mine, _ = acts
    reg = RegistrationFactory(activity=mine)
    client.force_login(tree.owner)
    client.post(reverse("activities:registration_checkin", args=[mine.pk, reg.pk]))
    response = client.post(
        reverse("activities:registration_hours", args=[mine.pk, reg.pk]),
        {"hours": "-2"},
        follow=True,
    )
    assert "时长不能为负数" in response.text


def test_create_activity_form_keeps_input_and_saves(client, tree):
    client.force_login(tree.owner)
    url = reverse("activities:create")
    data = {
        "title": "金融知识培训",
        "category": "training",
        "organisation": tree.town_a.pk,
        "starts_at": "2026-05-04T09:00",
        "ends_at": "2026-05-04T08:00",
        "status": "open",
        "partner_names": "阿旗农村信用联社、太平洋证券",
    }
    response = client.post(url, data)
    assert response.status_code == 200 and "结束时间不能早于开始时间" in response.text
    assert "金融知识培训" in response.text
    data["ends_at"] = "2026-05-04T11:00"
    response = client.post(url, data)
    assert response.status_code == 302
    from activities.models import Activity

    activity = Activity.objects.get(title="金融知识培训")
    assert sorted(activity.partners.values_list("name", flat=True)) == [
        "太平洋证券",
        "阿旗农村信用联社",
    ]
    # organisation outside scope is not a valid choice
    client.force_login(tree.outsider)
    data["organisation"] = tree.town_a.pk
    response = client.post(url, data)
    assert response.status_code == 200 and Activity.objects.count() == 1


def test_cadre_cannot_create(client, tree):
    client.force_login(tree.cadre_user)
    assert client.get(reverse("activities:create")).status_code == 404


@pytest.mark.postgres
def test_register_search_with_a_nul_byte_is_not_a_server_error(client, tree, acts):
    # PostgreSQL refuses NUL in a string literal: the youth search must drop it, not crash.
    client.force_login(tree.owner)
    response = client.get(reverse("activities:register", args=[acts[0].pk]), {"q": "青\x00"})
    assert response.status_code == 200


def test_uploaded_photo_loses_its_location_and_is_bounded(client, tree, acts, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    mine, _ = acts
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0132] = "2026:11:26 10:00:00"  # DateTime (GPS lives in the same EXIF block)
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), "blue").save(buffer, "JPEG", exif=exif)
    with Image.open(io.BytesIO(buffer.getvalue())) as check:
        assert check.getexif()  # the upload really carries metadata
    client.force_login(tree.owner)
    upload = SimpleUploadedFile("gps.jpg", buffer.getvalue(), content_type="image/jpeg")
    client.post(reverse("activities:photo_upload", args=[mine.pk]), {"image": upload})
    photo = ActivityPhoto.objects.get(activity=mine)
    with Image.open(photo.image.path) as stored:
        assert not stored.getexif()
        assert max(stored.size) == 2560
