from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cadres import services
from cadres.models import Organisation
from cadres.selectors import organisation_subtree
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db
K = Organisation.Kind


def test_created_organisation_path_extends_parent_path():
    root = services.organisation_create(name="市", kind=K.CITY)
    child = services.organisation_create(name="旗", kind=K.BANNER, parent=root)
    assert root.path == f"{root.pk:07d}."
    assert child.path == f"{root.pk:07d}.{child.pk:07d}."
    assert child.depth == 1
    assert Organisation.objects.get(pk=child.pk).path == child.path


def test_subtree_is_one_query_and_excludes_siblings(django_assert_num_queries):
    root = OrganisationFactory(kind=K.BANNER)
    a = OrganisationFactory(parent=root)
    a1 = OrganisationFactory(parent=a, kind=K.BRANCH)
    b = OrganisationFactory(parent=root)
    with django_assert_num_queries(1):
        names = set(organisation_subtree(organisation=a).values_list("pk", flat=True))
    assert names == {a.pk, a1.pk}
    assert b.pk not in names


def test_moving_an_organisation_reroots_its_whole_subtree():
    root = OrganisationFactory(kind=K.BANNER)
    a = OrganisationFactory(parent=root)
    a1 = OrganisationFactory(parent=a, kind=K.BRANCH)
    b = OrganisationFactory(parent=root)
    services.organisation_update(organisation=a, name=a.name, kind=a.kind, parent=b, is_active=True)
    a.refresh_from_db()
    a1.refresh_from_db()
    assert a.parent_id == b.pk
    assert a.path == f"{b.path}{a.pk:07d}."
    assert a1.path == f"{a.path}{a1.pk:07d}."
    assert (a.depth, a1.depth) == (2, 3)
    assert set(organisation_subtree(organisation=b).values_list("pk", flat=True)) == {
        b.pk,
        a.pk,
        a1.pk,
    }


def test_organisation_cannot_move_under_its_own_descendant():
    root = OrganisationFactory(kind=K.BANNER)
    a = OrganisationFactory(parent=root)
    a1 = OrganisationFactory(parent=a, kind=K.BRANCH)
    with pytest.raises(ValidationError) as err:
        services.organisation_update(
            organisation=a, name=a.name, kind=a.kind, parent=a1, is_active=True
        )
    assert "下级组织" in str(err.value)
    a.refresh_from_db()
    assert a.parent_id == root.pk


def test_admin_role_gets_django_admin_access_and_cadre_does_not(tree):
    admin = services.user_create(
        username="adm", password="x-secret-123", organisation=tree.banner, role="admin"
    )
    cadre = services.user_create(
        username="cad", password="x-secret-123", organisation=tree.town_a, role="cadre"
    )
    assert admin.is_staff and not cadre.is_staff
