"""The one scoping selector: owner, colleague and outsider, plus a cadre's own view."""

from __future__ import annotations

import pytest
from django.http import Http404

from cadres.models import Cadre, Organisation, User
from cadres.selectors import cadre_list, get_in_scope_or_404, organisation_list, scope_queryset
from tests.factories import CadreFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_staff_sees_own_subtree_only(tree):
    visible = set(organisation_list(user=tree.owner))
    assert visible == {tree.town_a, tree.branch_a}
    assert set(organisation_list(user=tree.colleague)) == visible
    assert tree.town_a not in set(organisation_list(user=tree.outsider))


def test_banner_staff_sees_all_below_but_not_the_city(tree):
    visible = set(organisation_list(user=tree.county))
    assert {tree.banner, tree.town_a, tree.branch_a, tree.town_b} <= visible
    assert tree.city not in visible


def test_outsider_gets_404_for_an_object_of_another_subtree(tree):
    with pytest.raises(Http404):
        get_in_scope_or_404(
            Organisation.objects.all(), user=tree.outsider, pk=tree.town_a.pk, org_field=""
        )
    assert (
        get_in_scope_or_404(
            Organisation.objects.all(), user=tree.owner, pk=tree.branch_a.pk, org_field=""
        )
        == tree.branch_a
    )


def test_garbage_pk_is_404_not_500(tree):
    with pytest.raises(Http404):
        get_in_scope_or_404(Organisation.objects.all(), user=tree.owner, pk="abc", org_field="")


def test_cadre_sees_only_own_cadre_record(tree):
    other = CadreFactory(organisation=tree.town_a)
    assert list(cadre_list(user=tree.cadre_user)) == [tree.cadre]
    assert other in set(cadre_list(user=tree.owner))
    assert other not in set(cadre_list(user=tree.outsider))


def test_cadre_without_cadre_field_sees_nothing(tree):
    assert not scope_queryset(Cadre.objects.all(), user=tree.cadre_user).exists()


def test_user_without_organisation_sees_nothing(tree):
    orphan = UserFactory(organisation=None, role=User.Role.STAFF)
    assert not organisation_list(user=orphan).exists()


def test_inactive_user_sees_nothing(tree):
    tree.owner.is_active = False
    assert not organisation_list(user=tree.owner).exists()
