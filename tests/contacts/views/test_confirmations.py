"""见面码 (/contacts/meet/, /contacts/m/…) and share links (/contacts/c/…): youths confirm
contacts, and every abuse case answers in Chinese with nothing written twice."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from contacts import confirmations as conf
from contacts.models import CadreDevice, Confirmation, Contact, ContactYouth
from tests.factories import CadreYouthFactory, UserFactory, YouthFactory, log_contact

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_rate_limit")]


@pytest.fixture
def linked(tree):
    youth = CadreYouthFactory(cadre=tree.cadre).youth
    youth.phone = "13912345678"
    youth.save()
    return youth


def _ticket(client: Client, cadre_id: int, *, at=None) -> str:
    code = conf.meeting_code(cadre_id=cadre_id, at=at)
    page = client.get(f"/contacts/m/{code}/")
    assert page.status_code == 200, page.content.decode()
    return re.search(r'name="ticket" value="([^"]+)"', page.content.decode()).group(1)


# --- 见面码 -------------------------------------------------------------------------------------


def test_cadre_sees_the_meeting_code_and_outsider_staff_gets_404(client, tree):
    client.force_login(tree.cadre_user)
    page = client.get("/contacts/meet/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "见面码" in body and "data-lq-reload" in body
    assert CadreDevice.objects.filter(cadre=tree.cadre).count() == 1
    client.force_login(tree.outsider)  # staff without a cadre record: no code of their own
    assert client.get("/contacts/meet/").status_code == 404


def test_youth_scans_types_phone_once_and_contact_is_logged_confirmed(tree, linked):
    phone = Client()
    ticket = _ticket(phone, tree.cadre.pk)
    done = phone.post("/contacts/m/confirm/", {"ticket": ticket, "phone": "139 1234 5678"})
    assert done.status_code == 200 and "已确认见面" in done.content.decode()
    confirmation = Confirmation.objects.get()
    assert confirmation.kind == "meeting" and confirmation.outcome == "confirmed"
    assert confirmation.youth == linked and not confirmation.same_device
    contact = confirmation.contact
    assert contact.cadre == tree.cadre and contact.channel == "talk"
    assert contact.date == timezone.localdate()
    assert list(
        ContactYouth.objects.filter(contact=contact).values_list("youth_id", flat=True)
    ) == [linked.pk]
    # The phone is remembered: the next scan shows the youth's name, no phone field.
    page = phone.get(f"/contacts/m/{conf.meeting_code(cadre_id=tree.cadre.pk)}/")
    assert linked.name in page.content.decode() and 'name="phone"' not in page.content.decode()


def test_second_confirmation_the_same_day_writes_nothing(tree, linked):
    phone = Client()
    ticket = _ticket(phone, tree.cadre.pk)
    phone.post("/contacts/m/confirm/", {"ticket": ticket, "phone": linked.phone})
    again = phone.post("/contacts/m/confirm/", {"ticket": ticket})  # the remembered youth
    assert again.status_code == 400 and "今天已经" in again.content.decode()
    assert Confirmation.objects.count() == 1 and Contact.objects.count() == 1


def test_expired_and_forged_codes_are_refused(client, tree, linked):
    old = timezone.now() - datetime.timedelta(seconds=2 * conf.WINDOW_SECONDS + 1)
    expired = client.get(f"/contacts/m/{conf.meeting_code(cadre_id=tree.cadre.pk, at=old)}/")
    assert expired.status_code == 410 and "已过期" in expired.content.decode()
    previous = timezone.now() - datetime.timedelta(seconds=conf.WINDOW_SECONDS)
    assert (
        client.get(
            f"/contacts/m/{conf.meeting_code(cadre_id=tree.cadre.pk, at=previous)}/"
        ).status_code
        == 200
    )
    code = conf.meeting_code(cadre_id=tree.cadre.pk)
    cadre_part, window, mac = code.split(".")
    for forged in (f"{int(cadre_part) + 1}.{window}.{mac}", "garbage", f"{cadre_part}.{window}.x"):
        response = client.get(f"/contacts/m/{forged}/")
        assert response.status_code == 400 and "无效" in response.content.decode()
    bad_ticket = client.post("/contacts/m/confirm/", {"ticket": "x", "phone": linked.phone})
    assert bad_ticket.status_code == 400
    assert not Confirmation.objects.exists() and not Contact.objects.exists()


def test_stale_ticket_is_refused(tree, linked, monkeypatch):
    phone = Client()
    ticket = _ticket(phone, tree.cadre.pk)
    monkeypatch.setattr(conf, "TICKET_MAX_AGE", -1)
    response = phone.post("/contacts/m/confirm/", {"ticket": ticket, "phone": linked.phone})
    assert response.status_code == 410 and not Confirmation.objects.exists()


def test_phone_matching_nobody_in_scope_keeps_what_was_typed(tree):
    YouthFactory(organisation=tree.town_b, phone="13700000001")  # outside the cadre's subtree
    phone = Client()
    ticket = _ticket(phone, tree.cadre.pk)
    for typed in ("13700000001", "12345"):
        response = phone.post("/contacts/m/confirm/", {"ticket": ticket, "phone": typed})
        assert response.status_code == 400
        assert typed in response.content.decode()
    assert "没有在" in response.content.decode() or "格式不正确" in response.content.decode()
    assert not Confirmation.objects.exists() and not Contact.objects.exists()


def test_unlinked_youth_in_scope_arrives_pending_and_cadre_accepts_in_one_tap(client, tree):
    youth = YouthFactory(organisation=tree.branch_a, phone="13600000002")
    phone = Client()
    phone.post(
        "/contacts/m/confirm/", {"ticket": _ticket(phone, tree.cadre.pk), "phone": youth.phone}
    )
    pending = Confirmation.objects.get()
    assert pending.contact is None and not Contact.objects.exists()
    client.force_login(tree.cadre_user)
    assert youth.name in client.get("/contacts/meet/").content.decode()
    response = client.post(f"/contacts/meet/pending/{pending.pk}/accept/")
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.contact is not None and pending.contact.cadre == tree.cadre
    assert tree.cadre.youth_links.filter(youth=youth).exists()
    # Accepting twice changes nothing; another cadre cannot accept it (404).
    client.post(f"/contacts/meet/pending/{pending.pk}/accept/")
    assert Contact.objects.count() == 1
    other = CadreYouthFactory().cadre
    other_user = UserFactory(organisation=other.organisation, role="cadre")
    other.user = other_user
    other.save()
    client.force_login(other_user)
    assert client.post(f"/contacts/meet/pending/{pending.pk}/dismiss/").status_code == 404


def test_cadre_dismisses_a_pending_scan(client, tree):
    youth = YouthFactory(organisation=tree.town_a, phone="13600000003")
    phone = Client()
    phone.post(
        "/contacts/m/confirm/", {"ticket": _ticket(phone, tree.cadre.pk), "phone": youth.phone}
    )
    client.force_login(tree.cadre_user)
    pk = Confirmation.objects.get().pk
    assert client.post(f"/contacts/meet/pending/{pk}/dismiss/").status_code == 302
    assert not Confirmation.objects.exists() and not tree.cadre.youth_links.exists()


def test_cadre_confirming_on_their_own_phone_is_recorded_but_not_counted(client, tree, linked):
    client.force_login(tree.cadre_user)
    client.get("/contacts/meet/")  # the cadre's browser gets its device cookie
    device = client.cookies["lq_device"].value
    client.logout()  # even logged out, the device cookie gives it away
    client.cookies["lq_device"] = device  # (the test client's logout drops every cookie)
    ticket = _ticket(client, tree.cadre.pk)
    done = client.post("/contacts/m/confirm/", {"ticket": ticket, "phone": linked.phone})
    assert done.status_code == 200 and "不计为青年确认" in done.content.decode()
    assert Confirmation.objects.get().same_device is True


def test_one_phone_cannot_confirm_for_several_youths(tree, linked):
    other = CadreYouthFactory(cadre=tree.cadre).youth
    other.phone = "13512345678"
    other.save()
    phone = Client()
    ticket = _ticket(phone, tree.cadre.pk)
    phone.post("/contacts/m/confirm/", {"ticket": ticket, "phone": linked.phone})
    response = phone.post("/contacts/m/confirm/", {"ticket": ticket, "phone": other.phone})
    assert response.status_code == 400 and "另一名青年" in response.content.decode()
    assert Confirmation.objects.count() == 1


def test_meeting_taps_are_rate_limited(tree, monkeypatch):
    from contacts import confirm_views

    monkeypatch.setattr(confirm_views, "MEET_RATE", 2)
    phone = Client()
    ticket = _ticket(phone, tree.cadre.pk)
    statuses = [
        phone.post(
            "/contacts/m/confirm/", {"ticket": ticket, "phone": f"1380000000{i}"}
        ).status_code
        for i in range(3)
    ]
    assert statuses == [400, 400, 429]


# --- Share links ------------------------------------------------------------------------------


@pytest.fixture
def shared(tree, linked):
    contact = log_contact(tree.cadre, [linked], channel="wechat", topic="就业政策")
    return contact, f"/contacts/c/{conf.share_token(contact_id=contact.pk)}/"


def test_cadre_sees_share_link_and_qr_on_own_contact_outsider_404(client, tree, shared):
    contact, url = shared
    client.force_login(tree.cadre_user)
    body = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "/contacts/c/" in body and "<svg" in body
    client.force_login(tree.outsider)
    assert client.get(f"/contacts/{contact.pk}/").status_code == 404


def test_youth_confirms_with_last_four_digits(tree, linked, shared, client):
    contact, url = shared
    page = Client().get(url)
    assert page.status_code == 200 and tree.cadre.name in page.content.decode()
    done = Client().post(url, {"last4": "5678", "answer": "yes"})
    assert done.status_code == 200
    confirmation = Confirmation.objects.get()
    assert confirmation.kind == "share" and confirmation.outcome == "confirmed"
    assert confirmation.contact == contact and confirmation.day == contact.date
    client.force_login(tree.cadre_user)
    assert "青年已确认" in client.get(f"/contacts/{contact.pk}/").content.decode()


def test_denial_is_shown_to_supervisors_never_to_the_cadre(tree, linked, shared, client):
    contact, url = shared
    Client().post(url, {"last4": "5678", "answer": "no"})
    assert Confirmation.objects.get().outcome == "denied"
    client.force_login(tree.cadre_user)
    body = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "否认" not in body and "青年已确认" not in body
    client.force_login(tree.owner)
    body = client.get(f"/contacts/{contact.pk}/").content.decode()
    assert "否认有这次联系" in body and linked.name in body


def test_answering_twice_writes_nothing(tree, shared):
    contact, url = shared
    Client().post(url, {"last4": "5678", "answer": "yes"})
    again = Client().post(url, {"last4": "5678", "answer": "no"})
    assert again.status_code == 409 and "已经回复过" in again.content.decode()
    assert Confirmation.objects.get().outcome == "confirmed"


def test_no_youth_is_asked_more_than_once_a_week(tree, linked, shared):
    contact, url = shared
    Client().post(url, {"last4": "5678", "answer": "yes"})
    second = log_contact(tree.cadre, [linked], channel="phone")
    response = Client().post(
        f"/contacts/c/{conf.share_token(contact_id=second.pk)}/", {"last4": "5678", "answer": "yes"}
    )
    assert response.status_code == 409 and "一周" in response.content.decode()
    assert Confirmation.objects.count() == 1


def test_forged_and_expired_links_are_refused(tree, shared, monkeypatch):
    contact, url = shared
    assert Client().get(url[:-3] + "xx/").status_code == 400
    assert Client().get("/contacts/c/1:abc/").status_code == 400
    monkeypatch.setattr(conf, "SHARE_MAX_AGE", -1)
    response = Client().get(url)
    assert response.status_code == 410 and "已过期" in response.content.decode()


def test_wrong_digits_are_bounded_per_link_across_addresses(tree, shared):
    from contacts.confirm_views import SHARE_LINK_FAILS

    contact, url = shared
    for i in range(SHARE_LINK_FAILS):
        response = Client(REMOTE_ADDR=f"10.0.0.{i}").post(url, {"last4": "0000", "answer": "yes"})
        assert response.status_code == 400 and "后四位不对" in response.content.decode()
    # The right digits from yet another address are refused too: the link is exhausted.
    response = Client(REMOTE_ADDR="10.0.1.1").post(url, {"last4": "5678", "answer": "yes"})
    assert response.status_code == 429 and "尝试次数太多" in response.content.decode()
    assert not Confirmation.objects.exists()


def test_wrong_digits_are_bounded_per_address_across_links(tree, linked, monkeypatch):
    from contacts import confirm_views

    monkeypatch.setattr(confirm_views, "SHARE_ADDRESS_FAILS", 2)
    phone = Client()
    for _ in range(3):
        contact = log_contact(tree.cadre, [linked])
        response = phone.post(
            f"/contacts/c/{conf.share_token(contact_id=contact.pk)}/",
            {"last4": "1111", "answer": "yes"},
        )
    assert response.status_code == 429


def test_a_youth_cannot_answer_for_another_youths_contact(tree, shared):
    contact, url = shared
    stranger = YouthFactory(organisation=tree.town_a, phone="13800001234")
    response = Client().post(url, {"last4": stranger.phone[-4:], "answer": "no"})
    assert response.status_code == 400 and not Confirmation.objects.exists()


def test_hostile_input_never_500(tree, shared):
    contact, url = shared
    for data in ({"last4": "\x00\x00\x00\x00", "answer": "yes"}, {"last4": "12345"}, {}):
        assert Client().post(url, data).status_code == 400
    assert (
        Client().post("/contacts/m/confirm/", {"ticket": "\x00", "phone": "\x00"}).status_code
        == 400
    )
    assert Client().get("/contacts/m/1.2.3.4/").status_code == 400


# --- Supervisors' list ----------------------------------------------------------------------


def test_signals_list_is_scoped_bounded_and_closed_to_cadres(
    client, tree, linked, shared, django_assert_max_num_queries
):
    contact, url = shared
    Client().post(url, {"last4": "5678", "answer": "no"})
    other = CadreYouthFactory(cadre__organisation=tree.town_b)
    b_contact = log_contact(other.cadre, [other.youth])
    Confirmation.objects.create(
        contact=b_contact,
        cadre=other.cadre,
        youth=other.youth,
        kind="share",
        outcome="confirmed",
        day=b_contact.date,
        same_device=True,
    )
    client.force_login(tree.owner)
    with django_assert_max_num_queries(8):
        body = client.get("/contacts/confirmations/signals/").content.decode()
    assert linked.name in body and "青年否认" in body and other.youth.name not in body
    client.force_login(tree.county)
    body = client.get("/contacts/confirmations/signals/").content.decode()
    assert linked.name in body and other.youth.name in body
    for page in ("abc", "-1", "99999999999999999999"):
        assert client.get("/contacts/confirmations/signals/", {"page": page}).status_code == 200
    client.force_login(tree.cadre_user)
    assert client.get("/contacts/confirmations/signals/").status_code in (403, 404)
