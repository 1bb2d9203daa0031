"""Reminders (assessment/reminders.py): who is reminded of what, the daily pass, the digest."""

from __future__ import annotations

import datetime

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from assessment import reminders, services
from assessment.models import DigestSent, Notification
from cadres.models import User
from contacts.models import Need
from tests.assessment.reminders_world import build_world
from tests.factories import CadreFactory, CadreYouthFactory, NeedFactory, UserFactory
from tests.threads import in_threads

Kind = Notification.Kind


@pytest.fixture
def world(tree):
    return build_world(tree)


def _mine(user, kind=None):
    qs = Notification.objects.filter(user=user)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def _need_ids(user):
    return set(_mine(user, Kind.NEED_DUE).values_list("object_id", flat=True))


def test_each_kind_reaches_the_people_it_concerns(tree, world):
    counts = reminders.reminders_refresh(today=world.today)
    assert counts[Kind.NEED_DUE] >= 4 and counts[Kind.ACTIVITY] == 1
    # The cadre: their own overdue need (not the far one, not the answered one), their five
    # longest-silent youths, tomorrow's activity they run, the channels they lack.
    assert _need_ids(tree.cadre_user) == {world.need_overdue.pk}
    dormant = _mine(tree.cadre_user, Kind.DORMANT).get()
    assert [y["name"] for y in dormant.data["youths"]] == world.dormant_names
    assert dormant.data["total"] == 7
    activity = _mine(tree.cadre_user, Kind.ACTIVITY).get()
    assert activity.object_id == world.activity.pk and activity.data["time"] == "09:30"
    channels = _mine(tree.cadre_user, Kind.CHANNELS).get()
    assert len(channels.data["missing"]) == 8 and "youth_home" not in channels.data["missing"]
    # Supervision is for supervisors: the step's recorder and the case's opener, never the cadre.
    assert not _mine(tree.cadre_user, Kind.FOLLOW_UP).exists()
    assert _mine(tree.owner, Kind.FOLLOW_UP).get().object_id == world.case.pk
    assert _mine(tree.county, Kind.FOLLOW_UP).get().due_on == world.step.follow_up_on
    # Township A's staff: the need the owner holds, the unowned one of their own organisation.
    assert _need_ids(tree.owner) == {world.need_soon.pk, world.need_unowned.pk}
    assert _need_ids(tree.colleague) == {world.need_unowned.pk}
    # Staff get no dormant or channel reminders (those are a cadre's own 100).
    assert not _mine(tree.owner, Kind.DORMANT).exists()


def test_a_township_user_never_sees_another_townships_needs(tree, world):
    # A staff member of township A made owner of B's need (a stale assignment) still gets
    # nothing from outside their subtree.
    stray = NeedFactory(organisation=tree.town_b, owner_user=tree.owner, due_date=world.today)
    reminders.reminders_refresh(today=world.today)
    assert _need_ids(tree.outsider) == {world.need_b.pk}
    b_needs = set(Need.objects.filter(organisation=tree.town_b).values_list("pk", flat=True))
    assert stray.pk in b_needs
    for user in (tree.owner, tree.colleague, tree.cadre_user):
        assert not _need_ids(user) & b_needs
    a_needs = set(Need.objects.filter(organisation=tree.town_a).values_list("pk", flat=True))
    assert not _need_ids(tree.outsider) & a_needs
    # The banner committee's staff are reminded of their own organisation's needs, not of every
    # township's (the townships' staff hold those).
    assert _need_ids(tree.county) == set()


def test_a_rerun_writes_the_same_rows_and_a_read_reminder_stays_read(tree, world):
    reminders.reminders_refresh(today=world.today)
    first = set(Notification.objects.values_list("user_id", "kind", "key"))
    need = _mine(tree.cadre_user, Kind.NEED_DUE).get()
    services.notification_mark_read(user=tree.cadre_user, notification_id=need.pk)
    reminders.reminders_refresh(today=world.today)
    reminders.reminders_refresh(today=world.today)
    assert set(Notification.objects.values_list("user_id", "kind", "key")) == first
    again = _mine(tree.cadre_user, Kind.NEED_DUE).get()
    assert again.pk == need.pk and again.read_at is not None


