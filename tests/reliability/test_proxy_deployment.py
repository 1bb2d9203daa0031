"""Deployment behind a proxy (issue 11 item 7): one client-address header for axes and the
rate limiter; the axes log superuser-only; media only through a login and a scope check."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import RequestFactory

from activities.models import ActivityPhoto
from tests.factories import ActivityFactory

pytestmark = pytest.mark.django_db


def test_axes_and_the_rate_limiter_read_the_same_header(settings):
    from axes.helpers import get_client_ip_address

    settings.LIANQING_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_REAL_IP="203.0.113.9")
    from config import ratelimit

    assert ratelimit.client_address(request) == "203.0.113.9"
    assert get_client_ip_address(request) == "203.0.113.9"  # not the proxy's 10.0.0.1


def test_axes_log_is_superuser_only(client, tree):
    client.force_login(tree.county)
    assert client.get("/admin/axes/accessattempt/").status_code in (302, 403)
    assert client.get("/admin/axes/accesslog/").status_code in (302, 403)


def test_media_needs_a_login_and_scope(client, tree, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    activity = ActivityFactory(organisation=tree.town_a)
    photo = ActivityPhoto(activity=activity)
    photo.image.save("p.jpg", ContentFile(b"\xff\xd8jpeg"), save=True)
    url = f"/media/{photo.image.name}"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(tree.outsider)
    assert client.get(url).status_code == 404
    client.force_login(tree.owner)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\xff\xd8jpeg"
    settings.LIANQING_MEDIA_ACCEL_PREFIX = "/protected-media/"
    response = client.get(url)
    assert response["X-Accel-Redirect"] == f"/protected-media/{photo.image.name}"
    assert client.get("/media/../etc/passwd").status_code == 404
