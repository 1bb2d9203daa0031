"""Merging two registry entries of one person (cadres/merge.py, issue 15 item 2): every link,
contact, attendance, need, confirmation, consent, hour, commendation and project ends on the kept
record; one transaction; refused across subtrees and outside scope; and a new foreign key to
Youth anywhere fails `test_every_column_pointing_at_youth_is_decided`."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from activities.models import (
    Commendation,
    EntrepreneurshipProject,
    Registration,
    VolunteerHours,
    VolunteerOrganisation,
)
from cadres.merge import YOUTH_COLUMNS, _unique_sets, youth_columns, youth_merge
from cadres.models import CadreProgress, CadreYouth, Consent, Youth
from cadres.services import cadre_progress_refresh
from contacts.models import Confirmation, ContactYouth, Need
from tests.factories import (
    ActivityFactory,
    CadreFactory,
    NeedFactory,
    RegistrationFactory,
    YouthFactory,
    log_contact,
)

pytestmark = pytest.mark.django_db


def test_every_column_pointing_at_youth_is_decided():
    """A new ForeignKey (or ManyToMany) to Youth must be added to YOUTH_COLUMNS with what a
    merge does with it; otherwise merging would leave its rows on the deleted record (or
    cascade them away)."""
    assert set(youth_columns()) == set(YOUTH_COLUMNS)


def test_no_table_refers_to_the_rows_a_merge_drops():
    """The merge deletes the duplicate's clashing rows (of tables with a unique constraint on
    the youth) without cascades: nothing may point at those tables."""
    from django.apps import apps

    columns = youth_columns()
    dropped = {
        columns[key][0]
        for key, how in YOUTH_COLUMNS.items()
        if how == "move" and _unique_sets(*columns[key])
    }
    assert len(dropped) == 5  # links, contact rows, confirmations, registrations, members
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if field.many_to_one and getattr(model, "instance_type", None) is None:
                assert field.remote_field.model not in dropped, (model, field.name)


@pytest.fixture
def pair(tree):
    """One person registered twice in township A: once at the township, once at its branch."""
    kept = YouthFactory(organisation=tree.town_a, name="乌兰", phone="", unit="牧场")
    dup = YouthFactory(
        organisation=tree.branch_a, name="乌兰", phone="13900000001", unit="", wechat_id="wl"
    )
    return kept, dup


def _world(tree, kept, dup):
    """The duplicate has one of everything, some of it also held by the kept record."""
    today = timezone.localdate()
    other = CadreFactory(name="支部干部", organisation=tree.branch_a)
    early = today - datetime.timedelta(days=40)
    CadreYouth.objects.create(cadre=tree.cadre, youth=kept, linked_on=today)
    CadreYouth.objects.create(cadre=tree.cadre, youth=dup, linked_on=early)  # clash: earlier
    CadreYouth.objects.create(cadre=other, youth=dup, linked_on=today)
    cadre_progress_refresh(cadre_ids=[tree.cadre.pk, other.pk])
    both = log_contact(tree.cadre, [kept, dup], date=today - datetime.timedelta(days=5))
    only = log_contact(other, [dup], date=today - datetime.timedelta(days=3))
    need = NeedFactory(organisation=tree.town_a, owner_cadre=tree.cadre, youth=dup)
    activity = ActivityFactory(organisation=tree.town_a)
    RegistrationFactory(activity=activity, youth=kept)
    RegistrationFactory(activity=activity, youth=dup, checked_in_at=timezone.now(), hours=2)
    solo = ActivityFactory(organisation=tree.town_a)
    RegistrationFactory(activity=solo, youth=dup)
    Confirmation.objects.create(
        contact=only, cadre=other, youth=dup, kind="share", outcome="confirmed", day=today
    )
    Consent.objects.create(youth=dup, wording_version="v1", method="cadre")
    team = VolunteerOrganisation.objects.create(name="爱心车队", organisation=tree.town_a)
    team.members.add(kept, dup)
    VolunteerHours.objects.create(
        youth=dup, organisation=tree.town_a, date=today, hours=Decimal("3"), description="送考"
    )
    Commendation.objects.create(title="标兵", youth=dup, organisation=tree.town_a, date=today)
    EntrepreneurshipProject.objects.create(
        name="奶食坊", youth=dup, organisation=tree.town_a, field="食品"
    )
    return {"other": other, "both": both, "only": only, "need": need, "activity": activity}


def test_everything_of_the_duplicate_ends_on_the_kept_record(tree, pair):
    kept, dup = pair
    w = _world(tree, kept, dup)
    done = youth_merge(kept=kept, duplicate=dup, by=tree.owner)
    assert not Youth.objects.filter(pk=dup.pk).exists()
    kept.refresh_from_db()
    # The deeper organisation (the branch), and what only the duplicate knew.
    assert kept.organisation == tree.branch_a
    assert (kept.phone, kept.unit, kept.wechat_id) == ("13900000001", "牧场", "wl")
    links = dict(CadreYouth.objects.filter(youth=kept).values_list("cadre_id", "linked_on"))
    assert links == {
        tree.cadre.pk: timezone.localdate() - datetime.timedelta(days=40),
        w["other"].pk: timezone.localdate(),
    }
    assert set(ContactYouth.objects.filter(youth=kept).values_list("contact_id", flat=True)) == {
        w["both"].pk,
        w["only"].pk,
    }
    assert ContactYouth.objects.filter(contact=w["both"]).count() == 1
    assert Need.objects.get(pk=w["need"].pk).youth_id == kept.pk
    attended = Registration.objects.get(activity=w["activity"], youth=kept)
    assert attended.checked_in_at is not None and attended.hours == 2
    assert Registration.objects.filter(youth=kept).count() == 2
    assert Confirmation.objects.filter(youth=kept).count() == 1
    assert Consent.objects.filter(youth=kept).count() == 1
    assert list(VolunteerOrganisation.objects.get().members.all()) == [kept]
    for model in (VolunteerHours, Commendation, EntrepreneurshipProject):
        assert model.objects.filter(youth=kept).count() == 1, model
    # Nothing anywhere still points at the deleted record.
    for key, (model, field) in youth_columns().items():
        if YOUTH_COLUMNS[key] == "move":
            assert not model._default_manager.filter(**{f"{field}_id": dup.pk}).exists(), key
    assert done.combined["cadres.CadreYouth.youth"] == 1
    # Progress: the cadre who held both records holds one youth now.
    assert CadreProgress.objects.get(cadre=tree.cadre).youth_count == 1
    assert CadreProgress.objects.get(cadre=w["other"]).youth_count == 1


def test_the_merge_is_in_the_history_with_who(tree, pair):
    kept, dup = pair
    w = _world(tree, kept, dup)
    youth_merge(kept=kept, duplicate=dup, by=tree.owner)
    assert Youth.history.filter(id=dup.pk, history_type="-", history_user=tree.owner).exists()
    assert kept.history.first().history_user == tree.owner
    assert CadreYouth.history.filter(
        youth_id=kept.pk, cadre_id=w["other"].pk, history_type="~", history_user=tree.owner
    ).exists()
    assert Need.history.filter(id=w["need"].pk, youth_id=kept.pk, history_user=tree.owner).exists()


def test_records_from_different_subtrees_are_refused_and_nothing_changes(tree):
    kept = YouthFactory(organisation=tree.town_a, name="托雅")
    dup = YouthFactory(organisation=tree.town_b, name="托雅")
    CadreYouth.objects.create(cadre=tree.cadre, youth=kept)
    with pytest.raises(ValidationError) as error:
        youth_merge(kept=kept, duplicate=dup, by=tree.county)
    assert "分属不同的组织" in str(error.value)
    assert Youth.objects.filter(pk=dup.pk).exists()


def test_an_outsider_cannot_merge(tree, pair):
    kept, dup = pair
    with pytest.raises(ValidationError):
        youth_merge(kept=kept, duplicate=dup, by=tree.outsider)
    with pytest.raises(ValidationError):
        youth_merge(kept=kept, duplicate=dup, by=tree.cadre_user)
    assert Youth.objects.filter(pk=dup.pk).exists()


def test_a_failure_midway_writes_nothing(tree, pair, monkeypatch):
    kept, dup = pair
    _world(tree, kept, dup)
    import cadres.merge

    def boom(kept, dup):
        raise RuntimeError("disk full")

    monkeypatch.setitem(cadres.merge.COMBINE, "activities.Registration.youth", boom)
    with pytest.raises(RuntimeError):
        youth_merge(kept=kept, duplicate=dup, by=tree.owner)
    assert CadreYouth.objects.filter(youth=dup).count() == 2
    assert Youth.objects.filter(pk=dup.pk).exists()


class TestMergePage:
    def url(self, youth):
        return f"/cadres/youths/{youth.pk}/merge/"

    def test_staff_picks_the_namesake_by_its_details_and_merges(self, client, tree, pair):
        kept, dup = pair
        YouthFactory(organisation=tree.town_b, name="乌兰", unit="外镇")  # not in scope
        client.force_login(tree.owner)
        page = client.get(self.url(kept)).content.decode()
        assert "乌兰 · 1998 · — · 甲镇第一团支部" in page and "外镇" not in page
        response = client.post(self.url(kept), {"other": dup.pk, "confirm": "on"})
        assert response.status_code == 302
        assert not Youth.objects.filter(pk=dup.pk).exists()

    def test_without_confirmation_nothing_is_merged(self, client, tree, pair):
        kept, dup = pair
        client.force_login(tree.owner)
        response = client.post(self.url(kept), {"other": dup.pk})
        assert response.status_code == 400 and "请勾选确认" in response.content.decode()
        assert Youth.objects.filter(pk=dup.pk).exists()

    def test_a_record_outside_scope_is_never_accepted(self, client, tree, pair):
        kept, _dup = pair
        far = YouthFactory(organisation=tree.town_b, name="乌兰")
        client.force_login(tree.owner)
        response = client.post(self.url(kept), {"other": far.pk, "confirm": "on", "also": far.pk})
        assert response.status_code == 400
        assert Youth.objects.filter(pk=far.pk).exists()

    def test_across_subtrees_the_page_says_why(self, client, tree):
        kept = YouthFactory(organisation=tree.town_a, name="托雅")
        dup = YouthFactory(organisation=tree.town_b, name="托雅")
        client.force_login(tree.county)
        response = client.post(self.url(kept), {"other": dup.pk, "confirm": "on"})
        assert response.status_code == 400
        assert "分属不同的组织" in response.content.decode()
        assert Youth.objects.filter(pk=dup.pk).exists()

    @pytest.mark.parametrize("who", ["outsider", "cadre_user"])
    def test_outsider_and_cadre_get_404(self, client, tree, pair, who):
        kept, dup = pair
        client.force_login(getattr(tree, who))
        assert client.get(self.url(kept)).status_code == 404
        assert client.post(self.url(kept), {"other": dup.pk, "confirm": "on"}).status_code == 404
        assert Youth.objects.filter(pk=dup.pk).exists()

    def test_search_finds_by_phone_and_queries_are_bounded(
        self, client, tree, pair, django_assert_max_num_queries
    ):
        kept, dup = pair
        for n in range(15):
            YouthFactory(organisation=tree.town_a, name=f"乌兰{n}")
        client.force_login(tree.owner)
        with django_assert_max_num_queries(12):
            page = client.get(self.url(kept), {"q": "139 0000 0001"}).content.decode()
        assert f'value="{dup.pk}"' in page
        with django_assert_max_num_queries(12):
            page = client.get(self.url(kept), {"q": "乌兰"}).content.decode()
        assert page.count('name="other"') == 16

    def test_merge_queries_do_not_grow_with_the_rows(
        self, tree, pair, django_assert_max_num_queries
    ):
        """The same count on PostgreSQL with one row per table or with 30 more contacts: a
        fixed handful per table (the quota refresh's row lock among them), none per row."""
        kept, dup = pair
        _world(tree, kept, dup)
        for _ in range(30):
            log_contact(tree.cadre, [dup])
        with django_assert_max_num_queries(66):
            youth_merge(kept=kept, duplicate=dup, by=tree.owner)
