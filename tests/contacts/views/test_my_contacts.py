"""/contacts/mine/ and the correction of a contact (issue 14 item 3)."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.utils import timezone

from contacts.models import Contact, ContactYouth
from tests.factories import CadreFactory, CadreYouthFactory, log_contact

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def _edit(contact, picked, /, **extra):
    data = {
        "youths": [y.pk for y in picked],
        "channel": contact.channel,
        "date": contact.date.isoformat(),
        "topic": contact.topic,
        "notes": contact.notes,
        "help_given": contact.help_given,
    }
    data.update(extra)
    return data


def _age(contact, days):
    Contact.objects.filter(pk=contact.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days)
    )


class TestMyContacts:
    def test_newest_first_filtered_and_paged(self, client, tree, own_youths):
        today = TODAY()
        for i in range(25):
            log_contact(
                tree.cadre,
                [own_youths[i % 5]],
                date=today - datetime.timedelta(days=i),
                channel="talk" if i % 2 else "wechat",
                by=tree.cadre_user,
            )
        other = CadreFactory(organisation=tree.town_a)
        stranger = CadreYouthFactory(cadre=other).youth
        log_contact(other, [stranger], by=None, topic="别人的记录")
        client.force_login(tree.cadre_user)
        body = client.get("/contacts/mine/").content.decode()
        assert "别人的记录" not in body and "第 1 / 2 页" in body
        first = body.index(today.strftime("%-m月%-d日"))
        assert first < body.index((today - datetime.timedelta(days=1)).strftime("%-m月%-d日"))
        assert (
            client.get("/contacts/mine/", {"channel": "talk"}).context["page"].paginator.count == 12
        )
        by_name = client.get("/contacts/mine/", {"q": own_youths[0].name})
        assert by_name.context["page"].paginator.count == 5
        since = client.get(
            "/contacts/mine/", {"start": (today - datetime.timedelta(days=2)).isoformat()}
        )
        assert since.context["page"].paginator.count == 3

    @pytest.mark.parametrize(
        "query",
        [
            {"start": "2026-02-31"},
            {"channel": "nope"},
            {"page": "-1"},
            {"page": "x" * 50},
            {"page": "99999999999999999999"},
            {"q": "名" * 200},
        ],
    )
    def test_bad_filters_never_fail(self, client, tree, query):
        client.force_login(tree.cadre_user)
        assert client.get("/contacts/mine/", query).status_code == 200

    def test_staff_without_cadre_record_get_404(self, client, tree):
        client.force_login(tree.owner)
        assert client.get("/contacts/mine/").status_code == 404

    def test_query_count_does_not_grow(
        self, client, tree, own_youths, django_assert_max_num_queries
    ):
        for i in range(20):
            log_contact(tree.cadre, own_youths[: 1 + i % 5], by=tree.cadre_user)
        client.force_login(tree.cadre_user)
        with django_assert_max_num_queries(12):
            assert client.get("/contacts/mine/").status_code == 200


class TestCorrection:
    def test_cadre_corrects_date_channel_youths_and_text_with_history(
        self, client, tree, own_youths
    ):
        contact = log_contact(tree.cadre, [own_youths[0]], channel="wechat", by=tree.cadre_user)
        client.force_login(tree.cadre_user)
        assert client.get(f"/contacts/{contact.pk}/edit/").status_code == 200
        yesterday = TODAY() - datetime.timedelta(days=1)
        with mock.patch("contacts.services.numbers_changed") as changed:
            response = client.post(
                f"/contacts/{contact.pk}/edit/",
                _edit(
                    contact,
                    own_youths[1:3],
                    channel="visit",
                    date=yesterday.isoformat(),
                    topic="就业",
                    notes="改过的记录",
                    help_given="推荐岗位",
                ),
            )
        assert response.status_code == 302
        contact.refresh_from_db()
        assert (contact.channel, contact.date, contact.topic) == ("visit", yesterday, "就业")
        rows = ContactYouth.objects.filter(contact=contact)
        assert {r.youth_id for r in rows} == {own_youths[1].pk, own_youths[2].pk}
        assert all(r.date == yesterday and r.is_offline for r in rows)
        assert {c.kwargs["on"] for c in changed.call_args_list} == {TODAY(), yesterday}
        latest = contact.history.order_by("-history_date").first()
        assert latest.history_user == tree.cadre_user
        assert own_youths[0].name in latest.history_change_reason
        assert not contact.corrected_after_close
        detail = client.get(f"/contacts/{contact.pk}/").content.decode()
        assert "改过的记录" in detail and "→" in detail

    def test_staff_see_the_correction_history(self, client, tree, own_youths):
        contact = log_contact(tree.cadre, [own_youths[0]], by=tree.cadre_user)
        client.force_login(tree.cadre_user)
        client.post(f"/contacts/{contact.pk}/edit/", _edit(contact, own_youths[:2], topic="改"))
        client.force_login(tree.owner)
        page = client.get(f"/contacts/{contact.pk}/").content.decode()
        assert page.count(tree.cadre_user.username) >= 2  # created and changed, by whom

    def test_past_30_days_the_cadre_may_neither_edit_nor_delete(self, client, tree, own_youths):
        contact = log_contact(tree.cadre, [own_youths[0]], by=tree.cadre_user, topic="原来的")
        _age(contact, 31)
        client.force_login(tree.cadre_user)
        response = client.get(f"/contacts/{contact.pk}/edit/", follow=True)
        assert "记录已超过 30 天" in response.content.decode()
        client.post(f"/contacts/{contact.pk}/edit/", _edit(contact, own_youths[:1], topic="新"))
        client.post(f"/contacts/{contact.pk}/delete/")
        contact.refresh_from_db()
        assert contact.topic == "原来的" and not contact.is_deleted

    def test_correction_of_a_closed_quarter_is_marked(self, client, tree, own_youths):
        today = TODAY()
        old_day = today.replace(day=1) - datetime.timedelta(days=100)
        contact = log_contact(tree.cadre, [own_youths[0]], by=tree.cadre_user, date=old_day)
        client.force_login(tree.cadre_user)
        client.post(f"/contacts/{contact.pk}/edit/", _edit(contact, own_youths[:1], topic="补记"))
        contact.refresh_from_db()
        assert contact.corrected_after_close and contact.topic == "补记"
        fresh = log_contact(tree.cadre, [own_youths[1]], by=tree.cadre_user, date=old_day)
        client.post(f"/contacts/{fresh.pk}/delete/")
        fresh.refresh_from_db()
        assert fresh.is_deleted and fresh.corrected_after_close
        assert client.get("/contacts/mine/").status_code == 200

    def test_delete_takes_it_out_of_the_numbers(self, client, tree, own_youths):
        contact = log_contact(tree.cadre, [own_youths[0]], by=tree.cadre_user)
        client.force_login(tree.cadre_user)
        response = client.post(f"/contacts/{contact.pk}/delete/")
        assert response["Location"] == "/contacts/mine/"
        assert not ContactYouth.objects.exists()

    def test_a_stranger_cannot_be_added_by_editing(self, client, tree, own_youths, b_youth):
        contact = log_contact(tree.cadre, [own_youths[0]], by=tree.cadre_user)
        client.force_login(tree.cadre_user)
        response = client.post(
            f"/contacts/{contact.pk}/edit/", _edit(contact, [b_youth], notes="留")
        )
        assert response.status_code == 200 and "留" in response.content.decode()
        assert list(ContactYouth.objects.values_list("youth_id", flat=True)) == [own_youths[0].pk]

    def test_a_youth_unlinked_since_may_stay_on_the_contact(self, client, tree, own_youths):
        from cadres.models import CadreYouth

        contact = log_contact(tree.cadre, [own_youths[0]], by=tree.cadre_user)
        CadreYouth.objects.filter(youth=own_youths[0]).delete()
        client.force_login(tree.cadre_user)
        response = client.post(
            f"/contacts/{contact.pk}/edit/", _edit(contact, own_youths[:1], topic="x")
        )
        assert response.status_code == 302

    @pytest.mark.parametrize(
        "bad",
        [
            {"date": (datetime.date.today() + datetime.timedelta(days=5)).isoformat()},
            {"date": "2020-01-01"},
            {"date": "garbage"},
            {"channel": "fax"},
            {"youths": []},
            {"youths": ["abc"]},
            {"topic": "长" * 101},
            {"notes": "长" * 5000},
        ],
    )
    def test_bad_input_is_a_message_and_nothing_changes(self, client, tree, own_youths, bad):
        contact = log_contact(tree.cadre, [own_youths[0]], by=tree.cadre_user, topic="原来的")
        client.force_login(tree.cadre_user)
        response = client.post(
            f"/contacts/{contact.pk}/edit/", _edit(contact, own_youths[:1], **bad)
        )
        assert response.status_code == 200
        contact.refresh_from_db()
        assert contact.topic == "原来的"

    def test_outsider_and_other_cadres_get_404(self, client, tree, own_youths):
        contact = log_contact(tree.cadre, [own_youths[0]], by=tree.cadre_user)
        other = CadreFactory(
            organisation=tree.town_a,
            user=__import__("tests.factories", fromlist=["x"]).UserFactory(
                role="cadre", organisation=tree.town_a
            ),
        )
        for user in (tree.outsider, other.user):
            client.force_login(user)
            assert client.get(f"/contacts/{contact.pk}/edit/").status_code == 404
            assert (
                client.post(
                    f"/contacts/{contact.pk}/edit/", _edit(contact, own_youths[:1])
                ).status_code
                == 404
            )
