"""Races are data-safe (issue 11 item 3), with real threads on PostgreSQL.

Before: two concurrent commits of the same roster created duplicate youths (2 of 4 trials); a
check-in racing a removal of the same registration answered 500 (82 of 160).
"""

from __future__ import annotations

import contextlib

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from activities import services as activity_services
from activities.models import Registration
from cadres import roster_import
from cadres.models import Youth
from contacts.models import ContactYouth
from tests.factories import ActivityFactory, CadreYouthFactory, RegistrationFactory, SectorFactory
from tests.threads import in_threads

HEADER = "姓名,性别,出生年份,领域,单位/学校/村（嘎查）,手机号"


def _roster(rows: range) -> bytes:
    lines = [f"青年{i},女,1998,企业青年,单位{i},139{i:08d}" for i in rows]
    return ("\n".join([HEADER, *lines]) + "\n").encode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("trial", range(4))
def test_concurrent_commits_of_same_and_overlapping_rosters_create_no_duplicates(tree, trial):
    SectorFactory(code="enterprise", name="企业青年")
    files = [_roster(range(0, 300)), _roster(range(0, 300)), _roster(range(150, 450))]
    records = [
        roster_import.roster_import_prepare(
            data=data, filename="r.csv", organisation=tree.town_a, cadre=None, by=tree.owner
        )
        for data in files
    ]
    errors = in_threads(
        *(
            lambda r=r: roster_import.roster_import_commit(roster_import=r, by=tree.owner)
            for r in records
        )
    )
    assert not errors, errors
    assert Youth.objects.count() == 450
    assert Youth.objects.values("phone").distinct().count() == 450


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_check_in_racing_a_removal_is_a_message_and_leaves_no_contact(tree):
    activity = ActivityFactory(organisation=tree.town_a)
    activity.responsible_cadres.add(tree.cadre)
    unexpected: list[BaseException] = []
    for _ in range(20):
        link = CadreYouthFactory(cadre=tree.cadre)
        registration = RegistrationFactory(activity=activity, youth=link.youth)

        def checkin(reg=registration):
            with contextlib.suppress(ValidationError):  # "already removed": the message
                activity_services.checkin(registration=reg, by=tree.owner)

        def remove(reg=registration):
            with contextlib.suppress(ValidationError):
                activity_services.registration_remove(registration=reg, by=tree.owner)

        unexpected += in_threads(checkin, remove)
        assert not Registration.objects.filter(pk=registration.pk).exists()
        # The removal saw the committed check-in: no contact derived from a removed row.
        assert not ContactYouth.objects.filter(
            contact__activity=activity, youth=link.youth
        ).exists()
    assert not unexpected, unexpected


@pytest.mark.django_db
def test_checking_in_a_removed_registration_is_a_clear_message(tree):
    registration = RegistrationFactory(activity=ActivityFactory(organisation=tree.town_a))
    Registration.objects.filter(pk=registration.pk).delete()
    with pytest.raises(ValidationError, match="已被删除"):
        activity_services.checkin(registration=registration, by=tree.owner)
    with pytest.raises(ValidationError, match="已被删除"):
        activity_services.registration_remove(registration=registration, by=tree.owner)
    with pytest.raises(ValidationError, match="已被删除"):
        activity_services.checkout(registration=registration, by=tree.owner)


@pytest.mark.django_db
def test_a_row_that_vanished_under_a_post_goes_back_with_a_message(tree):
    from django.contrib.messages import get_messages
    from django.contrib.messages.storage.fallback import FallbackStorage

    from config.middleware import VanishedRowMiddleware

    request = RequestFactory().post(
        "/activities/1/", HTTP_REFERER="http://testserver/activities/1/"
    )
    request.session = {}
    request._messages = FallbackStorage(request)
    middleware = VanishedRowMiddleware(lambda r: None)
    response = middleware.process_exception(request, Youth.DoesNotExist())
    assert response.status_code == 302 and response["Location"] == "http://testserver/activities/1/"
    assert "已被删除" in str(list(get_messages(request))[0])
    assert middleware.process_exception(request, ValueError()) is None
    get = RequestFactory().get("/x/")
    assert middleware.process_exception(get, Youth.DoesNotExist()).status_code == 404
