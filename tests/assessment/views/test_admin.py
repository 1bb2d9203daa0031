"""The policy in Django admin: a change is a new version; bad weights are refused in Chinese."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessment import services
from assessment.models import ScoringPolicy
from cadres.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _data(**overrides):
    data = {
        "w_quota": 40,
        "w_reach": 20,
        "w_depth": 10,
        "w_diversity": 10,
        "w_responsiveness": 10,
        "w_ballot": 10,
        "w_confirmed": 0,
        "flag_score_below": 50,
        "quota_grace_days": 90,
        "no_contact_days": 45,
        "overdue_needs_max": 1,
        "note": "加重人数",
    }
    data.update(overrides)
    return data


def test_admin_saves_a_new_version_and_refuses_bad_weights(client, tree):
    services.policy_current()
    admin = UserFactory(organisation=tree.banner, role=User.Role.ADMIN, is_superuser=True)
    client.force_login(admin)
    url = reverse("admin:assessment_scoringpolicy_add")
    response = client.post(url, _data(w_quota=50))
    assert response.status_code == 200
    assert "各项权重之和必须等于 100，现在是 110" in response.content.decode()
    assert ScoringPolicy.objects.count() == 1
    response = client.post(url, _data())
    assert response.status_code == 302
    assert services.policy_current().version == 2
    assert services.policy_current().w_quota == 40
    change = reverse("admin:assessment_scoringpolicy_change", args=[1])
    assert client.post(change, _data(w_quota=10, w_reach=50)).status_code == 403
