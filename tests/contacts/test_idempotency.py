"""One submission, one contact: the client key of quick log, batch log and the offline queue
(issue 14 item 4: "20 identical quick-log POSTs create 20 contacts")."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from contacts.models import Contact
from tests.factories import CadreFactory, CadreYouthFactory, UserFactory
from tests.threads import in_threads

pytestmark = pytest.mark.django_db


def _payload(youth, key, **extra):
    data = {
        "youth": youth.pk,
        "channel": "wechat",
        "date": timezone.localdate().isoformat(),
        "client_key": key,
    }
    data.update(extra)
    return data


def test_twenty_identical_quick_log_posts_make_one_contact(client, tree, own_youths):
    client.force_login(tree.cadre_user)
    page = client.get("/contacts/new/").content.decode()
    assert 'name="client_key"' in page
    key = str(uuid.uuid4())
    for _ in range(20):
        response = client.post("/contacts/new/", _payload(own_youths[0], key))
        assert response.status_code == 302
    assert Contact.objects.count() == 1


def test_each_drawing_of_the_form_has_its_own_key(client, tree):
    client.force_login(tree.cadre_user)
    first = client.get("/contacts/new/").context["form"]["client_key"].value()
    second = client.get("/contacts/new/").context["form"]["client_key"].value()
    assert first and second and first != second


def test_the_same_key_returns_the_first_result_even_if_the_rest_differs(client, tree, own_youths):
    client.force_login(tree.cadre_user)
    key = str(uuid.uuid4())
    headers = {"X-Lianqing-Sync": "1"}
    first = client.post("/contacts/new/", _payload(own_youths[0], key), headers=headers).json()
    again = client.post(
        "/contacts/new/", _payload(own_youths[1], key, channel="talk"), headers=headers
    ).json()
    assert first["ok"] and again["ok"] and again["id"] == first["id"] and again["replayed"]
    assert Contact.objects.get().channel == "wechat"


def test_batch_log_is_idempotent_too(client, tree, own_youths):
    client.force_login(tree.cadre_user)
    key = str(uuid.uuid4())
    data = {
        "youths": [y.pk for y in own_youths[:3]],
        "channel": "meeting",
        "date": timezone.localdate().isoformat(),
        "client_key": key,
    }
    for _ in range(3):
        client.post("/contacts/batch/", data)
    assert Contact.objects.count() == 1


def test_a_key_of_another_user_is_refused(client, tree, own_youths):
    key = str(uuid.uuid4())
    client.force_login(tree.cadre_user)
    client.post("/contacts/new/", _payload(own_youths[0], key))
    other_user = UserFactory(role="cadre", organisation=tree.town_a)
    other = CadreFactory(organisation=tree.town_a, user=other_user)
    theirs = CadreYouthFactory(cadre=other).youth
    client.force_login(other_user)
    response = client.post(
        "/contacts/new/", _payload(theirs, key), headers={"X-Lianqing-Sync": "1"}
    )
    assert response.status_code == 422
    assert "提交编号无效" in response.json()["message"]
    response = client.post("/contacts/new/", _payload(theirs, key, notes="我写的"))
    assert response.status_code == 200 and "我写的" in response.content.decode()
    assert Contact.objects.count() == 1 and Contact.objects.get().cadre == tree.cadre


@pytest.mark.parametrize("key", ["x" * 200, "<script>", "键", "a b"])
def test_a_malformed_key_is_a_message(client, tree, own_youths, key):
    client.force_login(tree.cadre_user)
    response = client.post("/contacts/new/", _payload(own_youths[0], key))
    assert response.status_code == 200
    assert not Contact.objects.exists()


def test_sync_refusals_are_json_with_the_reason(client, tree, own_youths, b_youth):
    client.force_login(tree.cadre_user)
    headers = {"X-Lianqing-Sync": "1"}
    old = (timezone.localdate().replace(year=timezone.localdate().year - 2)).isoformat()
    response = client.post(
        "/contacts/new/", _payload(own_youths[0], str(uuid.uuid4()), date=old), headers=headers
    )
    assert response.status_code == 422 and "一年前" in response.json()["message"]
    # A youth unlinked before the queue was sent: refused, said so, nothing written.
    from cadres.models import CadreYouth

    CadreYouth.objects.filter(youth=own_youths[1]).delete()
    response = client.post(
        "/contacts/new/", _payload(own_youths[1], str(uuid.uuid4())), headers=headers
    )
    assert response.status_code == 422 and "不在您的联系名单中" in response.json()["message"]
    assert not Contact.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_at_once_from_two_tabs_makes_one_contact(tree):
    from contacts import services

    youth = CadreYouthFactory(cadre=tree.cadre).youth
    key = str(uuid.uuid4())
    results = []

    def send():
        contact = services.contact_log(
            cadre=tree.cadre,
            youths=[youth.pk],
            channel="wechat",
            date=timezone.localdate(),
            client_key=key,
            by=tree.cadre_user,
        )
        results.append(contact.pk)

    errors = in_threads(send, send, send)
    assert not errors, errors
    assert Contact.objects.count() == 1 and len(set(results)) == 1
