"""The installable app: manifest, icons, service worker at /sw.js with scope / (issue 14 item 4)."""

from __future__ import annotations

import json

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_manifest_names_the_app_and_its_icons(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["short_name"] == "联青" and data["start_url"] == "/" and data["scope"] == "/"
    assert data["display"] == "standalone"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in data["icons"]:
        path = icon["src"].removeprefix("/static/")
        assert finders.find(path), icon["src"]
    assert any(icon.get("purpose") == "maskable" for icon in data["icons"])


def test_service_worker_is_served_from_the_root_for_the_whole_site(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    for page in ("/contacts/new/", "/contacts/batch/", "/cadres/me/youths/"):
        assert f'"{page}"' in body
    assert "/static/lianqing/offline.js" in body
    assert "Content-Security-Policy" in response


def test_every_page_links_manifest_icon_and_the_offline_script(client, tree):
    client.force_login(tree.cadre_user)
    page = client.get("/").content.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in page
    assert 'rel="icon"' in page and "lianqing/offline.js" in page
    assert f'data-lq-user="{tree.cadre_user.pk}"' in page


def test_favicon_ico_is_never_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert finders.find(response["Location"].removeprefix("/static/"))


def test_pwa_routes_refuse_other_methods(client):
    assert client.post("/sw.js").status_code == 405
    assert client.post("/manifest.webmanifest").status_code == 405
