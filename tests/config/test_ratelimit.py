from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings
from django.utils import timezone

from config import ratelimit


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _request(addr="10.1.1.1", **meta):
    return RequestFactory().post("/", REMOTE_ADDR=addr, **meta)


def test_hit_counts_per_address_and_scope():
    a, b = _request("10.0.0.1"), _request("10.0.0.2")
    assert [ratelimit.hit(a, "s", limit=2, window=60) for _ in range(3)] == [False, False, True]
    assert ratelimit.hit(b, "s", limit=2, window=60) is False
    assert ratelimit.hit(a, "other", limit=2, window=60) is False
    assert ratelimit.is_limited(a, "s", limit=2)


def test_forwarded_for_is_ignored_unless_a_trusted_header_is_configured():
    spoof = [_request("10.0.0.9", HTTP_X_FORWARDED_FOR=f"1.2.3.{i}") for i in range(3)]
    assert ratelimit.client_address(spoof[0]) == "10.0.0.9"
    with override_settings(LIANQING_CLIENT_IP_HEADER="HTTP_X_REAL_IP"):
        assert ratelimit.client_address(_request("10.0.0.9", HTTP_X_REAL_IP="8.8.8.8")) == "8.8.8.8"


def test_cache_key_does_not_contain_the_address():
    assert "10.0.0.1" not in ratelimit._key(_request("10.0.0.1"), "s")


@pytest.mark.django_db
def test_public_checkin_flood_gets_a_friendly_429(client, tree, monkeypatch):
    from activities import views
    from activities.models import Activity

    monkeypatch.setitem(views.PUBLIC_LIMITS, "checkin", 3)
    start = timezone.now()
    activity = Activity.objects.create(
        title="签到测试",
        category="culture",
        organisation=tree.town_a,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
    )
    url = f"/activities/c/{activity.checkin_code}/"
    statuses = [client.post(url, {"phone": "13800000000"}).status_code for _ in range(4)]
    assert statuses[-1] == 429 and 429 not in statuses[:3]
    assert "提交太频繁了" in client.post(url, {"phone": "13800000000"}).content.decode()
