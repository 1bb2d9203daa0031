"""Django admin is scoped like every page: lists, change pages, choices, autocomplete."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from cadres.models import Organisation, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def town_admin(tree):
    user = UserFactory(username="admin_a", organisation=tree.town_a, role=User.Role.ADMIN)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="cadres"))
    return user


def test_admin_changelist_shows_only_own_subtree(client, tree, town_admin):
    client.force_login(town_admin)
    response = client.get(reverse("admin:cadres_organisation_changelist"))
    assert response.status_code == 200
    assert "甲镇第一团支部" in response.text
    assert "乙镇团委" not in response.text


def test_admin_change_page_of_another_subtree_is_404(client, tree, town_admin):
    client.force_login(town_admin)
    url = reverse("admin:cadres_organisation_change", args=[tree.town_b.pk])
    assert client.get(url).status_code == 404
    url = reverse("admin:cadres_user_change", args=[tree.outsider.pk])
    assert client.get(url).status_code == 404


def test_admin_parent_choices_and_autocomplete_are_scoped(client, tree, town_admin):
    client.force_login(town_admin)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "cadres", "model_name": "organisation", "field_name": "parent", "term": "镇"},
    )
    names = {r["text"] for r in response.json()["results"]}
    assert "甲镇团委" in names and "乙镇团委" not in names
    # A forged POST choosing a parent outside the subtree is rejected by the form.
    response = client.post(
        reverse("admin:cadres_organisation_add"),
        {"name": "伪造支部", "kind": "branch", "parent": tree.town_b.pk, "is_active": "on"},
    )
    assert response.status_code == 200
    assert not Organisation.objects.filter(name="伪造支部").exists()


def test_admin_creates_organisation_with_a_path_under_its_parent(client, tree, town_admin):
    client.force_login(town_admin)
    response = client.post(
        reverse("admin:cadres_organisation_add"),
        {"name": "甲镇第二团支部", "kind": "branch", "parent": tree.town_a.pk, "is_active": "on"},
    )
    assert response.status_code == 302
    org = Organisation.objects.get(name="甲镇第二团支部")
    assert org.path == f"{tree.town_a.path}{org.pk:07d}."


def test_subtree_admin_cannot_grant_superuser(client, tree, town_admin):
    client.force_login(town_admin)
    response = client.get(reverse("admin:cadres_user_change", args=[tree.owner.pk]))
    assert response.status_code == 200
    assert 'name="is_superuser"' not in response.text


def test_cadre_and_staff_have_no_admin(client, tree):
    client.force_login(tree.owner)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