def test_a_rerun_keeps_ids_and_updates_what_changed(tree, world):
    from cadres.models import Youth
    from tests.factories import log_contact

    reminders.reminders_refresh(today=world.today)
    before = dict(Notification.objects.values_list("pk", "created_at"))
    dormant = _mine(tree.cadre_user, Kind.DORMANT).get()
    called = Youth.objects.get(name=world.dormant_names[0])
    log_contact(tree.cadre, [called], by=tree.cadre_user)  # the cadre called the first one
    reminders.reminders_refresh(today=world.today)
    assert dict(Notification.objects.values_list("pk", "created_at")) == before
    dormant.refresh_from_db()
    names = [y["name"] for y in dormant.data["youths"]]
    assert called.name not in names and len(names) == 5 and dormant.data["total"] == 6


def test_a_reminder_no_longer_true_disappears(tree, world):
    reminders.reminders_refresh(today=world.today)
    Need.objects.filter(pk=world.need_overdue.pk).update(status=Need.Status.ANSWERED)
    reminders.reminders_refresh(today=world.today)
    assert _need_ids(tree.cadre_user) == set()


def test_a_kind_switched_off_is_removed_and_not_written_again(tree, world):
    reminders.reminders_refresh(today=world.today)
    assert _mine(tree.cadre_user, Kind.CHANNELS).exists()
    services.notification_preference_save(
        user=tree.cadre_user, values={"channels": False, "dormant": False}
    )
    assert not _mine(tree.cadre_user, Kind.CHANNELS).exists()
    reminders.reminders_refresh(today=world.today)
    assert not _mine(tree.cadre_user, Kind.CHANNELS).exists()
    assert not _mine(tree.cadre_user, Kind.DORMANT).exists()
    assert _mine(tree.cadre_user, Kind.ACTIVITY).exists()


def test_nothing_reminds_anyone_to_open_the_app(tree, world):
    """MISSION.md: no metric rewards opening the app. A user with nothing due and who never
    logged in gets no reminder at all."""
    idle = UserFactory(role=User.Role.STAFF, last_login=None)  # an organisation of its own
    reminders.reminders_refresh(today=world.today)
    assert not _mine(idle).exists()
    texts = [reminders.describe(n, world.today) for n in Notification.objects.all()]
    assert texts and not any("登录" in t or "打开" in t for t in texts)


