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


def _choice_ids(client, url, field):
    form = client.get(url).context["adminform"].form
    return set(form.fields[field].queryset.values_list("pk", flat=True))


def test_admin_cadre_login_choices_are_scoped(client, tree, town_admin):
    """The cadre's login (Cadre.user) was chosen from every user of the province: a forged POST
    could tie a cadre record to another subtree's login."""
    client.force_login(town_admin)
    url = reverse("admin:cadres_cadre_change", args=[tree.cadre.pk])
    ids = _choice_ids(client, url, "user")
    assert tree.cadre_user.pk in ids
    assert tree.outsider.pk not in ids


def test_admin_link_channel_choices_are_scoped(client, tree, town_admin):
    """A youth link's channel (CadreYouth.channel) listed every cadre's liaison channels."""
    from tests.factories import CadreFactory, CadreYouthFactory, LiaisonChannelFactory

    mine = LiaisonChannelFactory(cadre=tree.cadre, name="甲镇青年之家")
    theirs = LiaisonChannelFactory(
        cadre=CadreFactory(organisation=tree.town_b), name="乙镇青年之家"
    )
    link = CadreYouthFactory(cadre=tree.cadre)
    client.force_login(town_admin)
    ids = _choice_ids(client, reverse("admin:cadres_cadreyouth_change", args=[link.pk]), "channel")
    assert mine.pk in ids
    assert theirs.pk not in ids


def test_admin_campaign_branch_and_secretary_choices_are_scoped(client, tree, town_admin):
    """Campaign.branch / secretary (raw-id fields) accepted any organisation and any cadre."""
    from tests.factories import CadreFactory, CampaignFactory, OrganisationFactory

    town_admin.user_permissions.add(*Permission.objects.filter(content_type__app_label="surveys"))
    campaign = CampaignFactory(branch=tree.branch_a)
    branch_b = OrganisationFactory(kind=Organisation.Kind.BRANCH, parent=tree.town_b)
    secretary_b = CadreFactory(organisation=branch_b, is_branch_secretary=True)
    client.force_login(town_admin)
    url = reverse("admin:surveys_campaign_change", args=[campaign.pk])
    assert branch_b.pk not in _choice_ids(client, url, "branch")
    assert tree.branch_a.pk in _choice_ids(client, url, "branch")
    assert secretary_b.pk not in _choice_ids(client, url, "secretary")
    assert campaign.secretary_id in _choice_ids(client, url, "secretary")


def test_contact_and_activity_admin_are_scoped_and_read_only(client, tree):
    import datetime

    from django.utils import timezone

    from activities.models import Activity
    from contacts.models import Contact
    from tests.factories import CadreFactory, CadreYouthFactory, log_contact

    admin_a = UserFactory(username="admin_a2", organisation=tree.town_a, role=User.Role.ADMIN)
    admin_a.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["contacts", "activities"])
    )
    other = CadreFactory(name="乙镇干部", organisation=tree.town_b)
    mine = log_contact(tree.cadre, [CadreYouthFactory(cadre=tree.cadre).youth], topic="甲镇话题")
    theirs = log_contact(other, [CadreYouthFactory(cadre=other).youth], topic="乙镇话题")
    start = timezone.now()
    far = Activity.objects.create(
        title="乙镇活动",
        category="culture",
        organisation=tree.town_b,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=1),
    )
    client.force_login(admin_a)
    html = client.get(reverse("admin:contacts_contact_changelist")).content.decode()
    assert "甲镇话题" in html and "乙镇话题" not in html
    assert client.get(reverse("admin:contacts_contact_change", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("admin:activities_activity_change", args=[far.pk])).status_code == 404
    # Read-only: writes go through the services (derived contacts, the contact fact table).
    response = client.post(reverse("admin:contacts_contact_change", args=[mine.pk]), {"topic": "x"})
    assert response.status_code == 403
    assert Contact.objects.get(pk=mine.pk).topic == "甲镇话题"


def test_only_the_programme_committee_changes_quota_rules(client, tree):
    from cadres.models import QuotaRule

    rule = QuotaRule.objects.create(cadre_type="part_time", quota=30, min_sectors=3)
    perms = Permission.objects.filter(
        content_type__app_label="cadres", content_type__model__in=["quotarule", "sector"]
    )
    town_admin = UserFactory(username="adm_town", organisation=tree.town_a, role=User.Role.ADMIN)
    banner_admin = UserFactory(
        username="adm_banner", organisation=tree.banner, role=User.Role.ADMIN
    )
    for user in (town_admin, banner_admin):
        user.user_permissions.set(perms)
    url = reverse("admin:cadres_quotarule_change", args=[rule.pk])
    data = {"cadre_type": "part_time", "quota": 1, "min_sectors": 1, "min_channels": 1}
    client.force_login(town_admin)
    assert client.get(url).status_code == 200  # may look
    assert client.post(url, data).status_code == 403
    rule.refresh_from_db()
    assert rule.quota == 30
    client.force_login(banner_admin)
    assert client.post(url, data).status_code == 302
    rule.refresh_from_db()
    assert rule.quota == 1


def test_scoring_policy_follows_the_same_committee_rule(tree):
    from assessment.selectors import is_committee

    town_admin = UserFactory(username="adm_t2", organisation=tree.town_a, role=User.Role.ADMIN)
    banner_staff = UserFactory(username="stf_b2", organisation=tree.banner, role=User.Role.STAFF)
    assert not is_committee(town_admin)
    assert is_committee(banner_staff)
    assert not is_committee(tree.cadre_user)
