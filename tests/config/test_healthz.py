from __future__ import annotations

from unittest import mock

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthz_reports_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"


def test_healthz_is_503_when_database_is_unreachable(client):
    from django.db import OperationalError

    with mock.patch("config.views.connection.cursor", side_effect=OperationalError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error"


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_healthz_is_degraded_when_configured_broker_is_down(client):
    # Without the broker the site still serves (issue 11 item 4): degraded, not out of service.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["broker"] == "error"


@pytest.mark.redis
def test_healthz_checks_the_real_broker(client, settings):
    import os

    settings.REDIS_URL = os.environ["REDIS_URL"]
    response = client.get("/healthz")
    assert response.json()["broker"] == "ok"
