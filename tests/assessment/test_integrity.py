"""Padding detection (assessment/integrity.py): for each signal a hand-made positive and a
near-miss negative, the stored findings of a score run, and a query count that does not grow
with the number of cadres."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from assessment import integrity, services
from assessment.models import IntegrityFinding
from assessment.periods import parse_period
from contacts.models import Contact
from tests.assessment.conftest import log_contact
from tests.factories import (
    ActivityFactory,
    CadreFactory,
    CadreYouthFactory,
    NeedFactory,
    RegistrationFactory,
    YouthFactory,
    recount_once,
)

TODAY = datetime.date(2026, 10, 15)
Q3 = parse_period("2026Q3", today=TODAY)
AS_OF = Q3.end


def _at(day: datetime.date, hour: int = 20, seconds: float = 0) -> datetime.datetime:
    base = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, 0)))
    return base + datetime.timedelta(seconds=seconds)


def _entered(contact: Contact, at: datetime.datetime) -> Contact:
    Contact.objects.filter(pk=contact.pk).update(created_at=at)
    return contact


def _youths(cadre, n: int, phones=None) -> list:
    out = []
    with recount_once():
        for i in range(n):
            youth = YouthFactory(
                organisation=cadre.organisation, phone=phones[i] if phones else f"1391234{i:04d}0"
            )
            CadreYouthFactory(cadre=cadre, youth=youth, linked_on=datetime.date(2026, 1, 5))
            out.append(youth)
    return out


def _codes(cadre, thresholds=None) -> set[str]:
    found = integrity.detect(period=Q3, as_of=AS_OF, thresholds=thresholds or {})
    return {s.code for s in found.get(cadre.pk, [])}


def _signal(cadre, code):
    found = integrity.detect(period=Q3, as_of=AS_OF, thresholds={})
    return next(s for s in found[cadre.pk] if s.code == code)


@pytest.fixture
def cadre(db):
    return CadreFactory()


# --- burst --------------------------------------------------------------------------------------


def _log_sitting(cadre, youths, n: int, gap_seconds: float, notes=None, topic=None):
    contacts = []
    for i in range(n):
        day = datetime.date(2026, 7, 1) + datetime.timedelta(days=i)
        # Notes through the service: it stores the note's key (contacts/notes_key.py).
        text = notes(i) if notes is not None else ""
        c = log_contact(cadre, [youths[i % len(youths)]], day, "wechat", notes=text)
        if topic is not None:
            Contact.objects.filter(pk=c.pk).update(topic=topic(i))
        typed_on = datetime.date(2026, 7, 1) + datetime.timedelta(days=n)
        contacts.append(_entered(c, _at(typed_on, 21, i * gap_seconds)))
    return contacts


def test_burst_twelve_entries_thirty_seconds_apart_is_flagged(cadre):
    youths = _youths(cadre, 12)
    logged = _log_sitting(cadre, youths, 12, 30)
    # Each entry on a different day but all typed in one sitting six minutes long.
    sig = _signal(cadre, "burst")
    assert sig.detail["entries"] == 12
    # The evidence opens and closes the sitting, and names nothing outside it.
    assert {logged[0].pk, logged[-1].pk} <= set(sig.contacts) <= {c.pk for c in logged}


def test_burst_one_slower_entry_does_not_hide_the_sitting(cadre):
    youths = _youths(cadre, 13)
    logged = _log_sitting(cadre, youths, 13, 30)
    Contact.objects.filter(pk=logged[6].pk).update(created_at=logged[5].created_at)
    for c in logged[7:]:  # a 90-second pause after the sixth entry
        Contact.objects.filter(pk=c.pk).update(
            created_at=Contact.objects.get(pk=c.pk).created_at + datetime.timedelta(seconds=60)
        )
    assert "burst" in _codes(cadre)


@pytest.mark.parametrize(
    ("youths", "entries", "seconds"),
    [
        pytest.param(12, 12, 90, id="a-dozen-ninety-seconds-apart"),
        # Under a minute each but not a dozen, and slower than the form can be filled in blind.
        pytest.param(12, 11, 45, id="eleven-forty-five-seconds-apart"),
        pytest.param(7, 7, 10, id="seven-fast-entries"),
    ],
)
def test_burst_near_misses_are_not_flagged(cadre, youths, entries, seconds):
    _log_sitting(cadre, _youths(cadre, youths), entries, seconds)
    assert "burst" not in _codes(cadre)


def test_burst_short_sitting_at_twenty_seconds_an_entry_is_flagged(cadre):
    # Ten entries, not a dozen, but at a pace no one fills in the form from memory.
    youths = _youths(cadre, 10)
    logged = _log_sitting(cadre, youths, 10, 20)
    sig = _signal(cadre, "burst")
    assert sig.detail["entries"] == 10
    assert {logged[0].pk, logged[-1].pk} <= set(sig.contacts)


def test_burst_ignores_contacts_derived_from_an_activity(cadre):
    youths = _youths(cadre, 12)
    for c in _log_sitting(cadre, youths, 12, 5):
        Contact.objects.filter(pk=c.pk).update(
            activity=ActivityFactory(organisation=cadre.organisation)
        )
    assert "burst" not in _codes(cadre)


# --- same_text ----------------------------------------------------------------------------------


def test_same_text_with_only_numbers_and_punctuation_changed_is_flagged(cadre):
    youths = _youths(cadre, 12)
    _log_sitting(
        cadre,
        youths,
        12,
        600,
        notes=lambda i: f"走访青年了解就业情况（第{i}次）。",
        topic=lambda i: ["就业", "近况", "政策"][i % 3],
    )
    sig = _signal(cadre, "same_text")
    assert sig.detail == {"same": 12, "with_text": 12}
    assert len(sig.contacts) == 12


def test_same_text_with_each_youths_name_typed_in_is_flagged(cadre):
    youths = _youths(cadre, 12)
    for i, y in enumerate(youths):
        y.name = ["王芳", "李娜", "张伟", "巴特尔", "其其格", "刘洋"][i % 6] + "ABCDEFGHIJKL"[i]
        y.save(update_fields=["name"])
    _log_sitting(
        cadre,
        youths,
        12,
        600,
        notes=lambda i: f"与{youths[i].name}进行了深入交流，了解其思想动态。",
    )
    sig = _signal(cadre, "same_text")
    assert sig.detail == {"same": 12, "with_text": 12}


def test_same_text_near_miss_names_of_youths_not_in_the_contact(cadre):
    # The same sentence about twelve different people, none of them the youth logged: the
    # names are content here (who was talked about), not the pasted note's blank.
    youths = _youths(cadre, 12)
    others = [f"赵{c}" for c in "一二三四五六七八九十冬夏"]
    _log_sitting(cadre, youths, 12, 600, notes=lambda i: f"与{others[i]}进行了深入交流。")
    assert "same_text" not in _codes(cadre)


def test_same_text_near_miss_short_note_and_a_habitual_topic(cadre):
    youths = _youths(cadre, 12)
    # "聊了近况" under "了解毕业后的就业打算" on every log is a habit, not a copied note.
    _log_sitting(
        cadre, youths, 12, 600, notes=lambda i: "聊了近况。", topic=lambda i: "了解毕业后的就业打算"
    )
    assert "same_text" not in _codes(cadre)


def test_same_text_near_miss_different_notes(cadre):
    youths = _youths(cadre, 12)
    subjects = [
        "就业",
        "升学",
        "创业",
        "培训",
        "法律",
        "心理",
        "贷款",
        "政策",
        "住房",
        "医疗",
        "婚恋",
        "交通",
    ]
    _log_sitting(cadre, youths, 12, 600, notes=lambda i: f"走访青年了解{subjects[i]}方面的情况")
    assert "same_text" not in _codes(cadre)


# --- end_dump and backdated ---------------------------------------------------------------------


def test_end_dump_contacts_of_july_entered_in_the_last_days_are_flagged(cadre):
    youths = _youths(cadre, 15)
    for i in range(15):
        c = log_contact(cadre, [youths[i]], datetime.date(2026, 7, 3 + i), "wechat")
        _entered(c, _at(datetime.date(2026, 9, 28), 9, i * 3600))
    assert "end_dump" in _codes(cadre)


def _ordinary_quarter(cadre, youths, n: int) -> None:
    """n contacts spread over the quarter, each entered the same evening."""
    for i in range(n):
        day = datetime.date(2026, 7, 1) + datetime.timedelta(days=i % 88)
        _entered(log_contact(cadre, [youths[i % len(youths)]], day), _at(day, 20, i))


def test_end_dump_thirty_old_contacts_in_the_last_week_diluted_by_many_others(cadre):
    youths = _youths(cadre, 30)
    _ordinary_quarter(cadre, youths, 90)
    for i in range(30):  # a quarter of the cadre's contacts: under the 40 % share
        day = datetime.date(2026, 7, 3) + datetime.timedelta(days=2 * i)
        _entered(log_contact(cadre, [youths[i]], day), _at(datetime.date(2026, 9, 27), 9, i * 600))
    sig = _signal(cadre, "end_dump")
    assert (sig.detail["late"], sig.detail["total"]) == (30, 120)


def test_end_dump_near_miss_twenty_old_contacts_among_many(cadre):
    youths = _youths(cadre, 30)
    _ordinary_quarter(cadre, youths, 90)
    for i in range(20):  # two or three weeks' catching-up after leave, a small share
        c = log_contact(cadre, [youths[i]], datetime.date(2026, 9, 1 + i), "wechat")
        _entered(c, _at(datetime.date(2026, 9, 27), 9, i * 600))
    assert "end_dump" not in _codes(cadre)


def test_end_dump_near_miss_quarter_end_campaign_entered_the_same_day(cadre):
    youths = _youths(cadre, 15)
    for i in range(15):
        day = datetime.date(2026, 9, 24 + i % 7)
        _entered(log_contact(cadre, [youths[i]], day, "talk"), _at(day, 19, i * 300))
    assert "end_dump" not in _codes(cadre)


def test_backdated_entries_forty_days_late_are_flagged(cadre):
    youths = _youths(cadre, 15)
    for i in range(15):
        day = datetime.date(2026, 7, 1 + i)
        _entered(log_contact(cadre, [youths[i]], day), _at(day + datetime.timedelta(days=40)))
    sig = _signal(cadre, "backdated")
    assert sig.detail["late"] == 15


def test_backdated_near_miss_twenty_days_late(cadre):
    youths = _youths(cadre, 15)
    for i in range(15):
        day = datetime.date(2026, 7, 1 + i)
        _entered(log_contact(cadre, [youths[i]], day), _at(day + datetime.timedelta(days=20)))
    assert "backdated" not in _codes(cadre)


# --- ghost_youths -------------------------------------------------------------------------------


def _meet_each(cadre, youths):
    for i, y in enumerate(youths):
        day = datetime.date(2026, 7, 1) + datetime.timedelta(days=3 * i)
        _entered(log_contact(cadre, [y], day, "wechat"), _at(day, 12 + i % 8))


def test_ghost_youths_with_sequential_phones_are_flagged(cadre):
    youths = _youths(cadre, 10, phones=[f"1380000{i:04d}" for i in range(10)])
    _meet_each(cadre, youths)
    sig = _signal(cadre, "ghost_youths")
    assert sig.detail["sequential"] == 10
    assert set(sig.youths) == {y.pk for y in youths}


def test_ghost_youths_with_missing_or_shared_phones_are_flagged(cadre):
    phones = [""] * 6 + ["13912345678"] * 4
    youths = _youths(cadre, 10, phones=phones)
    _meet_each(cadre, youths)
    sig = _signal(cadre, "ghost_youths")
    assert (sig.detail["missing"], sig.detail["shared"]) == (6, 4)


def test_ghost_youths_near_miss_a_third_without_phone(cadre):
    # Ten of thirty youths gave no number: common, and no sign of invention by itself.
    phones = [""] * 10 + [f"13{i}{i * 7919 % 10**8:08d}1"[:11] for i in range(20)]
    youths = _youths(cadre, 30, phones=phones)
    _meet_each(cadre, youths)
    assert "ghost_youths" not in _codes(cadre)


def test_ghost_youths_near_miss_youths_who_checked_in_or_asked(cadre):
    youths = _youths(cadre, 10, phones=[f"1380000{i:04d}" for i in range(10)])
    _meet_each(cadre, youths)
    activity = ActivityFactory(organisation=cadre.organisation)
    for y in youths[:5]:
        RegistrationFactory(activity=activity, youth=y, checked_in_at=timezone.now())
    NeedFactory(organisation=cadre.organisation, youth=youths[5])
    # Four unanswered youths remain: below the minimum of ten.
    assert "ghost_youths" not in _codes(cadre)


def test_ghost_youths_near_miss_family_phone_and_real_numbers(cadre):
    # Three siblings share a parent's phone; the others have ordinary, scattered numbers.
    phones = ["13912345678"] * 3 + [f"13{i}{i * 7919 % 10**8:08d}0"[:11] for i in range(3, 10)]
    youths = _youths(cadre, 10, phones=phones)
    _meet_each(cadre, youths)
    assert "ghost_youths" not in _codes(cadre)


# --- batch_log ----------------------------------------------------------------------------------


def test_batch_log_a_talk_with_21_youths_is_flagged(cadre):
    youths = _youths(cadre, 21)
    contact = log_contact(cadre, youths, datetime.date(2026, 8, 3), "talk")
    sig = _signal(cadre, "batch_log")
    assert (sig.value, sig.contacts) == (21, [contact.pk])


def test_batch_log_near_miss_activity_with_60_check_ins_and_a_meeting_of_40(cadre):
    youths = _youths(cadre, 60)
    derived = log_contact(cadre, youths, datetime.date(2026, 8, 3), "activity")
    Contact.objects.filter(pk=derived.pk).update(
        activity=ActivityFactory(organisation=cadre.organisation)
    )
    log_contact(cadre, youths[:40], datetime.date(2026, 8, 10), "meeting")
    log_contact(cadre, youths[:20], datetime.date(2026, 8, 11), "talk")
    log_contact(cadre, youths, datetime.date(2026, 8, 12), "wechat")  # a group message
    assert "batch_log" not in _codes(cadre)


# --- quota_jump ---------------------------------------------------------------------------------


def _reach(cadre, youths, first_day: datetime.date):
    for i, y in enumerate(youths):
        day = first_day + datetime.timedelta(days=i % 5)
        _entered(log_contact(cadre, [y], day, "talk"), _at(day, 15, i * 400))


def test_quota_jump_exactly_to_the_quota_in_the_last_days_is_flagged(cadre, quota10):
    youths = _youths(cadre, 10)
    _reach(cadre, youths[:6], datetime.date(2026, 7, 10))
    _reach(cadre, youths[6:], datetime.date(2026, 9, 25))
    sig = _signal(cadre, "quota_jump")
    assert sig.detail == {"reached": 10, "late": 4, "quota": 10, "last_days": 10}


def test_quota_jump_near_miss_campaign_overshooting_the_quota(cadre, quota10):
    youths = _youths(cadre, 14)
    _reach(cadre, youths[:6], datetime.date(2026, 7, 10))
    _reach(cadre, youths[6:], datetime.date(2026, 9, 25))  # 14 reached: not "exactly"
    assert "quota_jump" not in _codes(cadre)


def test_quota_jump_near_miss_quota_reached_steadily(cadre, quota10):
    youths = _youths(cadre, 10)
    _reach(cadre, youths[:7], datetime.date(2026, 7, 10))
    _reach(cadre, youths[7:], datetime.date(2026, 9, 25))  # 3 late: under 40 % of the quota
    assert "quota_jump" not in _codes(cadre)


# --- thresholds, storage, queries ---------------------------------------------------------------


def test_thresholds_come_from_the_policy_version(cadre):
    youths = _youths(cadre, 21)
    log_contact(cadre, youths, datetime.date(2026, 8, 3), "talk")
    assert "batch_log" in _codes(cadre)
    assert "batch_log" not in _codes(cadre, {"batch_talk_max_youths": 30})


def test_new_policy_version_keeps_thresholds_unless_changed(db):
    first = services.policy_current()
    assert first.integrity["burst_min_entries"] == 12
    values = {name: getattr(first, name) for name in services.POLICY_FIELDS}
    second = services.policy_create(
        values={**values, "integrity": {"burst_min_entries": 20, "bogus": 1}}, note="x"
    )
    third = services.policy_create(values=values, note="y")
    assert second.integrity["burst_min_entries"] == 20 and "bogus" not in second.integrity
    assert third.integrity == second.integrity
    first.refresh_from_db()
    assert first.integrity["burst_min_entries"] == 12


def test_score_run_stores_findings_with_evidence_and_replaces_them(cadre):
    youths = _youths(cadre, 21)
    contact = log_contact(cadre, youths, datetime.date(2026, 8, 3), "talk")
    run = services.scores_compute(period="2026Q3", today=datetime.date(2026, 9, 30))
    finding = IntegrityFinding.objects.get(run=run, cadre=cadre)
    assert "batch_log" in finding.codes.split(";")
    batch = next(s for s in finding.signals if s["code"] == "batch_log")
    assert batch["contacts"] == [contact.pk]
    assert integrity.describe(batch).startswith("1 条手工录入的线下联系人数过多")
    Contact.objects.filter(pk=contact.pk).update(is_deleted=True)
    contact.youth_rows.all().delete()
    services.scores_compute(period="2026Q3", today=datetime.date(2026, 9, 30))
    assert not IntegrityFinding.objects.filter(run=run, cadre=cadre).exists()


def test_detection_queries_do_not_grow_with_cadres(db, django_assert_max_num_queries):
    def padded():
        c = CadreFactory()
        log_contact(c, _youths(c, 21), datetime.date(2026, 8, 3), "talk")

    padded()
    # Two statements, in a savepoint of their own (and, on PostgreSQL, its work_mem).
    with django_assert_max_num_queries(5):
        assert len(integrity.detect(period=Q3, as_of=AS_OF, thresholds={})) == 1
    for _ in range(4):
        padded()
    with django_assert_max_num_queries(5):
        assert len(integrity.detect(period=Q3, as_of=AS_OF, thresholds={})) == 5


# --- denials and same_device (contacts.Confirmation) ---------------------------------------------


def _answer(cadre, youth, contact, outcome="confirmed", same_device=False):
    from contacts.models import Confirmation

    return Confirmation.objects.create(
        contact=contact,
        cadre=cadre,
        youth=youth,
        kind="share",
        outcome=outcome,
        day=contact.date,
        same_device=same_device,
    )


def test_denials_two_youths_saying_it_never_happened_are_flagged(cadre):
    youths = _youths(cadre, 3)
    contacts = [
        log_contact(cadre, [y], datetime.date(2026, 8, 1 + i)) for i, y in enumerate(youths)
    ]
    _answer(cadre, youths[0], contacts[0], "denied")
    _answer(cadre, youths[1], contacts[1], "denied")
    _answer(cadre, youths[2], contacts[2])
    sig = _signal(cadre, "denials")
    assert (sig.value, sig.contacts) == (2, sorted(c.pk for c in contacts[:2]))


def test_denials_near_miss_one_denial_or_a_denial_of_another_quarter(cadre):
    youths = _youths(cadre, 2)
    _answer(cadre, youths[0], log_contact(cadre, [youths[0]], datetime.date(2026, 8, 1)), "denied")
    _answer(cadre, youths[1], log_contact(cadre, [youths[1]], datetime.date(2026, 6, 1)), "denied")
    assert "denials" not in _codes(cadre)


def test_same_device_confirmation_is_flagged_and_is_no_evidence(cadre):
    youths = _youths(cadre, 10, phones=[f"1380000{i:04d}" for i in range(10)])
    _meet_each(cadre, youths)
    for y in youths:
        contact = Contact.objects.filter(youth_rows__youth=y).get()
        _answer(cadre, y, contact, same_device=True)
    assert {"same_device", "ghost_youths"} <= _codes(cadre)


def test_same_device_near_miss_confirmed_from_the_youths_phones(cadre):
    youths = _youths(cadre, 10, phones=[f"1380000{i:04d}" for i in range(10)])
    _meet_each(cadre, youths)
    for y in youths:
        _answer(cadre, y, Contact.objects.filter(youth_rows__youth=y).get())
    assert not {"same_device", "ghost_youths"} & _codes(cadre)
