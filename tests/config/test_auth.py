"""Login, throttling, demo-account refusal, logout, password change, language switch."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "pw-lianqing-123"


def _login(client, username, password):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="10.0.0.1"
    )


def test_login_redirects_to_home(client, tree):
    response = _login(client, "owner_a", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_wrong_password_gets_chinese_error_and_keeps_username(client, tree):
    response = _login(client, "owner_a", "nope")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.text
    assert 'value="owner_a"' in response.text


def test_repeated_failures_lock_the_account_with_a_clear_message(client, tree):
    for _ in range(5):
        _login(client, "owner_a", "nope")
    response = _login(client, "owner_a", PASSWORD)  # even the right password is refused now
    assert response.status_code == 429
    assert "登录失败次数过多" in response.text
    assert "_auth_user_id" not in client.session


@override_settings(DEBUG=False, LIANQING_DEMO=False)
def test_demo_accounts_are_refused_on_a_real_installation(client, tree):
    UserFactory(username="county", organisation=tree.banner, is_demo=True)
    response = _login(client, "county", PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@override_settings(DEBUG=False, LIANQING_DEMO=True)
def test_demo_accounts_work_when_demo_is_on(client, tree):
    UserFactory(username="county", organisation=tree.banner, is_demo=True)
    assert _login(client, "county", PASSWORD).status_code == 302


def test_logout_is_a_post_and_ends_the_session(client, tree):
    client.force_login(tree.owner)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_password_change_page_is_chinese(client, tree):
    client.force_login(tree.owner)
    response = client.get(reverse("password_change"))
    assert response.status_code == 200
    assert "修改密码" in response.text
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Neu-Passwort-2026", "new_password2": "x"},
    )
    assert response.status_code == 200
    assert "is-invalid" in response.text


def test_english_can_be_chosen(client, tree):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    page = client.get("/accounts/login/")
    assert 'lang="en"' in page.text
    assert "Log in" in page.text


def test_unknown_url_gets_styled_chinese_404(client, tree):
    client.force_login(tree.owner)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在或您无权查看" in response.text
    assert "bootstrap" in response.text
