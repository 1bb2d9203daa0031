"""/contacts/batch/: one form, many youths."""

from __future__ import annotations

import pytest
from django.utils import timezone

from contacts.models import Contact, ContactYouth

pytestmark = pytest.mark.django_db
URL = "/contacts/batch/"


def test_batch_of_five_is_one_contact_with_five_youths(client, tree, own_youths):
    client.force_login(tree.cadre_user)
    response = client.post(
        URL,
        {
            "youths": [y.pk for y in own_youths],
            "channel": "meeting",
            "date": timezone.localdate().isoformat(),
            "topic": "青年座谈会",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/"
    contact = Contact.objects.get()
    assert contact.youth_rows.count() == 5 and contact.is_offline is True
    assert "已记录与 5 名青年的联系" in client.get("/").content.decode()


def test_empty_batch_is_refused_and_text_kept(client, tree, own_youths):
    client.force_login(tree.cadre_user)
    response = client.post(
        URL, {"channel": "meeting", "date": timezone.localdate().isoformat(), "notes": "会议纪要"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "请至少选择一名青年" in body and "会议纪要" in body
    assert not ContactYouth.objects.exists()


def test_forged_youth_in_batch_is_refused(client, tree, own_youths, b_youth):
    client.force_login(tree.cadre_user)
    response = client.post(
        URL,
        {
            "youths": [own_youths[0].pk, b_youth.pk],
            "channel": "meeting",
            "date": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 200
    assert "不在您的联系名单中" in response.content.decode()
    assert not Contact.objects.exists()
    # what was ticked stays ticked
    assert f'value="{own_youths[0].pk}" checked' in response.content.decode()


def test_garbage_youth_ids_are_an_error_not_a_500(client, tree, own_youths):
    client.force_login(tree.cadre_user)
    response = client.post(
        URL, {"youths": ["x", "1; drop"], "channel": "talk", "date": "2020-13-45"}
    )
    assert response.status_code == 200
    assert "日期格式不正确" in response.content.decode()
