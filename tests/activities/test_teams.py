"""Teams at an activity (issue 15 item 7): members, a whole team checked in in one step, the
team's attendance after the event, a team commendation; pages scoped, query counts."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from activities import services
from activities.models import Activity, Commendation, Registration
from contacts.models import ContactYouth
from tests.config.test_csp import inline_code
from tests.factories import ActivityFactory, RegistrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def show(tree):
    """The 文艺汇演 under way: responsible cadre of township A, 12 sign-ups."""
    activity = ActivityFactory(organisation=tree.town_a, title="文艺汇演")
    activity.responsible_cadres.add(tree.cadre)
    RegistrationFactory.create_batch(12, activity=activity)
    return activity


def _team(activity, name, regs, by):
    team = services.team_create(activity=activity, name=name, by=by)
    services.team_members_add(team=team, registrations=regs, by=by)
    return team


class TestServices:
    def test_a_whole_team_checks_in_in_one_step(self, tree, show, django_assert_max_num_queries):
        regs = list(show.registrations.order_by("id"))
        team = _team(show, "乌兰牧骑小分队", regs[:8], tree.owner)
        _team(show, "舞蹈队", regs[8:], tree.owner)
        with django_assert_max_num_queries(16):
            n = services.team_checkin(team=team, by=tree.owner)
        assert n == 8
        attended = Registration.objects.filter(activity=show, checked_in_at__isnull=False)
        assert {r.pk for r in attended} == {r.pk for r in regs[:8]}
        derived = ContactYouth.objects.filter(cadre=tree.cadre, contact__activity=show)
        assert derived.count() == 8
        assert services.team_checkin(team=team, by=tree.owner) == 0  # again: nothing doubled

    def test_a_person_belongs_to_one_team_and_other_activities_are_refused(self, tree, show):
        regs = list(show.registrations.order_by("id"))
        first = _team(show, "甲队", regs[:2], tree.owner)
        second = _team(show, "乙队", regs[1:3], tree.owner)
        assert set(first.members.all()) == {regs[0]}
        assert set(second.members.all()) == {regs[1], regs[2]}
        stranger = RegistrationFactory(activity=ActivityFactory(organisation=tree.town_a))
        with pytest.raises(ValidationError, match="所选报名不属于这个活动"):
            services.team_members_add(team=first, registrations=[stranger], by=tree.owner)
        with pytest.raises(ValidationError, match="本活动已有同名队伍"):
            services.team_create(activity=show, name=" 甲队 ", by=tree.owner)

    def test_after_the_event_the_team_is_recorded_with_its_real_day(self, tree):
        day = timezone.localdate() - datetime.timedelta(days=4)
        start = datetime.datetime.combine(
            day, datetime.time(19), tzinfo=timezone.get_current_timezone()
        )
        past = ActivityFactory(
            organisation=tree.town_a,
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=3),
            status=Activity.Status.DONE,
        )
        past.responsible_cadres.add(tree.cadre)
        regs = RegistrationFactory.create_batch(5, activity=past)
        team = _team(past, "合唱队", regs[:4], tree.owner)
        with pytest.raises(ValidationError, match="请在“活动后补录”中按队伍补录出勤"):
            services.team_checkin(team=team, by=tree.owner)
        counts = services.attendance_record_late(
            activity=past, by=tree.owner, date=day, hours="2.5", teams=[team]
        )
        assert counts["recorded"] == 4
        dates = set(
            ContactYouth.objects.filter(contact__activity=past).values_list("date", flat=True)
        )
        assert dates == {day}

    def test_team_commendation_comes_from_the_team(self, tree, show):
        team = _team(show, "乌兰牧骑小分队", list(show.registrations.all()[:3]), tree.owner)
        c = services.team_commend(
            team=team, title="优秀演出队", date=timezone.localdate(), by=tree.owner
        )
        c = Commendation.objects.get(pk=c.pk)
        assert (c.team, c.team_name, c.activity, c.organisation) == (
            team,
            "乌兰牧骑小分队",
            show,
            tree.town_a,
        )
        with pytest.raises(ValidationError, match="表彰日期不能晚于今天"):
            services.team_commend(
                team=team,
                title="优秀演出队",
                date=timezone.localdate() + datetime.timedelta(days=1),
                by=tree.owner,
            )


class TestPages:
    def test_outsider_gets_404(self, client, tree, show):
        team = _team(show, "甲队", list(show.registrations.all()[:2]), tree.owner)
        client.force_login(tree.outsider)
        assert client.get(reverse("activities:teams", args=[show.pk])).status_code == 404
        detail = reverse("activities:team_detail", args=[show.pk, team.pk])
        assert client.get(detail).status_code == 404
        checkin = reverse("activities:team_checkin", args=[show.pk, team.pk])
        assert client.post(checkin).status_code == 404
        assert not Registration.objects.filter(activity=show, checked_in_at__isnull=False).exists()

    def test_responsible_cadre_builds_and_checks_in_a_team(self, client, tree, show):
        client.force_login(tree.cadre_user)
        response = client.post(reverse("activities:teams", args=[show.pk]), {"name": "舞蹈队"})
        team = show.teams.get()
        assert response["Location"] == reverse("activities:team_detail", args=[show.pk, team.pk])
        regs = list(show.registrations.order_by("id")[:3])
        client.post(response["Location"], {"registrations": [r.pk for r in regs]})
        assert team.members.count() == 3
        done = client.post(reverse("activities:team_checkin", args=[show.pk, team.pk]), follow=True)
        assert "整队签到完成。" in done.text and "本次签到 3 人。" in done.text
        garbage = client.post(response["Location"], {"registrations": ["x", "999999"]})
        assert garbage.status_code == 200 and "alert-danger" in garbage.text

    def test_query_counts_for_22_teams(self, client, tree, django_assert_max_num_queries):
        activity = ActivityFactory(organisation=tree.town_a, title="文艺汇演")
        regs = RegistrationFactory.create_batch(66, activity=activity)
        teams = [
            _team(activity, f"第{i}队", regs[3 * i : 3 * i + 3], tree.owner) for i in range(22)
        ]
        client.force_login(tree.owner)
        with django_assert_max_num_queries(10):
            page = client.get(reverse("activities:teams", args=[activity.pk]))
        assert page.text.count("整队签到") >= 22
        with django_assert_max_num_queries(12):
            detail = client.get(reverse("activities:team_detail", args=[activity.pk, teams[0].pk]))
        assert detail.status_code == 200
        # The walk of tests/config/test_csp.py cannot reach this page (two ids in its URL).
        assert "unsafe-inline" not in detail["Content-Security-Policy"]
        assert inline_code(detail.content.decode()) == []
