"""Attendance after the event (issue 15 item 3): the rule, the derived contacts' date, the page."""

from __future__ import annotations

import datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity, Registration
from contacts.models import ContactYouth
from tests.factories import ActivityFactory, RegistrationFactory, YouthFactory

pytestmark = pytest.mark.django_db


def _past_activity(tree, *, days_ago: int = 3, hours: int = 3, **kw) -> Activity:
    # 09:00 local time: the activity stays within one calendar day whatever the hour of the run.
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    start = datetime.datetime.combine(day, datetime.time(9), tzinfo=timezone.get_current_timezone())
    activity = ActivityFactory(
        organisation=tree.town_a,
        title="甲镇文艺汇演",
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=hours),
        **{"status": Activity.Status.DONE, **kw},
    )
    activity.responsible_cadres.add(tree.cadre)
    return activity


def _day(activity: Activity) -> datetime.date:
    return timezone.localdate(activity.starts_at)


class TestService:
    def test_registered_and_unregistered_youths_are_recorded_on_the_activity_day(self, tree):
        activity = _past_activity(tree)
        reg = RegistrationFactory(activity=activity)
        walk_in = YouthFactory(organisation=tree.town_a)
        counts = services.attendance_record_late(
            activity=activity,
            by=tree.owner,
            date=_day(activity),
            hours="2.5",
            registrations=[reg],
            youths=[walk_in],
        )
        assert counts == {"recorded": 2, "added": 1, "unchanged": 0}
        rows = Registration.objects.filter(activity=activity, checked_in_at__isnull=False)
        assert rows.count() == 2
        for row in rows:
            assert timezone.localdate(row.checked_in_at) == _day(activity)
            assert row.checked_in_at == activity.starts_at
            assert row.hours == Decimal("2.5")
        assert rows.get(youth=walk_in).source == Registration.Source.LATE
        # Derived contacts carry the activity's day, not the day of entry.
        derived = ContactYouth.objects.filter(cadre=tree.cadre, youth__in=[reg.youth, walk_in])
        assert derived.count() == 2
        assert set(derived.values_list("date", flat=True)) == {_day(activity)}
        assert _day(activity) != timezone.localdate()

    def test_already_attended_is_left_as_it_was(self, tree):
        activity = _past_activity(tree)
        reg = RegistrationFactory(
            activity=activity, checked_in_at=activity.starts_at, hours=Decimal("1.0")
        )
        counts = services.attendance_record_late(
            activity=activity, by=tree.owner, date=_day(activity), hours=3, registrations=[reg]
        )
        assert counts["recorded"] == 0 and counts["unchanged"] == 1
        reg.refresh_from_db()
        assert reg.hours == Decimal("1.0")

    @pytest.mark.parametrize(
        ("date_shift", "hours", "message"),
        [
            (None, "3.5", "时长不能超过活动时长（3 小时）。"),
            (None, "0", "时长须大于 0。"),
            (1, "1", "出勤日期须在活动期间"),
            (-1, "1", "出勤日期须在活动期间"),
        ],
    )
    def test_bad_day_or_hours_refused_and_nothing_written(self, tree, date_shift, hours, message):
        activity = _past_activity(tree)
        walk_in = YouthFactory(organisation=tree.town_a)
        day = _day(activity) + datetime.timedelta(days=date_shift or 0)
        with pytest.raises(ValidationError) as exc:
            services.attendance_record_late(
                activity=activity, by=tree.owner, date=day, hours=hours, youths=[walk_in]
            )
        assert message in " ".join(exc.value.messages)
        assert not Registration.objects.filter(activity=activity).exists()
        assert not ContactYouth.objects.filter(youth=walk_in).exists()

    def test_future_date_refused(self, tree):
        # A multi-day camp that is still running: tomorrow is within the activity, not yet past.
        start = timezone.now() - datetime.timedelta(days=1)
        activity = ActivityFactory(
            organisation=tree.town_a, starts_at=start, ends_at=start + datetime.timedelta(days=3)
        )
        reg = RegistrationFactory(activity=activity)
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        with pytest.raises(ValidationError) as exc:
            services.attendance_record_late(
                activity=activity, by=tree.owner, date=tomorrow, hours=1, registrations=[reg]
            )
        assert "出勤日期不能晚于今天。" in exc.value.messages

    def test_window_is_the_setting(self, tree, settings):
        activity = _past_activity(tree, days_ago=31)
        reg = RegistrationFactory(activity=activity)
        with pytest.raises(ValidationError) as exc:
            services.attendance_record_late(
                activity=activity, by=tree.owner, date=_day(activity), hours=1, registrations=[reg]
            )
        assert "活动结束已超过 30 天，不能再补录签到。" in exc.value.messages
        settings.LIANQING_LATE_ATTENDANCE_DAYS = 40
        services.attendance_record_late(
            activity=activity, by=tree.owner, date=_day(activity), hours=1, registrations=[reg]
        )
        reg.refresh_from_db()
        assert reg.checked_in_at is not None

    def test_cancelled_and_future_activities_refused(self, tree):
        cancelled = _past_activity(tree, status=Activity.Status.CANCELLED)
        with pytest.raises(ValidationError, match="活动已取消"):
            services.attendance_record_late(
                activity=cancelled, by=tree.owner, date=_day(cancelled), hours=1
            )
        future = ActivityFactory(
            organisation=tree.town_a, starts_at=timezone.now() + datetime.timedelta(days=2)
        )
        with pytest.raises(ValidationError, match="活动尚未开始"):
            services.attendance_record_late(
                activity=future, by=tree.owner, date=_day(future), hours=1
            )

    def test_registration_of_another_activity_refused(self, tree):
        activity = _past_activity(tree)
        other = RegistrationFactory(activity=_past_activity(tree))
        with pytest.raises(ValidationError, match="所选报名不属于这个活动"):
            services.attendance_record_late(
                activity=activity,
                by=tree.owner,
                date=_day(activity),
                hours=1,
                registrations=[other],
            )

    def test_scores_are_scheduled_for_the_activity_day(self, tree):
        activity = _past_activity(tree, days_ago=20)
        reg = RegistrationFactory(activity=activity)
        with mock.patch("contacts.services.numbers_changed") as changed:
            services.attendance_record_late(
                activity=activity, by=tree.owner, date=_day(activity), hours=1, registrations=[reg]
            )
        assert changed.call_args.kwargs["on"] == _day(activity)