def test_the_daily_pass_costs_the_same_queries_for_ten_times_the_users(
    tree, world, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        reminders.reminders_refresh(today=world.today)
    for _i in range(10):
        cadre = CadreFactory(
            organisation=tree.town_b,
            user=UserFactory(organisation=tree.town_b, role=User.Role.CADRE),
        )
        CadreYouthFactory.create_batch(3, cadre=cadre)
        NeedFactory(organisation=tree.town_b, owner_cadre=cadre, due_date=world.today)
    with django_assert_max_num_queries(len(small.captured_queries)):
        counts = reminders.reminders_refresh(today=world.today)
    assert counts[Kind.DORMANT] == 11
    # 11 reads, 2 deletes, 1 insert (and the test transaction's savepoint pair).
    assert len(small.captured_queries) <= 16


def test_describe_says_overdue_and_due(tree, world):
    reminders.reminders_refresh(today=world.today)
    overdue = reminders.describe(_mine(tree.cadre_user, Kind.NEED_DUE).get(), world.today)
    assert overdue.startswith("需求已逾期") and "创业担保贷款" in overdue
    soon = _mine(tree.owner, Kind.NEED_DUE).get(object_id=world.need_soon.pk)
    assert "到期" in reminders.describe(soon, world.today)
    dormant = reminders.describe(_mine(tree.cadre_user, Kind.DORMANT).get(), world.today)
    assert "7 位青年" in dormant and "沉默青年3、沉默青年4（还没有联系过）" in dormant
    follow = reminders.describe(_mine(tree.owner, Kind.FOLLOW_UP).get(), world.today)
    assert tree.cadre.name in follow and "提醒后" in follow


# --- The weekly digest (console/locmem here; a real SMTP server in test_digest_smtp.py) ---


def _want_digest(user, email, **prefs):
    User.objects.filter(pk=user.pk).update(email=email)
    services.notification_preference_save(user=user, values={"weekly_digest": True, **prefs})


def test_digest_goes_once_a_week_however_often_it_runs(tree, world, mailoutbox):
    _want_digest(tree.cadre_user, "cadre@example.org")
    reminders.reminders_refresh(today=world.today)
    assert reminders.digests_send(today=world.today) == 1
    assert reminders.digests_send(today=world.today) == 0
    # Later the same week (new reminders or not): still nothing.
    later = reminders.week_start(world.today) + datetime.timedelta(days=6)
    reminders.reminders_refresh(today=later)
    assert reminders.digests_send(today=later) == 0
    assert len(mailoutbox) == 1
    assert DigestSent.objects.filter(user=tree.cadre_user).count() == 1
    # The next week: the next digest.
    assert reminders.digests_send(today=later + datetime.timedelta(days=1)) == 1


def test_a_second_worker_sends_nothing_already_claimed(tree, world, mailoutbox):
    """Two workers at once: the one that loses the (user, week) row does not send."""
    import uuid

    _want_digest(tree.cadre_user, "cadre@example.org")
    reminders.reminders_refresh(today=world.today)
    DigestSent.objects.create(
        user=tree.cadre_user, week=reminders.week_start(world.today), claim=uuid.uuid4()
    )
    assert reminders.digests_send(today=world.today) == 0
    assert mailoutbox == []


def test_digest_only_for_those_who_asked_and_have_an_address(tree, world, mailoutbox):
    User.objects.filter(pk=tree.owner.pk).update(email="owner@example.org")  # did not ask
    services.notification_preference_save(user=tree.colleague, values={"weekly_digest": True})
    reminders.reminders_refresh(today=world.today)
    assert reminders.digests_send(today=world.today) == 0  # colleague has no address
    assert mailoutbox == []


def test_a_failed_send_is_tried_again_next_run(tree, world, settings, mailoutbox):
    _want_digest(tree.cadre_user, "cadre@example.org")
    reminders.reminders_refresh(today=world.today)
    settings.EMAIL_BACKEND = "tests.assessment.test_reminders.FailingBackend"
    assert reminders.digests_send(today=world.today) == 0
    assert not DigestSent.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert reminders.digests_send(today=world.today) == 1


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise OSError("mail server refused")


def test_digest_queries_are_bounded_per_batch(tree, world, django_assert_max_num_queries):
    for i in range(12):
        cadre = CadreFactory(
            organisation=tree.town_b,
            user=UserFactory(organisation=tree.town_b, role=User.Role.CADRE),
        )
        NeedFactory(organisation=tree.town_b, owner_cadre=cadre, due_date=world.today)
        _want_digest(cadre.user, f"c{i}@example.org")
    reminders.reminders_refresh(today=world.today)
    # Batches of 5 over 12 users: 3 batches of 4 queries and the empty 4th read.
    with django_assert_max_num_queries(3 * 4 + 1):
        assert reminders.digests_send(today=world.today, batch_size=5) == 12


def test_the_beat_task_refreshes_then_sends(tree, world, mailoutbox):
    from assessment import tasks

    _want_digest(tree.cadre_user, "cadre@example.org")
    assert tasks.send_digests.delay().get() == 1
    assert tasks.refresh_reminders.delay().get()[Kind.ACTIVITY] == 1
    assert len(mailoutbox) == 1


def test_the_beat_schedule_names_both_tasks():
    from config.celery_app import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"assessment.refresh_reminders", "assessment.send_digests"} <= tasks


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_mail_each_user_once(tree, mailoutbox):
    """Two digest runs started together (two Celery workers on the same beat tick): every user
    gets exactly one mail, and the two reminder passes leave one set of rows."""
    world = build_world(tree)
    users = [tree.cadre_user, tree.owner, tree.colleague, tree.outsider, tree.county]
    for i, user in enumerate(users):
        _want_digest(user, f"u{i}@example.org")
    sent: list[int] = []

    def work():
        reminders.reminders_refresh(today=world.today)
        sent.append(reminders.digests_send(today=world.today, batch_size=2))

    assert in_threads(work, work, timeout=60) == []
    recipients = [m.to[0] for m in mailoutbox]
    assert sorted(recipients) == sorted(set(recipients)) and sum(sent) == len(recipients) == 5
    assert DigestSent.objects.count() == 5
    keys = list(Notification.objects.values_list("user_id", "kind", "key"))
    assert len(keys) == len(set(keys))