class TestPage:
    def _url(self, activity: Activity) -> str:
        return reverse("activities:late_attendance", args=[activity.pk])

    def test_outsider_and_other_cadre_get_404(self, client, tree):
        activity = _past_activity(tree)
        client.force_login(tree.outsider)
        assert client.get(self._url(activity)).status_code == 404
        assert client.post(self._url(activity), {"hours": "1"}).status_code == 404

    def test_staff_record_a_walk_in_found_by_search(self, client, tree):
        activity = _past_activity(tree)
        youth = YouthFactory(organisation=tree.town_a, name="其木格")
        client.force_login(tree.owner)
        page = client.get(self._url(activity), {"q": "其木格"})
        assert page.status_code == 200 and "其木格" in page.text
        response = client.post(
            self._url(activity),
            {"date": _day(activity).isoformat(), "hours": "2", "youths": [youth.pk], "q": "其木格"},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("activities:checkin_list", args=[activity.pk])
        assert Registration.objects.get(activity=activity, youth=youth).hours == Decimal("2")

    def test_refusal_keeps_what_was_typed(self, client, tree):
        activity = _past_activity(tree)
        reg = RegistrationFactory(activity=activity)
        client.force_login(tree.cadre_user)
        response = client.post(
            self._url(activity),
            {"date": _day(activity).isoformat(), "hours": "9", "registrations": [reg.pk]},
        )
        assert response.status_code == 200
        assert "时长不能超过活动时长（3 小时）。" in response.text
        assert 'value="9"' in response.text
        assert f'value="{reg.pk}" id="lr{reg.pk}" checked' in response.text
        reg.refresh_from_db()
        assert reg.checked_in_at is None

    def test_garbage_is_a_form_error_not_a_500(self, client, tree):
        activity = _past_activity(tree)
        client.force_login(tree.owner)
        response = client.post(
            self._url(activity), {"date": "明天", "hours": "两小时", "youths": ["x", "999999"]}
        )
        assert response.status_code == 200
        assert 'class="invalid-feedback' in response.text

    def test_page_query_count(self, client, tree, django_assert_max_num_queries):
        activity = _past_activity(tree)
        RegistrationFactory.create_batch(30, activity=activity)
        client.force_login(tree.owner)
        with django_assert_max_num_queries(12):
            assert client.get(self._url(activity), {"q": "青年"}).status_code == 200
